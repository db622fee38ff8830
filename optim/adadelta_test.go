package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

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

// TestVectorKernelsMatchScalar: the float32 kernels that run eight
// elements at a time (adamKernel32, adadeltaKernel32) give the scalar
// generic kernels' bits, for lengths that leave a scalar tail.
func TestVectorKernelsMatchScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := func(n int, scale float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * scale)
		}
		return x
	}
	pos := func(x []float32) []float32 {
		for i, v := range x {
			x[i] = float32(math.Abs(float64(v)))
		}
		return x
	}
	for _, n := range []int{1, 7, 8, 9, 1001} {
		w, g, s1, s2 := vals(n, 1), vals(n, 0.1), vals(n, 0.01), pos(vals(n, 0.001))
		type kernel struct {
			name           string
			vector, scalar func(w, g, a, b []float32)
		}
		ak := makeAdamCoef[float32](0.9, 1e-4, 1, 0.9, 0.999, 1e-3/(1-0.9), 1/math.Sqrt(1-0.999), 1e-8)
		dk := makeAdadeltaCoef[float32](0.9, 1e-4, 0.9, 1e-6, 1)
		for _, k := range []kernel{
			{"adam", func(w, g, a, b []float32) { adamKernel32(w, g, a, b, &ak) }, func(w, g, a, b []float32) { adamKernel(w, g, a, b, &ak) }},
			{"adadelta", func(w, g, a, b []float32) { adadeltaKernel32(w, g, a, b, &dk) }, func(w, g, a, b []float32) { adadeltaKernel(w, g, a, b, &dk) }},
		} {
			cp := func(x []float32) []float32 { return append([]float32(nil), x...) }
			vw, vg, va, vb := cp(w), cp(g), cp(s1), pos(cp(s2))
			sw, sg, sa, sb := cp(w), cp(g), cp(s1), pos(cp(s2))
			if k.name == "adadelta" {
				va, sa = pos(va), pos(sa) // both adadelta states are averages of squares
			}
			k.vector(vw, vg, va, vb)
			k.scalar(sw, sg, sa, sb)
			for i := range vw {
				if math.Float32bits(vw[i]) != math.Float32bits(sw[i]) || math.Float32bits(va[i]) != math.Float32bits(sa[i]) ||
					math.Float32bits(vb[i]) != math.Float32bits(sb[i]) || vg[i] != 0 || sg[i] != 0 {
					t.Fatalf("%s n=%d: element %d vector (%v %v %v %v), scalar (%v %v %v %v)", k.name, n, i,
						vw[i], vg[i], va[i], vb[i], sw[i], sg[i], sa[i], sb[i])
				}
			}
		}
	}
}
