package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// image1to16 is the 1×1×4×4 image with values 1..16 row by row.
var image1to16 = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// TestMaxPoolBackwardByHand checks where the gradient of the 2×2 max pool
// of image1to16 lands: on 6, 8, 14 and 16 (indices 5, 7, 13, 15).
func TestMaxPoolBackwardByHand(t *testing.T) {
	op := newMaxPoolOp[float64](poolShapesOf("MaxPool2D", newConvGeom(1, 1, 4, 4, [2]int{2, 2}, [2]int{2, 2}, [2]int{0, 0})))
	x := tensorOf(tensor.Float64, []int{1, 1, 4, 4}, image1to16)
	if _, err := op.Do(x); err != nil {
		t.Fatal(err)
	}
	dx, err := newMaxPoolGradOp(op).Do(tensorOf(tensor.Float64, []int{1, 1, 2, 2}, []float64{1, 2, 3, 4}))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 16)
	want[5], want[7], want[13], want[15] = 1, 2, 3, 4
	sameBits(t, float64s(t, dx), want)
}

func TestPoolOpsDoNotAllocate(t *testing.T) {
	run := newPoolBench[float32](4, 3, 8, 8, 2)
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Errorf("pool forward+backward allocates %v times per run, want 0", n)
	}
}

// cnn.Default's max pool at batch 64.
func BenchmarkMaxPool2DForwardBackward(b *testing.B) { benchPool(b, 64, 64, 24, 24, 2) }

func benchPool(b *testing.B, batch, c, h, w, k int) {
	run := newPoolBench[float32](batch, c, h, w, k)
	run()
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
}

// newPoolBench returns a function that runs a max pool and its gradient,
// then an average pool and its gradient, on random values.
func newPoolBench[T Float](batch, c, h, w, k int) func() {
	rng := rand.New(rand.NewPCG(7, 8))
	g := newConvGeom(batch, c, h, w, [2]int{k, k}, [2]int{k, k}, [2]int{0, 0})
	x := randTensor(rng, dtypeOf[T](), batch, c, h, w)
	dy := randTensor(rng, dtypeOf[T](), batch, c, g.OH, g.OW)
	mp := newMaxPoolOp[T](poolShapesOf("MaxPool2D", g))
	ap := newAvgPoolOp[T](poolShapesOf("AvgPool2D", g))
	ops := []G.Op{mp, newMaxPoolGradOp(mp), ap, newAvgPoolGradOp[T](ap.poolShapes)}
	inputs := [][]G.Value{{x}, {dy}, {x}, {dy}}
	return func() { runOps(ops, inputs) }
}

// TestOpOutputShapeRestored reshapes an op's output in place between runs,
// as Gorgonia's Reshape does when Flatten is the output's last reader
// (docs/GORGONIA.md#a-later-reshape-can-reshape-an-ops-output-in-place),
// and requires the next run to return the op's own shape again.
func TestOpOutputShapeRestored(t *testing.T) {
	op := newMaxPoolOp[float64](poolShapesOf("MaxPool2D", newConvGeom(2, 3, 4, 4, [2]int{2, 2}, [2]int{2, 2}, [2]int{0, 0})))
	x := tensor.New(tensor.WithShape(2, 3, 4, 4), tensor.Of(tensor.Float64))
	y, err := op.Do(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := y.(*tensor.Dense).Reshape(2, 12); err != nil {
		t.Fatal(err)
	}
	if y, err = op.Do(x); err != nil {
		t.Fatal(err)
	}
	if want := (tensor.Shape{2, 3, 2, 2}); !y.Shape().Eq(want) {
		t.Errorf("second run's output has shape %v, want %v", y.Shape(), want)
	}
}

// TestMaxPool2x2MatchesWindowScan: the unrolled 2×2 stride-2 path gives the
// maxima and argmax of a plain row-by-row scan of each window, where the
// first of equal maxima wins and a NaN wins, on odd-sized planes (the last
// row and column are not read) with ties and NaNs.
func TestMaxPool2x2MatchesWindowScan(t *testing.T) {
	g := newConvGeom(2, 3, 7, 9, [2]int{2, 2}, [2]int{2, 2}, [2]int{0, 0})
	op := newMaxPoolOp[float32](poolShapesOf("MaxPool2D", g))
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(op.xShape...))
	xs := x.Float32s()
	for i := range xs {
		// Few distinct values, so that windows hold ties.
		xs[i] = float32(rng.IntN(4))
		if rng.IntN(20) == 0 {
			xs[i] = float32(math.NaN())
		}
	}
	v, err := op.Do(x)
	if err != nil {
		t.Fatal(err)
	}
	ys := v.(*tensor.Dense).Float32s()
	for q := 0; q < g.B*g.C; q++ {
		plane := xs[q*g.H*g.W:]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				best := 2*oh*g.W + 2*ow
				for _, i := range []int{best + 1, best + g.W, best + g.W + 1} {
					if v, bv := plane[i], plane[best]; v > bv || (v != v && bv == bv) {
						best = i
					}
				}
				o := q*g.OH*g.OW + oh*g.OW + ow
				got, want := ys[o], plane[best]
				if op.argmax[o] != int32(best) || (got != want && !(got != got && want != want)) {
					t.Fatalf("plane %d output (%d,%d): %v at %d, want %v at %d", q, oh, ow, got, op.argmax[o], want, best)
				}
			}
		}
	}
}

// TestMaxPool2x2VectorMatchesLoop: the float32 2×2 pool that runs 16
// outputs at a time picks the loop's maximum and index in every window,
// ties, NaNs (first NaN wins; a NaN is not replaced), ±0 and ±Inf
// included, for widths on both sides of 16 outputs and odd sizes.
func TestMaxPool2x2VectorMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1, 1}
	for _, hw := range [][2]int{{2, 2}, {24, 24}, {5, 7}, {4, 33}, {6, 64}, {3, 34}} {
		g := newConvGeom(1, 1, hw[0], hw[1], [2]int{2, 2}, [2]int{2, 2}, [2]int{0, 0})
		for rep := range 20 {
			x := make([]float32, g.H*g.W)
			for i := range x {
				x[i] = float32(rng.IntN(5)) // ties
				if rep%2 == 1 && rng.IntN(3) == 0 {
					x[i] = special[rng.IntN(len(special))]
				}
			}
			y, arg := make([]float32, g.OH*g.OW), make([]int32, g.OH*g.OW)
			wy, warg := make([]float32, len(y)), make([]int32, len(arg))
			maxPool2x2Float(g, x, y, arg)
			maxPool2x2(g, x, wy, warg)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(wy[i]) || arg[i] != warg[i] {
					t.Fatalf("%v rep %d: output %d = %v at %d, loop gives %v at %d", hw, rep, i, y[i], arg[i], wy[i], warg[i])
				}
			}
		}
	}
}
