package ops

import (
	"math/rand/v2"
	"testing"
)

// TestElemwiseSplitMatchesSerial: a kernel split over the workers gives the
// bits of one call over all the elements, for sizes around the split
// threshold and one that divides unevenly, and allocates nothing.
func TestElemwiseSplitMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{elemwiseMinPart - 1, 2 * elemwiseMinPart, 5*elemwiseMinPart + 3} {
		x, d := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], d[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		want, got := make([]float32, n), make([]float32, n)
		reluBackward(want, x, d)
		var e elemwise[float32]
		e.run(elemReLUGrad, got, x, d)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d: element %d is %v, want %v", n, i, got[i], want[i])
			}
		}
		if a := testing.AllocsPerRun(5, func() { e.run(elemReLUGrad, got, x, d) }); a != 0 {
			t.Errorf("n=%d: %v allocations per run, want 0", n, a)
		}
	}
}
