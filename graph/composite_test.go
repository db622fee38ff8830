package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestNewLayerGradients checks the layers beyond a chain, and the ones
// built from Gorgonia nodes, against central differences in float64.
func TestNewLayerGradients(t *testing.T) {
	for _, c := range []struct {
		name  string
		layer Layer
		in    []int
	}{
		{"identity", Identity{}, []int{4}},
		{"layer-norm", LayerNorm{Name: "ln", Features: 5}, []int{5}},
		{"residual", Residual{Body: NewSequential(Dense{Name: "fc1", In: 4, Out: 4}, Tanh{})}, []int{4}},
		{"residual-projected", Residual{Body: Dense{Name: "fc1", In: 4, Out: 3}, Shortcut: Dense{Name: "proj", In: 4, Out: 3, NoBias: true}}, []int{4}},
		{"concat", Concat{Branches: []Layer{Dense{Name: "a", In: 4, Out: 2}, NewSequential(Dense{Name: "b", In: 4, Out: 3}, Sigmoid{})}}, []int{4}},
		{"global-avg-pool", GlobalAvgPool2D{}, []int{3, 4, 5}},
		{"rescale", Rescale{Scale: []float64{2, -0.5, 3}, Shift: []float64{1, 0, -4}}, []int{3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := CheckLayer(c.layer, c.in, 3, true, rand.New(rand.NewPCG(4, 5)))
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol || res.Checked == 0 {
				t.Errorf("gradient mismatch %.3g > %g at %s (%d checked)", res.MaxRelErr, gradTol, res.Worst, res.Checked)
			}
		})
	}
	m := Merge{Branches: []Layer{Dense{Name: "a", In: 3, Out: 2}, NewSequential(Dense{Name: "b", In: 5, Out: 2}, Tanh{})}}
	for _, mode := range []string{"concat", "add"} {
		m.Mode = mode
		res, err := CheckLayerN(m, [][]int{{3}, {5}}, 2, true, rand.New(rand.NewPCG(6, 7)))
		if err != nil {
			t.Fatal(err)
		}
		if res.MaxRelErr > gradTol {
			t.Errorf("merge %s: gradient mismatch %.3g at %s", mode, res.MaxRelErr, res.Worst)
		}
	}
}

// TestLayerNormByHand: each row normalized to mean 0 and variance 1 (before
// weight and bias), as worked out for [1, 2, 3, 6]: mean 3, biased variance
// (4+1+0+9)/4 = 3.5.
func TestLayerNormByHand(t *testing.T) {
	arch := Arch{Net: LayerNorm{Name: "ln", Features: 4, Eps: 1e-12}, InShape: []int{4}, Loss: MSE{}}
	m, err := NewModel(arch, Float64, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict([]float32{1, 2, 3, 6})
	if err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(3.5)
	for i, x := range []float64{1, 2, 3, 6} {
		if want := (x - 3) / sd; math.Abs(got[i]-want) > 1e-9 {
			t.Errorf("y[%d] = %v, want %v", i, got[i], want)
		}
	}
}

// TestMultiInputModel: a model of two inputs, trained a step and predicted,
// computes the sum of its branches.
func TestMultiInputModel(t *testing.T) {
	arch := Arch{
		Net: NewSequential(Merge{Branches: []Layer{Dense{Name: "a", In: 2, Out: 3}, Dense{Name: "b", In: 1, Out: 3}}, Mode: "add"},
			ReLU{}, Dense{Name: "out", In: 3, Out: 1}),
		Inputs: []Input{{Name: "left", Shape: []int{2}}, {Name: "right", Shape: []int{1}}},
		Loss:   MSE{},
	}
	m, err := NewModel(arch, Float64, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.PredictN([][]float32{{1, 2, 3, 4}, {5, 6}})
	if err != nil || len(y) != 2 {
		t.Fatalf("predict: %v, %v", y, err)
	}
	if _, err := m.Predict([]float32{1, 2}); err == nil || !strings.Contains(err.Error(), "PredictN") {
		t.Errorf("Predict on two inputs: %v", err)
	}
	if _, err := m.PredictN([][]float32{{1, 2}, {5, 6}}); err == nil || !strings.Contains(err.Error(), "examples") {
		t.Errorf("inputs of different lengths: %v", err)
	}
	p, err := m.Train(2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Inputs) != 2 || p.Y.Shape()[1] != 1 {
		t.Fatalf("training program inputs %d, targets %v", len(p.Inputs), p.Y.Shape())
	}
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Params(); err != nil {
		t.Fatal(err)
	}
}

func TestCompositeShapeErrors(t *testing.T) {
	for _, c := range []struct {
		layer Layer
		in    []int
		want  string
	}{
		{Residual{Body: Dense{Name: "fc", In: 4, Out: 3}}, []int{4}, "must be equal to be added"},
		{Residual{}, []int{4}, "no body"},
		{Concat{}, []int{4}, "no branches"},
		{Concat{Branches: []Layer{Identity{}, Flatten{}}}, []int{2, 3}, "does not join"},
		{Merge{Branches: []Layer{Identity{}}, Mode: "mul"}, []int{2}, "mode"},
		{LayerNorm{Name: "ln", Features: 3}, []int{4}, "expects input [3]"},
		{GlobalAvgPool2D{}, []int{4}, "[C, H, W]"},
		{Rescale{Scale: []float64{0}, Shift: []float64{1}}, []int{1}, "scale not 0"},
	} {
		if _, err := c.layer.OutShape(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T on %v: %v, want %q", c.layer, c.in, err, c.want)
		}
	}
}
