package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// xentRun builds CrossEntropy{}.Build(logits, targets)·scale, runs it with
// the gradient of both inputs, and returns the loss and the gradients.
func xentRun(t *testing.T, dt tensor.Dtype, shape []int, logits, targets []float64, scale float64) (loss float64, dx, dy []float64) {
	t.Helper()
	g := G.NewGraph()
	xt := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	yt := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	opTestFill(t, xt, logits)
	opTestFill(t, yt, targets)
	x := G.NewTensor(g, dt, 2, G.WithShape(shape...), G.WithName("x"), G.WithValue(xt))
	y := G.NewTensor(g, dt, 2, G.WithShape(shape...), G.WithName("y"), G.WithValue(yt))
	l, err := CrossEntropy{}.Build(x, y)
	if err != nil {
		t.Fatal(err)
	}
	var lv G.Value
	G.Read(l, &lv)
	cost := G.Must(G.Mul(l, G.NewConstant(castScalar(dt, scale))))
	if _, err := G.Grad(cost, x, y); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(x, y))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	loss, err = scalarOf(lv)
	if err != nil {
		t.Fatal(err)
	}
	gx, _ := x.Grad()
	gy, _ := y.Grad()
	return loss, toFloat64s(gx.(*tensor.Dense)), toFloat64s(gy.(*tensor.Dense))
}

// TestCrossEntropyByHand: row 0 has logits log[1, 2, 3, 4], so softmax
// [.1, .2, .3, .4], and label 3: loss −log .4 = log 2.5. Row 1 has equal
// logits and label 1: loss log 4. The mean is (log 2.5 + log 4)/2 =
// log(10)/2. The logits' gradient is (softmax − y)/B, here times 3 for a
// cost of 3·loss; the targets' is −3·log softmax/B.
func TestCrossEntropyByHand(t *testing.T) {
	logits := []float64{0, math.Log(2), math.Log(3), math.Log(4), 0, 0, 0, 0}
	targets := []float64{0, 0, 0, 1, 0, 1, 0, 0}
	wantDx := []float64{0.1, 0.2, 0.3, 0.4 - 1, 0.25, 0.25 - 1, 0.25, 0.25}
	wantDy := []float64{math.Log(10), math.Log(5), math.Log(10.0 / 3), math.Log(2.5), math.Log(4), math.Log(4), math.Log(4), math.Log(4)}
	for i := range wantDx {
		wantDx[i] *= 3.0 / 2
		wantDy[i] *= 3.0 / 2
	}
	for _, dt := range []tensor.Dtype{Float32, Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			tol := 1e-12
			if dt == Float32 {
				tol = 1e-6 // float32 rounding of the logits and gradients
			}
			loss, dx, dy := xentRun(t, dt, []int{2, 4}, logits, targets, 3)
			opTestClose(t, []float64{loss}, []float64{math.Log(10) / 2}, tol)
			opTestClose(t, dx, wantDx, tol)
			opTestClose(t, dy, wantDy, tol)
		})
	}
}

// TestCrossEntropyMatchesLogSoftmax compares the fused op with the
// elementary-op composite −(1/B) Σ y ⊙ LogSoftmax(x) on random logits and
// soft targets (rows that do not sum to 1, so the Σy factor of the
// gradient is exercised), in float64: loss and both gradients agree to
// rounding.
func TestCrossEntropyMatchesLogSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	const b, c = 5, 7
	logits, targets := make([]float64, b*c), make([]float64, b*c)
	for i := range logits {
		logits[i] = rng.NormFloat64() * 4
		targets[i] = rng.Float64()
	}
	loss, dx, dy := xentRun(t, Float64, []int{b, c}, logits, targets, 1)

	g := G.NewGraph()
	xt := tensor.New(tensor.WithShape(b, c), tensor.WithBacking(append([]float64(nil), logits...)))
	yt := tensor.New(tensor.WithShape(b, c), tensor.WithBacking(append([]float64(nil), targets...)))
	x := G.NewTensor(g, Float64, 2, G.WithShape(b, c), G.WithName("x"), G.WithValue(xt))
	y := G.NewTensor(g, Float64, 2, G.WithShape(b, c), G.WithName("y"), G.WithValue(yt))
	lp, err := LogSoftmax(x)
	if err != nil {
		t.Fatal(err)
	}
	ref := G.Must(G.Mul(G.Must(G.Sum(G.Must(G.HadamardProd(lp, y)))), G.NewConstant(-1.0/b)))
	var rv G.Value
	G.Read(ref, &rv)
	if _, err := G.Grad(ref, x, y); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(x, y))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	want, _ := scalarOf(rv)
	gx, _ := x.Grad()
	gy, _ := y.Grad()
	opTestClose(t, []float64{loss}, []float64{want}, 1e-12)
	opTestClose(t, dx, toFloat64s(gx.(*tensor.Dense)), 1e-12)
	opTestClose(t, dy, toFloat64s(gy.(*tensor.Dense)), 1e-12)
}

// TestCrossEntropyGradientScaled checks the op's gradients against central
// differences when the loss is not the cost itself but scaled by 2.5, so
// that the incoming scalar gradient is used, not assumed to be 1.
func TestCrossEntropyGradientScaled(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	logits := tensor.New(tensor.WithShape(3, 4), tensor.Of(tensor.Float64))
	targets := tensor.New(tensor.WithShape(3, 4), tensor.Of(tensor.Float64))
	_ = Uniform{Low: -3, High: 3}.Fill(rng, logits, 0, 0)
	_ = Uniform{Low: 0, High: 1}.Fill(rng, targets, 0, 0)
	res, err := GradCheck([]*tensor.Dense{logits, targets}, []string{"logits", "targets"}, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
		l, err := CrossEntropy{}.Build(in[0], in[1])
		if err != nil {
			return nil, err
		}
		return G.Mul(l, G.NewConstant(2.5))
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > gradTol {
		t.Errorf("gradient mismatch %.3g at %s", res.MaxRelErr, res.Worst)
	}
}
