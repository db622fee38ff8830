package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	tblas "github.com/tapestry-ml/tapestry/blas"
)

// convBench holds a convolution's forward op and three backward ops, and
// random values for them.
type convBench[T Float] struct {
	fwd    *conv2dOp[T]
	dx     *conv2dInputGradOp[T]
	dw     *conv2dWeightGradOp[T]
	db     *conv2dBiasGradOp[T]
	ops    []G.Op
	inputs [][]G.Value
}

// newConvBench makes the ops of a k×k, stride-1 convolution with bias of
// in channels of h×w to out channels, as SymDiff would.
func newConvBench[T Float](batch, in, h, w, out, k int) *convBench[T] {
	rng := rand.New(rand.NewPCG(5, 6))
	dt := dtypeOf[T]()
	g := newConvGeom(batch, in, h, w, [2]int{k, k}, [2]int{1, 1}, [2]int{0, 0})
	c := &convBench[T]{fwd: newConv2dOp[T](newConvShapes("bench", g, out, true, false)),
		dx: new(conv2dInputGradOp[T]), dw: new(conv2dWeightGradOp[T]), db: new(conv2dBiasGradOp[T])}
	c.fwd.initGrad(&c.dx.conv2dGrad, "dx", c.fwd.xShape, batch)
	c.fwd.initGrad(&c.dw.conv2dGrad, "dw", c.fwd.wShape, batch)
	c.fwd.initGrad(&c.db.conv2dGrad, "dbias", c.fwd.bShape, out)
	x, wt, bias := randTensor(rng, dt, batch, in, h, w), randTensor(rng, dt, out, in, k, k), randTensor(rng, dt, out)
	dy := randTensor(rng, dt, batch, out, g.OH, g.OW)
	c.ops = []G.Op{c.fwd, c.dx, c.dw, c.db}
	c.inputs = [][]G.Value{{x, wt, bias}, {wt, dy}, {x, dy}, {dy}}
	return c
}

func (c *convBench[T]) run() { runOps(c.ops, c.inputs) }

// TestConv2DOpsDoNotAllocate runs the forward and the three backward ops
// after a warm-up and counts allocations. The shapes are small enough that
// the GEMMs stay serial, so every allocation counted is ours. Not under
// the race detector, whose sync.Pool drops what is put back at random (so
// package blas, now the default BLAS, allocates packing workspaces again).
func TestConv2DOpsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops what is put back")
	}
	// 3 channels take im2col, shiftMinChannels the shifted-window form.
	for _, in := range []int{3, shiftMinChannels} {
		ops := newConvBench[float32](4, in, 8, 8, 4, 3)
		ops.run() // warm-up: outputs and scratch buffers are made here
		if n := testing.AllocsPerRun(5, ops.run); n != 0 {
			t.Errorf("conv forward+backward with %d channels allocates %v times per run, want 0", in, n)
		}
	}
}

// TestConv2DBackwardIsReproducible runs the weight gradient again and
// requires the same bits: the parts are summed in a fixed order, whichever
// goroutine ran them.
func TestConv2DBackwardIsReproducible(t *testing.T) {
	// 3 channels take im2col, shiftMinChannels the shifted-window form.
	for _, in := range []int{3, shiftMinChannels} {
		ops := newConvBench[float32](7, in, 9, 9, 5, 3)
		ops.run()
		first := append([]float32(nil), elems[float32](ops.dw.dw)...)
		for range 3 {
			ops.run()
			for i, v := range elems[float32](ops.dw.dw) {
				if v != first[i] {
					t.Fatalf("%d channels: dw[%d] = %v, then %v", in, i, first[i], v)
				}
			}
		}
	}
}

func BenchmarkConv2DForwardBackwardConv1(b *testing.B) { benchConv(b, 64, 1, 28, 28, 32, 3) }
func BenchmarkConv2DForwardBackwardConv2(b *testing.B) { benchConv(b, 64, 32, 26, 26, 64, 3) }

// benchConv times the forward op and the three backward ops of one
// convolution in float32 (cnn.Default's two convolutions at batch 64),
// with package blas installed as cmd/train installs it.
func benchConv(b *testing.B, batch, in, h, w, out, k int) {
	defer G.Use(tblas.Install())
	ops := newConvBench[float32](batch, in, h, w, out, k)
	ops.run()
	b.ReportAllocs()
	for b.Loop() {
		ops.run()
	}
}

// TestConv2DPackedMatchesUnpacked: with package blas installed, the
// shifted-window form multiplies by packed operands (conv2d_shift.go); its
// output and gradients are the unpacked form's to the bit, and it
// allocates nothing once warm.
func TestConv2DPackedMatchesUnpacked(t *testing.T) {
	defer G.Use(tblas.Install())
	defer func() { noPacked = false }()
	t.Run("float32", func(t *testing.T) { testConvPacked[float32](t) })
	t.Run("float64", func(t *testing.T) { testConvPacked[float64](t) })
}

func testConvPacked[T Float](t *testing.T) {
	for _, sz := range [][6]int{{3, shiftMinChannels, 9, 7, 5, 3}, {5, 32, 14, 14, 64, 3}, {2, shiftMinChannels + 3, 6, 11, 17, 2}} {
		ops := newConvBench[T](sz[0], sz[1], sz[2], sz[3], sz[4], sz[5])
		outs := func() [][]T {
			ops.run()
			return [][]T{append([]T(nil), elems[T](ops.fwd.y)...), append([]T(nil), elems[T](ops.dx.dx)...),
				append([]T(nil), elems[T](ops.dw.dw)...), append([]T(nil), elems[T](ops.db.db)...)}
		}
		noPacked = true
		want := outs()
		noPacked = false
		got := outs()
		for i, name := range []string{"y", "dx", "dw", "dbias"} {
			for j := range want[i] {
				if math.Float64bits(float64(got[i][j])) != math.Float64bits(float64(want[i][j])) {
					t.Fatalf("%v: %s[%d] packed %v, unpacked %v", sz, name, j, got[i][j], want[i][j])
				}
			}
		}
		// The race detector's sync.Pool drops what is put back at random.
		if n := testing.AllocsPerRun(3, ops.run); n != 0 && !raceEnabled {
			t.Errorf("%v: packed conv forward+backward allocates %v times per run, want 0", sz, n)
		}
	}
}
