package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// pointLosses are the losses that compare each output with its own target.
var pointLosses = []struct {
	name string
	loss Loss
}{{"mse", MSE{}}, {"mae", MAE{}}, {"huber", Huber{Delta: 0.7}}, {"sigmoid-cross-entropy", SigmoidCrossEntropy{}}}

func TestPointLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	out := tensor.New(tensor.WithShape(4, 3), tensor.Of(tensor.Float64))
	_ = Uniform{Low: -3, High: 3}.Fill(rng, out, 0, 0)
	targets := tensor.New(tensor.WithShape(4, 3), tensor.Of(tensor.Float64))
	_ = Uniform{Low: 0, High: 1}.Fill(rng, targets, 0, 0)
	for _, c := range pointLosses {
		t.Run(c.name, func(t *testing.T) {
			res, err := GradCheck([]*tensor.Dense{out}, []string{"outputs"}, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
				y := G.NewTensor(g, tensor.Float64, 2, G.WithShape(4, 3), G.WithName("targets"), G.WithValue(targets))
				return c.loss.Build(in[0], y)
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol || res.Checked != 12 {
				t.Errorf("gradient mismatch %.3g at %s (%d checked)", res.MaxRelErr, res.Worst, res.Checked)
			}
		})
	}
}

// TestPointLossValuesByHand: outputs [0.5, −2, 3, 1000, −1000] against
// targets [1, 0, 3, 1, 0], worked out element by element (the sigmoid
// cross-entropy of x against y is softplus(x) − x·y):
//
//	mse   (0.25 + 4 + 0 + 999² + 1000²)/5
//	mae   (0.5 + 2 + 0 + 999 + 1000)/5
//	huber δ=1: (0.125 + 1.5 + 0 + 998.5 + 999.5)/5
//	sigmoid: (log(1+e^0.5) − 0.5 + log(1+e^−2) + log(1+e^3) − 9 + ≈0 + ≈0)/5
//
// and the extreme logits stay finite, in float32 as in float64.
func TestPointLossValuesByHand(t *testing.T) {
	x := []float64{0.5, -2, 3, 1000, -1000}
	y := []float64{1, 0, 3, 1, 0}
	sp := func(v float64) float64 { return math.Log1p(math.Exp(v)) }
	want := map[string]float64{
		"mse":                   (0.25 + 4 + 0 + 999*999 + 1000*1000) / 5,
		"mae":                   (0.5 + 2 + 0 + 999 + 1000) / 5,
		"huber":                 (0.125 + 1.5 + 0 + 998.5 + 999.5) / 5,
		"sigmoid-cross-entropy": (sp(0.5) - 0.5 + sp(-2) + sp(3) - 9) / 5,
	}
	for _, c := range []struct {
		name string
		loss Loss
	}{{"mse", MSE{}}, {"mae", MAE{}}, {"huber", Huber{}}, {"sigmoid-cross-entropy", SigmoidCrossEntropy{}}} {
		for _, dt := range []tensor.Dtype{Float32, Float64} {
			g := G.NewGraph()
			xt, yt := tensor.New(tensor.Of(dt), tensor.WithShape(1, 5)), tensor.New(tensor.Of(dt), tensor.WithShape(1, 5))
			setFloat64s(xt, x)
			setFloat64s(yt, y)
			xn := G.NewTensor(g, dt, 2, G.WithShape(1, 5), G.WithName("x"), G.WithValue(xt))
			yn := G.NewTensor(g, dt, 2, G.WithShape(1, 5), G.WithName("y"), G.WithValue(yt))
			loss, err := c.loss.Build(xn, yn)
			if err != nil {
				t.Fatal(err)
			}
			var lv G.Value
			G.Read(loss, &lv)
			if _, err := G.Grad(loss, xn); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			got, _ := scalarOf(lv)
			tol := 1e-12 * math.Max(1, want[c.name])
			if dt == Float32 {
				tol = 1e-6 * math.Max(1, want[c.name])
			}
			if math.Abs(got-want[c.name]) > tol {
				t.Errorf("%s %v: loss %.12g, want %.12g", c.name, dt, got, want[c.name])
			}
			gv, _ := xn.Grad()
			for i, v := range toFloat64s(gv.(*tensor.Dense)) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("%s %v: gradient[%d] = %v", c.name, dt, i, v)
				}
			}
			vm.Close()
		}
	}
}

