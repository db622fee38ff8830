package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestPoolGradients(t *testing.T) {
	cases := []struct {
		name  string
		layer Layer
		in    []int
	}{
		{"max-2x2", MaxPool2D{Kernel: [2]int{2, 2}}, []int{2, 4, 4}},
		{"max-3x3-stride2", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}}, []int{2, 5, 5}},
		{"max-3x3-stride2-pad1", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []int{1, 5, 4}},
		{"max-2x3-overlap", MaxPool2D{Kernel: [2]int{2, 3}, Stride: [2]int{1, 1}}, []int{2, 3, 5}},
		{"avg-2x2", AvgPool2D{Kernel: [2]int{2, 2}}, []int{2, 4, 4}},
		{"avg-3x3-stride2-pad1", AvgPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []int{2, 5, 4}},
		{"avg-2x2-pad1", AvgPool2D{Kernel: [2]int{2, 2}, Pad: [2]int{1, 1}}, []int{1, 3, 3}},
		{"conv-max", NewSequential(
			Conv2D{Name: "c", In: 1, Out: 2, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}},
			MaxPool2D{Kernel: [2]int{2, 2}}), []int{1, 4, 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Random inputs have no ties, so every maximum is unique.
			res, err := CheckLayer(c.layer, c.in, 3, true, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol || res.Checked == 0 {
				t.Errorf("gradient mismatch %.3g > %g at %s (%d checked)", res.MaxRelErr, gradTol, res.Worst, res.Checked)
			}
		})
	}
}

func TestPoolForwardByHand(t *testing.T) {
	cases := []struct {
		name  string
		layer Layer
		want  []float64
	}{
		// 2×2 windows of image1to16 (conv2d_test.go): {1,2,5,6} {3,4,7,8}
		// {9,10,13,14} {11,12,15,16}.
		{"max-2x2", MaxPool2D{Kernel: [2]int{2, 2}}, []float64{6, 8, 14, 16}},
		{"avg-2x2", AvgPool2D{Kernel: [2]int{2, 2}}, []float64{14.0 / 4, 22.0 / 4, 46.0 / 4, 54.0 / 4}},
		// 3×3 stride 2 pad 1: H' = (4 + 2 − 3)/2 + 1 = 2; the windows cover
		// rows/columns {0,1} or {1,2,3} of the image:
		//   (0,0) {1,2,5,6}                 max 6,  sum 14
		//   (0,1) {2,3,4,6,7,8}             max 8,  sum 30
		//   (1,0) {5,6,9,10,13,14}          max 14, sum 57
		//   (1,1) {6,7,8,10,11,12,14,15,16} max 16, sum 99
		// and the average divides by 9 whatever the padding.
		{"max-3x3-s2-p1", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []float64{6, 8, 14, 16}},
		{"avg-3x3-s2-p1", AvgPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []float64{14.0 / 9, 30.0 / 9, 57.0 / 9, 99.0 / 9}},
		// 3×3 stride 1: the window at (0,0) is {1,2,3,5,6,7,9,10,11}.
		{"max-3x3-s1", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}}, []float64{11, 12, 15, 16}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{Float32, Float64} {
			t.Run(c.name+"-"+dt.String(), func(t *testing.T) {
				got, shape := opTestForward(t, c.layer, NewParams(dt), []int{1, 1, 4, 4}, image1to16, false)
				if want := (tensor.Shape{1, 1, 2, 2}); !tensor.Shape(shape).Eq(want) {
					t.Fatalf("shape %v, want %v", shape, want)
				}
				opTestClose(t, got, c.want, 1e-6) // float32 rounding of 99/9
			})
		}
	}
}

// TestMaxPoolBackwardByHand checks where the gradient of the 2×2 max pool
// of image1to16 lands: on 6, 8, 14 and 16 (indices 5, 7, 13, 15).
func TestMaxPoolBackwardByHand(t *testing.T) {
	op := newMaxPoolOp[float64](newConvGeom(1, 1, 4, 4, [2]int{2, 2}, [2]int{2, 2}, [2]int{0, 0}))
	x := tensor.New(tensor.WithShape(1, 1, 4, 4), tensor.WithBacking(append([]float64(nil), image1to16...)))
	if _, err := op.Do(x); err != nil {
		t.Fatal(err)
	}
	grad := &maxPoolGradOp[float64]{poolShapes: newPoolShapes("MaxPool2D", op.g), fwd: op}
	dy := tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	dx, err := grad.Do(dy)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 16)
	want[5], want[7], want[13], want[15] = 1, 2, 3, 4
	opTestClose(t, toFloat64s(dx.(*tensor.Dense)), want, 0)
}

func TestPoolOutShapeErrors(t *testing.T) {
	for _, c := range []struct {
		layer Layer
		in    []int
		want  string
	}{
		{MaxPool2D{Kernel: [2]int{2, 2}}, []int{64, 1, 1}, "max pool: 64×1×1 input (padded to 1×1) is smaller than the 2×2 window"},
		{AvgPool2D{Kernel: [2]int{3, 3}, Pad: [2]int{2, 2}}, []int{1, 8, 8}, "avg pool 3×3: padding 2×2 must be between 0 and half the kernel"},
		{MaxPool2D{}, []int{1, 8, 8}, "kernel 0×0 must be positive"},
		{MaxPool2D{Kernel: [2]int{2, 2}}, []int{8, 8}, "expects input [C, H, W]"},
	} {
		_, err := c.layer.OutShape(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OutShape(%v) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
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
	b.ResetTimer()
	for range b.N {
		run()
	}
}

// newPoolBench returns a function that runs a max pool and its gradient,
// then an average pool and its gradient, on random values.
func newPoolBench[T opFloat](batch, c, h, w, k int) func() {
	rng := rand.New(rand.NewPCG(7, 8))
	g := newConvGeom(batch, c, h, w, [2]int{k, k}, [2]int{k, k}, [2]int{0, 0})
	x := tensor.New(tensor.Of(opDtype[T]()), tensor.WithShape(batch, c, h, w))
	dy := tensor.New(tensor.Of(opDtype[T]()), tensor.WithShape(batch, c, g.OH, g.OW))
	_ = Uniform{Low: -1, High: 1}.Fill(rng, x, 0, 0)
	_ = Uniform{Low: -1, High: 1}.Fill(rng, dy, 0, 0)
	mp := newMaxPoolOp[T](g)
	mpg := &maxPoolGradOp[T]{poolShapes: newPoolShapes("MaxPool2D", g), fwd: mp}
	ap := newAvgPoolOp[T](g)
	apg := &avgPoolGradOp[T]{poolShapes: newPoolShapes("AvgPool2D", g)}
	xs, dys := []G.Value{x}, []G.Value{dy}
	return func() {
		for _, op := range []G.Op{mp, mpg, ap, apg} {
			in := xs
			if op == G.Op(mpg) || op == G.Op(apg) {
				in = dys
			}
			if _, err := op.Do(in...); err != nil {
				panic(err)
			}
		}
	}
}

// TestOpOutputShapeRestored reshapes an op's output in place between runs,
// as Gorgonia's Reshape does when Flatten is the output's last reader, and
// requires the next run to return the op's own shape again.
func TestOpOutputShapeRestored(t *testing.T) {
	op := newMaxPoolOp[float64](newConvGeom(2, 3, 4, 4, [2]int{2, 2}, [2]int{2, 2}, [2]int{0, 0}))
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
	op := newMaxPoolOp[float32](g)
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(op.xShape...))
	xs := x.Data().([]float32)
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
	ys := v.(*tensor.Dense).Data().([]float32)
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
