package optim_test

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/optim"
)

// The worked example of docs/math.md: two Adam steps on a two-element
// parameter, worked out by hand in the textbook form — the moments m and v,
// their bias corrections m̂ = m/(1 − β1ᵗ) and v̂ = v/(1 − β2ᵗ), and
// w −= lr·m̂/(√v̂ + ε) — beside optim's, which computes the same rule in
// PyTorch's arrangement. Without the corrections the first step would be
// about 3 times lr, since m starts at 0 and v much further below its mean.
func Example_adamStep() {
	const lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
	grads := [][]float64{{0.5, -0.1}, {0.5, 0.3}}

	w := []float64{1, -2}
	m, v := make([]float64, 2), make([]float64, 2)
	for t, g := range grads {
		step := float64(t + 1)
		var raw [2]float64 // the first element's update with and without the corrections
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			mhat := m[i] / (1 - math.Pow(b1, step))
			vhat := v[i] / (1 - math.Pow(b2, step))
			if i == 0 {
				raw = [2]float64{lr * mhat / (math.Sqrt(vhat) + eps), lr * m[i] / (math.Sqrt(v[i]) + eps)}
			}
			w[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
		}
		fmt.Printf("by hand, step %d: w [%.9f %.9f]  (w[0]'s update %.4f; uncorrected %.4f)\n", t+1, w[0], w[1], raw[0], raw[1])
	}

	wt := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, -2}))
	gt := tensor.New(tensor.WithShape(2), tensor.WithBacking(make([]float64, 2)))
	params := []optim.Param{{Name: "w", Value: wt, Grad: gt}}
	opt, err := optim.New(optim.Config{Name: "adam", LR: lr})
	if err != nil {
		fmt.Println(err)
		return
	}
	for t, g := range grads {
		copy(gt.Float64s(), g) // as the tape machine fills it
		if err := opt.Step(params, lr); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("optim,   step %d: w [%.9f %.9f]\n", t+1, wt.Float64s()[0], wt.Float64s()[1])
	}
	// Output:
	// by hand, step 1: w [0.900000002 -1.900000010]  (w[0]'s update 0.1000; uncorrected 0.3162)
	// by hand, step 2: w [0.800000004 -1.949418991]  (w[0]'s update 0.1000; uncorrected 0.4250)
	// optim,   step 1: w [0.900000002 -1.900000010]
	// optim,   step 2: w [0.800000004 -1.949418991]
}
