package ops

import (
	"math"
	"math/rand/v2"
	"runtime"
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

// TestPCGMatchesRand: the package's copy of math/rand/v2's PCG draws what
// rand.PCG draws, jump(n) lands where n draws do, and its state reads and
// writes through rand.PCG's encoding.
func TestPCGMatchesRand(t *testing.T) {
	if !pcgSourceReadable {
		t.Skip("rand.Rand's layout changed: masks are drawn through it")
	}
	ref := rand.NewPCG(7, 8)
	g := loadPCG(ref)
	start := g
	for i := range 1000 {
		if a, b := ref.Uint64(), g.uint64(); a != b {
			t.Fatalf("draw %d: rand.PCG %x, copy %x", i, a, b)
		}
	}
	for _, n := range []uint64{0, 1, 2, 3, 999, 1000} {
		s := start
		for range n {
			s.uint64()
		}
		if j := start.jump(n); j != s {
			t.Errorf("jump(%d) = %v, %d draws give %v", n, j, n, s)
		}
	}
	if got := loadPCG(ref); got != start.jump(1000) {
		t.Errorf("state after 1000 draws %v, want %v", got, start.jump(1000))
	}
	storePCG(ref, start)
	if loadPCG(ref) != start {
		t.Error("storePCG did not set the state")
	}
	if pcgOf(rand.New(ref)) != ref || pcgOf(rand.New(rand.NewChaCha8([32]byte{}))) != nil {
		t.Error("pcgOf does not find the PCG of a rand.Rand, or finds one in a ChaCha8")
	}
}

// TestDropoutMaskInPartsIsTheStream: a mask big enough to be filled in
// parts on several goroutines holds the draws of the stream one by one, in
// order, and leaves the generator where those draws leave it, in float32
// and float64.
func TestDropoutMaskInPartsIsTheStream(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, n := range []int{1, 2, 3, maskMinPart - 1, 5*maskMinPart + 17} {
		checkMaskStream[float32](t, tensor.Float32, n)
		checkMaskStream[float64](t, tensor.Float64, n)
	}
}

func checkMaskStream[T Float](t *testing.T, dt tensor.Dtype, n int) {
	t.Helper()
	want := make([]T, n)
	ref := rand.New(rand.NewPCG(3, 9))
	fillDropoutMask(ref, want, 0.2, T(1/(1-0.2))) // one rng.Uint64 per element, keep as FillDropoutMask rounds it
	got := tensor.New(tensor.Of(dt), tensor.WithShape(n))
	rng := rand.New(rand.NewPCG(3, 9))
	FillDropoutMask(rng, got, 0.2)
	for i, v := range got.Data().([]T) {
		if v != want[i] {
			t.Fatalf("%v n=%d: element %d is %v, want %v", dt, n, i, v, want[i])
		}
	}
	if a, b := rng.Uint64(), ref.Uint64(); a != b {
		t.Errorf("%v n=%d: the generator's next draw is %x, want %x", dt, n, a, b)
	}
}
