package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDropoutMaskIsTheFloat64Rule: fillDropoutMask drops exactly the
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
		got64 := make([]float64, len(want))
		fillDropoutMask(rand.New(rand.NewPCG(4, 5)), got64, p, keep)
		got32 := make([]float32, len(want))
		fillDropoutMask(rand.New(rand.NewPCG(4, 5)), got32, p, float32(keep))
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

// TestDropoutByHand: the output is x ⊙ mask and the gradient dy ⊙ mask, for
// the mask the program's rng drew; the mask itself gets no gradient node
// (our op does not differentiate it).
func TestDropoutByHand(t *testing.T) {
	for _, dt := range []tensor.Dtype{Float32, Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			b := NewBuilder(NewParams(dt), 2, true)
			xt := tensor.New(tensor.Of(dt), tensor.WithShape(2, 4))
			x := []float64{1, -2, 3, -4, 5, -6, 7, -8}
			opTestFill(t, xt, x)
			xn := G.NewTensor(b.G, dt, 2, G.WithShape(2, 4), G.WithName("x"), G.WithValue(xt))
			y, err := Dropout{Name: "d", P: 0.5}.Forward(b, xn)
			if err != nil {
				t.Fatal(err)
			}
			var yv G.Value
			G.Read(y, &yv)
			cost := G.Must(G.Sum(y)) // dy = 1, so dx is the mask
			if _, err := G.Grad(cost, xn); err != nil {
				t.Fatal(err)
			}
			b.noise[0].fill(rand.New(rand.NewPCG(3, 3)), b.noise[0].t)
			mask := toFloat64s(b.noise[0].t)
			vm := G.NewTapeMachine(b.G, G.BindDualValues(xn))
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			want := make([]float64, len(x))
			kept := 0
			for i := range x {
				want[i] = x[i] * mask[i]
				if mask[i] != 0 {
					kept++
					if mask[i] != 2 {
						t.Fatalf("mask %v: a kept element must be 1/(1−0.5) = 2", mask)
					}
				}
			}
			if kept == 0 || kept == len(x) {
				t.Fatalf("mask %v keeps all or nothing: the test checks nothing", mask)
			}
			opTestClose(t, toFloat64s(yv.(*tensor.Dense)), want, 0)
			dx, err := xn.Grad()
			if err != nil {
				t.Fatal(err)
			}
			opTestClose(t, toFloat64s(dx.(*tensor.Dense)), mask, 0)
			for _, n := range b.G.AllNodes() {
				if n.Name() == "d.mask" && n.Deriv() != nil {
					t.Error("the mask has a gradient node")
				}
			}
		})
	}
}

// TestDropoutOpsHashApart: ops differing in name, rate, shape or dtype hash
// differently (GORGONIA.md item 1: Gorgonia's own Dropout(x, .1) and
// Dropout(x, .9) hash alike).
func TestDropoutOpsHashApart(t *testing.T) {
	ops := []interface{ Hashcode() uint32 }{
		newDropoutOp[float32]("a", 0.1, []int{4, 3}),
		newDropoutOp[float32]("a", 0.9, []int{4, 3}),
		newDropoutOp[float32]("b", 0.1, []int{4, 3}),
		newDropoutOp[float32]("a", 0.1, []int{3, 4}),
		newDropoutOp[float64]("a", 0.1, []int{4, 3}),
	}
	seen := map[uint32]int{}
	for i, op := range ops {
		if j, ok := seen[op.Hashcode()]; ok {
			t.Errorf("ops %d and %d hash alike", j, i)
		}
		seen[op.Hashcode()] = i
	}
}
