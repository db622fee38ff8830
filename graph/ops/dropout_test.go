package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestDropoutMaskIsTheFloat64Rule: FillDropoutMask drops exactly the
// elements for which rng.Float64() < p, the rule the masks were drawn with
// before it compared integers, so a seed gives the masks it always gave.
// The rates include 0, a rate below 2⁻⁵³ (rounds up to one draw in 2⁵³),
// and one just below 1.
func TestDropoutMaskIsTheFloat64Rule(t *testing.T) {
	for _, p := range []float64{0, 1e-17, 0.2, 0.5, 1.0 / 3, 0.999999} {
		keep := 1 / (1 - p)
		want := make([]float64, 10001)
		ref := rand.New(rand.NewPCG(4, 5))
		for i := range want {
			if ref.Float64() >= p {
				want[i] = keep
			}
		}
		m64 := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(len(want)))
		FillDropoutMask(rand.New(rand.NewPCG(4, 5)), m64, p)
		m32 := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(len(want)))
		FillDropoutMask(rand.New(rand.NewPCG(4, 5)), m32, p)
		got64, got32 := m64.Float64s(), m32.Float32s()
		for i := range want {
			if got64[i] != want[i] || got32[i] != float32(want[i]) {
				t.Fatalf("p=%v: element %d is %v / %v, want %v", p, i, got64[i], got32[i], want[i])
			}
		}
	}
}

// TestDropoutMaskRate checks the share of dropped elements: for n = 100,000
// draws at p = 0.2 the standard deviation of the share is √(p(1−p)/n) ≈
// 0.0013, so 0.01 is more than 7 of them.
func TestDropoutMaskRate(t *testing.T) {
	m := make([]float32, 100000)
	fillDropoutMask(rand.New(rand.NewPCG(1, 2)), m, 0.2, 1.25)
	dropped := 0
	for _, v := range m {
		switch v {
		case 0:
			dropped++
		case 1.25:
		default:
			t.Fatalf("mask value %v, want 0 or 1.25", v)
		}
	}
	if share := float64(dropped) / float64(len(m)); math.Abs(share-0.2) > 0.01 {
		t.Errorf("dropped %.4f of the elements, want 0.2", share)
	}
}

// TestDropoutOpsHashApart: ops differing in name, rate, shape or dtype hash
// differently (Gorgonia's own Dropout(x, .1) and Dropout(x, .9) hash
// alike: docs/GORGONIA.md#identical-nodes-merge).
func TestDropoutOpsHashApart(t *testing.T) {
	hashesApart(t,
		newDropoutOp[float32](DropoutConfig{Name: "a", P: 0.1}, []int{4, 3}),
		newDropoutOp[float32](DropoutConfig{Name: "a", P: 0.9}, []int{4, 3}),
		newDropoutOp[float32](DropoutConfig{Name: "b", P: 0.1}, []int{4, 3}),
		newDropoutOp[float32](DropoutConfig{Name: "a", P: 0.1}, []int{3, 4}),
		newDropoutOp[float64](DropoutConfig{Name: "a", P: 0.1}, []int{4, 3}))
}