// TestSmoothActivationsByHand checks GELU, SiLU and Softplus against values
// worked out with the formulas in float64 (GELU(1) = Φ(1) = 0.841344746…),
// including softplus far out, where log(1 + eˣ) computed naively overflows
// or rounds to 0.
func TestSmoothActivationsByHand(t *testing.T) {
	xs := []float32{-800, -2, 0, 1, 800}
	phi := func(v float64) float64 { return 0.5 * (1 + math.Erf(v/math.Sqrt2)) }
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for _, c := range []struct {
		layer Layer
		f     func(float64) float64
	}{
		{GELU{}, func(v float64) float64 { return v * phi(v) }},
		{SiLU{}, func(v float64) float64 { return v * sig(v) }},
		{Softplus{}, func(v float64) float64 { return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) }},
	} {
		m, err := NewModel(Arch{Net: c.layer, InShape: []int{5}, Loss: MSE{}}, Float64, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict(xs)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			if want := c.f(float64(x)); math.Abs(got[i]-want) > 1e-12 || math.IsNaN(got[i]) {
				t.Errorf("%T(%v) = %v, want %v", c.layer, x, got[i], want)
			}
		}
		res, err := CheckLayer(c.layer, []int{7}, 3, true, rand.New(rand.NewPCG(1, 1)))
		if err != nil || res.MaxRelErr > gradTol {
			t.Errorf("%T: gradient mismatch %v at %s (%v)", c.layer, res.MaxRelErr, res.Worst, err)
		}
	}
	if got, _ := NewModel(Arch{Net: Softplus{}, InShape: []int{1}, Loss: MSE{}}, Float64, nil); got != nil {
		y, _ := got.Predict([]float32{-40})
		if y[0] <= 0 || math.Abs(y[0]-math.Exp(-40)) > 1e-25 {
			t.Errorf("softplus(−40) = %v, want e^−40 = %v", y[0], math.Exp(-40))
		}
	}
}

func TestClassifierProbabilities(t *testing.T) {
	out := []float64{0, math.Log(3), -1000, 1000}
	SigmoidCrossEntropy{}.Probabilities(out, 1)
	for i, want := range []float64{0.5, 0.75, 0, 1} {
		if math.Abs(out[i]-want) > 1e-12 {
			t.Errorf("sigmoid prob %d = %v, want %v", i, out[i], want)
		}
	}
	if err := (Huber{Delta: -1}).Check([]int{1}); err == nil || !strings.Contains(err.Error(), "delta") {
		t.Errorf("huber delta -1: %v", err)
	}
	m, _ := NewModel(Arch{Net: Dense{Name: "fc", In: 2, Out: 1}, InShape: []int{2}, Loss: MSE{}}, Float32, rand.New(rand.NewPCG(1, 1)))
	if _, err := m.Probabilities([]float32{1, 2}); err == nil || !strings.Contains(err.Error(), "not a classifier") {
		t.Errorf("probabilities of a regression: %v", err)
	}
}

// TestProbabilitiesByHand: softmax rows [0, ln 3] → [1/4, 3/4] and
// [1000, 0, −1000] → [1, 0, 0] (the row maximum keeps exp finite).
func TestProbabilitiesByHand(t *testing.T) {
	out := []float64{0, math.Log(3), 1000, 0, -1000}
	CrossEntropy{}.Probabilities(out[:2], 2)
	CrossEntropy{}.Probabilities(out[2:], 3)
	for i, want := range []float64{0.25, 0.75, 1, 0, 0} {
		if math.Abs(out[i]-want) > 1e-12 || math.IsNaN(out[i]) {
			t.Errorf("probability %d = %v, want %v", i, out[i], want)
		}
	}
	logits := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{0, float32(math.Log(3))}))
	if p := Softmax(logits); math.Abs(p[0]-0.25) > 1e-6 || math.Abs(p[1]-0.75) > 1e-6 {
		t.Errorf("Softmax = %v", p)
	}
}

// TestElementwiseLayersByHand: LeakyReLU, Sigmoid, Tanh and Rescale on
// [−2, 0.5], worked out from their formulas.
func TestElementwiseLayersByHand(t *testing.T) {
	for _, c := range []struct {
		layer Layer
		want  []float64
	}{
		{LeakyReLU{Alpha: 0.1}, []float64{-0.2, 0.5}},
		{LeakyReLU{}, []float64{-0.02, 0.5}}, // PyTorch's default slope 0.01
		{Sigmoid{}, []float64{1 / (1 + math.Exp(2)), 1 / (1 + math.Exp(-0.5))}},
		{Tanh{}, []float64{math.Tanh(-2), math.Tanh(0.5)}},
		{Rescale{Scale: []float64{3, -1}, Shift: []float64{1, 2}}, []float64{-5, 1.5}},
	} {
		m, err := NewModel(Arch{Net: c.layer, InShape: []int{2}, Loss: MSE{}}, Float64, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict([]float32{-2, 0.5})
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("%T: y[%d] = %v, want %v", c.layer, i, got[i], c.want[i])
			}
		}
	}
}
