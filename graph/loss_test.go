package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	logits := tensor.New(tensor.WithShape(4, 5), tensor.Of(tensor.Float64))
	_ = Uniform{Low: -3, High: 3}.Fill(rng, logits, 0, 0)
	// Soft targets (rows sum to 1) check the general form, not only one-hot.
	targets := tensor.New(tensor.WithShape(4, 5), tensor.Of(tensor.Float64))
	_ = Uniform{Low: 0, High: 1}.Fill(rng, targets, 0, 0)
	td := targets.Data().([]float64)
	for r := 0; r < 4; r++ {
		s := 0.0
		for _, v := range td[r*5 : r*5+5] {
			s += v
		}
		for i := r * 5; i < r*5+5; i++ {
			td[i] /= s
		}
	}
	for _, c := range []struct {
		name string
		loss Loss
	}{{"cross-entropy", CrossEntropy{}}} { // the point losses: losses_test.go
		t.Run(c.name, func(t *testing.T) {
			res, err := GradCheck([]*tensor.Dense{logits, targets}, []string{"logits", "targets"}, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
				return c.loss.Build(in[0], in[1])
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol {
				t.Errorf("gradient mismatch %.3g at %s", res.MaxRelErr, res.Worst)
			}
		})
	}
	t.Run("log-softmax", func(t *testing.T) {
		w := tensor.New(tensor.WithShape(4, 5), tensor.Of(tensor.Float64))
		_ = Uniform{Low: -1, High: 1}.Fill(rng, w, 0, 0)
		res, err := GradCheck([]*tensor.Dense{logits}, []string{"logits"}, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			lp, err := LogSoftmax(in[0])
			if err != nil {
				return nil, err
			}
			wn := G.NewTensor(g, tensor.Float64, 2, G.WithShape(4, 5), G.WithName("w"), G.WithValue(w))
			return G.Sum(G.Must(G.HadamardProd(lp, wn)))
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.MaxRelErr > gradTol {
			t.Errorf("gradient mismatch %.3g at %s", res.MaxRelErr, res.Worst)
		}
	})
}

// TestCrossEntropyExtremeLogits checks the loss and its gradient on logits of
// ±1000, where Gorgonia's softmax overflows
// (docs/GORGONIA.md#softmax-overflows). Expected
// values by hand: row 0 = [1000, 0, -1000] with label 0 has loss
// log(1 + e^-1000 + e^-2000) ≈ 0; row 1 = [-1000, 1000, 0] with label 0 has
// loss 2000 (its logit is 2000 below the max, the rest is negligible).
// The mean is 1000; the gradient is (softmax − y)/B = row 0 ≈ 0, row 1 ≈
// [−1, 1, 0]/2.
func TestCrossEntropyExtremeLogits(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			g := G.NewGraph()
			xv := tensor.New(tensor.WithShape(2, 3), tensor.Of(dt))
			yv := tensor.New(tensor.WithShape(2, 3), tensor.Of(dt))
			for i, v := range []float64{1000, 0, -1000, -1000, 1000, 0} {
				xv.Set(i, castScalar(dt, v))
			}
			yv.Set(0, castScalar(dt, 1))
			yv.Set(3, castScalar(dt, 1))
			x := G.NewTensor(g, dt, 2, G.WithShape(2, 3), G.WithName("x"), G.WithValue(xv))
			y := G.NewTensor(g, dt, 2, G.WithShape(2, 3), G.WithName("y"), G.WithValue(yv))
			loss, err := CrossEntropy{}.Build(x, y)
			if err != nil {
				t.Fatal(err)
			}
			var lv G.Value
			G.Read(loss, &lv)
			if _, err := G.Grad(loss, x); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g, G.BindDualValues(x))
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			l, _ := scalarOf(lv)
			if math.Abs(l-1000) > 1e-3 {
				t.Errorf("loss = %v, want 1000", l)
			}
			gv, _ := x.Grad()
			got := toFloat64s(gv.(*tensor.Dense))
			want := []float64{0, 0, 0, -0.5, 0.5, 0}
			for i := range want {
				if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > 1e-6 {
					t.Errorf("grad[%d] = %v, want %v (all %v)", i, got[i], want[i], got)
				}
			}
		})
	}
}

// castScalar converts v to dt's Go type, for tests that build constants.
func castScalar(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}
