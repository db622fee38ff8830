package optim

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"
)

// The gradients of these cases are g1 = (0.5, −0.1), g2 = (0.5, 0.3) and the
// reference numbers are the rules of adam.go evaluated in float64 by hand
// (a Python calculator), not by this package.
func TestAdamSteps(t *testing.T) {
	g := [][]float64{{0.5, -0.1}, {0.5, 0.3}}
	runStepCases(t, []stepCase{
		{
			name: "adam", cfg: Config{Name: "adam"}, lr: 0.1, w0: []float64{1, -2}, grads: g,
			// t=1: m = 0.1·g1, v = 0.001·g1²; m̂ = g1, v̂ = g1², so the step is
			//   0.1·g/(|g|+1e-8): 0.1·0.5/0.50000001 = 0.099999998, 0.1·0.1/0.10000001 = 0.0999999900
			// t=2: m = (0.045+0.05, −0.009+0.03) = (0.095, 0.021)
			//   v = (0.999·0.00025+0.001·0.25, 0.999·0.00001+0.001·0.09) = (0.00049975, 0.00009999)
			//   m̂ = m/0.19 = (0.5, 0.110526315789), v̂ = v/0.001999 = (0.25, 0.0500200100050)
			//   step = 0.1·m̂/(√v̂+1e-8) = (0.099999998, 0.1·0.110526315789/0.223651537)
			//   = (0.099999998, 0.0494189811)
			want: [][]float64{{0.900000002, -1.900000009999999}, {0.8000000040000006, -1.9494189911200654}},
		},
		{
			name: "adam L2", cfg: Config{Name: "adam", WeightDecay: 0.1}, lr: 0.1, w0: []float64{1, -2}, grads: g,
			// t=1: g = g1 + 0.1·w = (0.6, −0.3); step = 0.1·g/(|g|+1e-8) = (0.0999999983, −0.0999999967)
			// t=2: g = g2 + 0.1·w1 = (0.59, 0.11); m = (0.054+0.059, −0.027+0.011) = (0.113, −0.016)
			//   v = (0.999·0.00036+0.001·0.3481, 0.999·0.00009+0.001·0.0121) = (0.00070774, 0.00010201)
			//   step = 0.1·(m/0.19)/(√(v/0.001999)+1e-8) = (0.0999526612, −0.0372778955)
			want: [][]float64{{0.9000000016666666, -1.9000000033333333}, {0.8000473404883316, -1.8627221078108944}},
		},
		{
			name: "adamw", cfg: Config{Name: "adamw", WeightDecay: 0.1}, lr: 0.1, w0: []float64{1, -2}, grads: g,
			// Same moments and steps as "adam"; before each, w ·= 1 − 0.1·0.1 = 0.99:
			// t=1: (0.99−0.099999998, −1.98+0.099999990)
			// t=2: (0.99·0.890000002 − 0.099999998, 0.99·−1.88000001 − 0.0494189811)
			want: [][]float64{{0.890000002, -1.880000009999999}, {0.7811000039800006, -1.9106189910200655}},
		},
		{
			name: "adamw default decay", cfg: Config{Name: "adamw"}, lr: 0.1, w0: []float64{1, -2}, grads: g[:1],
			// wd defaults to 0.01: w ·= 1 − 0.1·0.01 = 0.999, then the "adam" step:
			// (0.999−0.099999998, −1.998+0.099999990)
			want: [][]float64{{0.899000002, -1.898000009999999}},
		},
	})
}

// TestAdamWDecaysWeights contrasts Gorgonia's AdamW, which leaves the
// weights unchanged (docs/GORGONIA.md#adamw-never-changes-the-weights):
// with zero gradients, AdamW's moments stay zero and the update is the
// decay alone, w·(1 − lr·wd) each step.
func TestAdamWDecaysWeights(t *testing.T) {
	for _, dt := range dtypes {
		opt, _ := New(Config{Name: "adamw", WeightDecay: 0.5})
		p := newParam(dt, "w", []int{2}, []float64{2, -4})
		for range 2 {
			if err := opt.Step([]Param{p}, 0.1); err != nil {
				t.Fatal(err)
			}
		}
		// two steps of ·(1 − 0.1·0.5) = ·0.95: 2·0.9025, −4·0.9025
		want := []float64{1.805, -3.61}
		for i, w := range getData(p.Value) {
			if !close(w, want[i], tolerance(dt)) {
				t.Errorf("%v: w[%d] = %v, want %v", dt, i, w, want[i])
			}
		}
	}
}

// TestAdamWDiffersFromAdamL2: the same weight decay coefficient, coupled (adam)
// or decoupled (adamw), gives different weights (the point of AdamW).
func TestAdamWDiffersFromAdamL2(t *testing.T) {
	run := func(name string) []float64 {
		opt, _ := New(Config{Name: name, WeightDecay: 0.1})
		p := newParam(tensor.Float64, "w", []int{2}, []float64{1, -2})
		setData(p.Grad, []float64{0.5, -0.1})
		if err := opt.Step([]Param{p}, 0.1); err != nil {
			t.Fatal(err)
		}
		return getData(p.Value)
	}
	a, w := run("adam"), run("adamw")
	if fmt.Sprint(a) == fmt.Sprint(w) {
		t.Errorf("adam with L2 and adamw gave the same weights %v", a)
	}
}
