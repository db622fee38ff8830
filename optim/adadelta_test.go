package optim

import "testing"

// Reference numbers: adadelta.go's rule evaluated in float64 by hand (a
// Python calculator), not by this package.
func TestAdadeltaSteps(t *testing.T) {
	g := [][]float64{{0.5, -0.1}, {0.5, 0.3}}
	runStepCases(t, []stepCase{
		{
			name: "adadelta", cfg: Config{Name: "adadelta"}, lr: 1, w0: []float64{1, -2}, grads: g,
			// ρ = 0.9, ε = 1e-6, u starts at 0.
			// t=1: v = 0.1·g1² = (0.025, 0.001)
			//   δ = √(0+1e-6)/√(v+1e-6)·g = (0.001/0.158117·0.5, 0.001/0.0316386·−0.1) = (0.0031622144, −0.0031606977)
			//   u = 0.1·δ² = (9.99959e-7, 9.99001e-7)
			// t=2: v = (0.0225+0.025, 0.0009+0.009) = (0.0475, 0.0099)
			//   δ = (√(1.99996e-6)/√0.047501·0.5, √(1.999e-6)/√0.009901·0.3) = (0.0032443618, 0.0042627340)
			want: [][]float64{{0.9968377855834876, -1.996839302293795}, {0.9935934237550185, -2.001102036265088}},
		},
		{
			name: "adadelta weight decay", cfg: Config{Name: "adadelta", WeightDecay: 0.1}, lr: 1, w0: []float64{1, -2}, grads: g[:1],
			// g = g1 + 0.1·w = (0.6, −0.3); v = 0.1·g² = (0.036, 0.009)
			// δ = (0.001/√0.036001·0.6, 0.001/√0.009001·−0.3) = (0.0031622338, −0.0031621020)
			want: [][]float64{{0.9968377662594397, -1.996837898007285}},
		},
	})
}
