package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// TestReLUByHand checks the forward pass and the gradient on values either
// side of 0 and at 0, where the subgradient is 1 as in Gorgonia's Rectify
// (x ⊙ [x ≥ 0]). With the cost Σ relu(x) ⊙ [1, 2, …, 6], dx is the weight
// where x ≥ 0 and 0 elsewhere.
func TestReLUByHand(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 3, -1e-30}
	wantY := []float64{0, 0, 0, 0.5, 3, 0}
	wantDx := []float64{0, 0, 3, 4, 5, 0}
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			g := G.NewGraph()
			shape := []int{2, 3}
			xn := G.NewTensor(g, dt, 2, G.WithShape(shape...), G.WithName("x"), G.WithValue(tensorOf(dt, shape, x)))
			wn := G.NewTensor(g, dt, 2, G.WithShape(shape...), G.WithName("w"),
				G.WithValue(tensorOf(dt, shape, []float64{1, 2, 3, 4, 5, 6})))
			y, err := ReLU(xn)
			if err != nil {
				t.Fatal(err)
			}
			var yv G.Value
			G.Read(y, &yv)
			cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, wn))))
			if _, err := G.Grad(cost, xn); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g, G.BindDualValues(xn))
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			sameBits(t, float64s(t, yv), wantY)
			dx, err := xn.Grad()
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, float64s(t, dx), wantDx)
		})
	}
}

// TestReLUPassesNaN: a NaN input stays NaN, as with Gorgonia's Rectify, so
// that a diverging network shows NaN logits rather than silent zeros.
func TestReLUPassesNaN(t *testing.T) {
	y32 := make([]float32, 3)
	reluForward(y32, []float32{float32(math.NaN()), -1, 2})
	y64 := make([]float64, 3)
	reluForward(y64, []float64{math.NaN(), -1, 2})
	if !math.IsNaN(float64(y32[0])) || y32[1] != 0 || y32[2] != 2 {
		t.Errorf("float32: relu(NaN, −1, 2) = %v", y32)
	}
	if !math.IsNaN(y64[0]) || y64[1] != 0 || y64[2] != 2 {
		t.Errorf("float64: relu(NaN, −1, 2) = %v", y64)
	}
}

// TestFloat32KernelsMatchLoops: the float32 ReLU and product kernels (16
// elements at a time on AVX-512) give the Go loops' bits, special values
// and partial vectors included, and write nothing past their length.
func TestFloat32KernelsMatchLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), -1e-40, 1e-40}
	for _, n := range []int{0, 1, 15, 16, 17, 31, 33, 1000} {
		x, dy, b := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], dy[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if rng.IntN(4) == 0 {
				x[i] = special[rng.IntN(len(special))]
			}
		}
		const guard = 3
		for _, k := range []struct {
			name      string
			fast, ref func(dst []float32)
		}{
			{"relu", func(d []float32) { reluForwardVec32(d, x) }, func(d []float32) { reluForward32(d, x) }},
			{"relu dx", func(d []float32) { reluBackwardVec32(d, x, dy) }, func(d []float32) { reluBackward32(d, x, dy) }},
			{"mul", func(d []float32) { mul32(d, x, b) }, func(d []float32) { mulInto(d, x, b) }},
		} {
			got, want := make([]float32, n+guard), make([]float32, n+guard)
			for i := range got {
				got[i], want[i] = 7, 7
			}
			k.fast(got[:n])
			k.ref(want[:n])
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n=%d: element %d = %v (%08x), loop gives %v (%08x)", k.name, n, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	}
}
