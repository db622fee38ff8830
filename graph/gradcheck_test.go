package graph

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradTol is the largest error accepted between symbolic gradients and
// central differences with h = 1e-6 in float64: truncation error is O(h²)
// ≈ 1e-12 and rounding O(ε/h) ≈ 1e-10, so 1e-6 leaves a wide margin while
// catching any real mistake (a wrong gradient is off by O(1)).
const gradTol = 1e-6

func TestLayerGradients(t *testing.T) {
	cases := []struct {
		name     string
		layer    Layer
		in       []int
		training bool
	}{
		{"dense", Dense{Name: "fc", In: 5, Out: 3}, []int{5}, true},
		{"dense-nobias", Dense{Name: "fc", In: 4, Out: 2, NoBias: true}, []int{4}, true},
		{"relu", ReLU{}, []int{6}, true},
		{"leaky-relu", LeakyReLU{Alpha: 0.1}, []int{6}, true},
		{"sigmoid", Sigmoid{}, []int{6}, true},
		{"tanh", Tanh{}, []int{6}, true},
		{"dropout-train", Dropout{Name: "drop", P: 0.3}, []int{8}, true},
		{"dropout-infer", Dropout{Name: "drop", P: 0.3}, []int{8}, false},
		{"flatten", NewSequential(Flatten{}, Dense{Name: "fc", In: 12, Out: 2}), []int{3, 2, 2}, true},
		{"reshape", NewSequential(Reshape{Shape: []int{2, 3}}, Flatten{}, Dense{Name: "fc", In: 6, Out: 2}), []int{6}, true},
		{"mlp", NewSequential(
			Dense{Name: "fc1", In: 4, Out: 5}, ReLU{}, Dropout{Name: "d1", P: 0.2},
			Dense{Name: "fc2", In: 5, Out: 3}, Tanh{}), []int{4}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			res, err := CheckLayer(c.layer, c.in, 3, c.training, rng)
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol {
				t.Errorf("gradient mismatch %.3g > %g at %s", res.MaxRelErr, gradTol, res.Worst)
			}
			if res.Checked == 0 {
				t.Error("nothing checked")
			}
		})
	}
}

// TestGradCheckCatchesWrongGradient makes sure the checker passes a right
// gradient and fails a wrong one: Gorgonia's own Dropout, whose backward
// divides by p instead of 1−p and whose mask changes at every run
// (docs/GORGONIA.md#dropout-is-wrong), so its gradient is not the derivative of what it
// computes.
func TestGradCheckCatchesWrongGradient(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	res, err := GradCheck([]*tensor.Dense{x}, []string{"x"}, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
		sq, err := G.Square(in[0])
		if err != nil {
			return nil, err
		}
		return G.Sum(sq)
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > gradTol {
		t.Fatalf("square: %v", res.Worst)
	}
	// Gorgonia's Dropout with p = 0.3: its backward divides by p.
	x2 := tensor.New(tensor.WithShape(1, 200), tensor.Of(tensor.Float64))
	_ = Uniform{Low: 1, High: 2}.Fill(rand.New(rand.NewPCG(5, 6)), x2, 0, 0)
	res, err = GradCheck([]*tensor.Dense{x2}, []string{"x"}, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
		d, err := G.Dropout(in[0], 0.3)
		if err != nil {
			return nil, err
		}
		return G.Sum(d)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Gorgonia's mask is redrawn at every run, so the finite differences
	// and the gradient disagree wildly either way; what matters is that
	// the checker reports a mismatch rather than passing.
	if res.MaxRelErr <= gradTol {
		t.Errorf("the checker passed Gorgonia's broken dropout (max err %.3g)", res.MaxRelErr)
	}
}
