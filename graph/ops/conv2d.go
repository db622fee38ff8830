package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	tblas "github.com/tapestry-ml/tapestry/blas"
)

// Conv2DConfig configures Conv2D.
type Conv2DConfig struct {
	// Name tells apart, in the op's hash, convolutions of the same shape
	// applied to the same input (docs/GORGONIA.md#identical-nodes-merge).
	Name string
	// Stride is the step between windows; zero means 1×1.
	Stride [2]int
	// Pad is the number of zeros added on each side of the height and width.
	Pad [2]int
	// NoInputGrad says that the input is data: build no gradient for it
	// (Gorgonia would run the backward op whether or not anything reads it).
	NoInputGrad bool
}

// Conv2D is a 2-D convolution (a cross-correlation, as in PyTorch) as one
// op, with PyTorch's weight layout:
//
//	x: [B, C, H, W], w: [Out, C, KH, KW], bias: [Out] or nil → y: [B, Out, OH, OW]
//
// with OH = (H + 2·Pad[0] − KH)/Stride[0] + 1. It replaces Gorgonia's
// Conv2d (nn.go:211), whose im2col → matmul → Transpose(0,3,1,2) (nn.go:298)
// clones and re-indexes the whole output and starts a goroutine per batch
// item (op_nn.go:356). For each image, im2col into a per-part buffer
// [C·KH·KW, OH·OW], then one GEMM y[b] = w · col writes the output channels
// in NCHW order directly; or, for a stride-1 unpadded kernel over enough
// channels, the shifted-window GEMMs of conv2d_shift.go, without im2col.
// The images are split over the workers of internal/pool.
func Conv2D(x, w, bias *G.Node, cfg Conv2DConfig) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 || ws[1] != xs[1] {
		return nil, errors.Errorf("ops.Conv2D %s: input %v and weight %v are not [B, C, H, W] and [Out, C, KH, KW]", cfg.Name, xs, ws)
	}
	g, err := windowGeom(xs, [2]int{ws[2], ws[3]}, orDefault(cfg.Stride, [2]int{1, 1}), cfg.Pad)
	if err != nil {
		return nil, errors.Wrapf(err, "ops.Conv2D %s", cfg.Name)
	}
	s := newConvShapes(cfg.Name, g, ws[0], bias != nil, cfg.NoInputGrad)
	inputs, err := withBias("ops.Conv2D", cfg.Name, x, w, bias, s.bShape)
	if err != nil {
		return nil, err
	}
	return apply("ops.Conv2D", x.Dtype(),
		func() G.Op { return newConv2dOp[float32](s) }, func() G.Op { return newConv2dOp[float64](s) }, inputs...)
}

// convShapes is a convolution's geometry and the shapes of its tensors,
// made once so that checking the values at every run allocates nothing.
type convShapes struct {
	name                           string
	g                              convGeom
	out                            int
	bias, noInputGrad              bool
	xShape, wShape, yShape, bShape []int
}

func newConvShapes(name string, g convGeom, out int, bias, noInputGrad bool) convShapes {
	return convShapes{name: name, g: g, out: out, bias: bias, noInputGrad: noInputGrad,
		xShape: []int{g.B, g.C, g.H, g.W},
		wShape: []int{out, g.C, g.KH, g.KW},
		yShape: []int{g.B, out, g.OH, g.OW},
		bShape: []int{out}}
}

// convScratch is the scratch memory of the forward op and of the input
// gradient, made by their first run and reused: for the shifted-window form
// the weight by tap (wt) and one wide buffer per part, and for the input
// gradient's packed form (packed set at each run) one packed operand per
// part (pks); else one im2col buffer per part (none for a 1×1 kernel,
// whose column matrix is the image).
type convScratch[T Float] struct {
	wt     []T
	wides  [][]T
	cols   [][]T
	packed bool
	pks    []tblas.Packed[T]
}

// prepare makes the buffers on the first run and, for the shifted-window
// form, writes w [Out, C, KH, KW] into wt by tap.
func (sc *convScratch[T]) prepare(s *convShapes, w []T, parts int) {
	switch {
	case s.g.shiftable():
		if sc.wt == nil {
			sc.wt = make([]T, len(w))
			sc.wides = newPartBufs[T](parts, s.out*s.g.wideLen())
			sc.pks = make([]tblas.Packed[T], parts)
		}
		tapWeights(s.g, s.out, w, sc.wt)
		sc.packed = packedBLAS()
	case sc.cols == nil && !s.g.identity():
		sc.cols = newPartBufs[T](parts, s.g.colRows()*s.g.outPlane())
	}
}

// newPartBufs makes parts zeroed buffers of n elements.
func newPartBufs[T Float](parts, n int) [][]T {
	bufs := make([][]T, parts)
	for i := range bufs {
		bufs[i] = make([]T, n)
	}
	return bufs
}

// conv2dOp is the forward op of Conv2D.
type conv2dOp[T Float] struct {
	Base
	convShapes
	gemm gemmFunc[T]
	par  split // of the images
	sc   convScratch[T]
	// x, w and b are the inputs of the Do under way; y (yd its elements)
	// is made by the first Do and reused.
	x, w, b, yd []T
	y           *tensor.Dense
}

func newConv2dOp[T Float](s convShapes) *conv2dOp[T] {
	desc := fmt.Sprintf("Conv2D %s %v→%v %s bias=%t nodx=%t", s.name, s.xShape, s.yShape, s.g.window(), s.bias, s.noInputGrad)
	ranks := []int{4, 4, 1}
	if !s.bias {
		ranks = ranks[:2]
	}
	op := &conv2dOp[T]{Base: NewBase(desc, dtypeOf[T](), s.yShape, ranks...), convShapes: s, gemm: gemmFor[T]()}
	op.par.init(s.g.B, 1)
	return op
}

// Do implements gorgonia.Op.
func (op *conv2dOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	args := [3]arg[T]{input(&op.x, "input", op.xShape), input(&op.w, "weight", op.wShape), input(&op.b, "bias", op.bShape)}
	return doParts(op, &op.par, op, inputs, &op.y, &op.yd, op.yShape, args[:op.Arity()]...)
}

func (op *conv2dOp[T]) prepare() { op.sc.prepare(&op.convShapes, op.w, op.par.parts) }

// RunPart implements pool.Job: the images of part k.
func (op *conv2dOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	g := op.g
	P, K, in := g.outPlane(), g.colRows(), g.inSize()
	if g.shiftable() {
		for b := lo; b < hi; b++ {
			shiftForward(op.gemm, g, op.out, op.sc.wt, op.x[b*in:(b+1)*in], op.b, op.sc.wides[k], op.yd[b*op.out*P:(b+1)*op.out*P])
		}
		return
	}
	for b := lo; b < hi; b++ {
		xb := op.x[b*in : (b+1)*in]
		col := xb
		if !g.identity() {
			col = op.sc.cols[k]
			im2col(g, xb, col)
		}
		yb := op.yd[b*op.out*P : (b+1)*op.out*P]
		var beta T
		if op.bias {
			for o, v := range op.b {
				row := yb[o*P : (o+1)*P]
				for i := range row {
					row[i] = v
				}
			}
			beta = 1
		}
		op.gemm(blas.NoTrans, blas.NoTrans, op.out, P, K, 1, op.w, K, col, P, beta, yb, P)
	}
}

// DiffWRT implements gorgonia.SDOp.
func (op *conv2dOp[T]) DiffWRT(n int) []bool { return diffAllButData(n, op.noInputGrad) }

// SymDiff implements gorgonia.SDOp: dx from (w, dy) unless the input is
// data, dw from (x, dy), and dbias from dy.
func (op *conv2dOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	x, w := inputs[0], inputs[1]
	var dx *G.Node
	if !op.noInputGrad {
		dxOp := new(conv2dInputGradOp[T])
		op.initGrad(&dxOp.conv2dGrad, "dx", op.xShape, op.g.B)
		var err error
		if dx, err = applyGrad(op, "input gradient", dxOp, w, grad); err != nil {
			return nil, err
		}
	}
	dwOp := new(conv2dWeightGradOp[T])
	op.initGrad(&dwOp.conv2dGrad, "dw", op.wShape, op.g.B)
	dw, err := applyGrad(op, "weight gradient", dwOp, x, grad)
	if err != nil {
		return nil, err
	}
	if !op.bias {
		return G.Nodes{dx, dw}, nil
	}
	dbOp := new(conv2dBiasGradOp[T])
	op.initGrad(&dbOp.conv2dGrad, "dbias", op.bShape, op.out)
	db, err := applyGrad(op, "bias gradient", dbOp, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// initGrad sets up g, the state of the backward op what, of output shape
// out, that splits n items (images or channels) among the workers.
func (op *conv2dOp[T]) initGrad(g *conv2dGrad[T], what string, out []int, n int) {
	ranks := []int{4, 4}
	if what == "dbias" {
		ranks = ranks[:1]
	}
	desc := fmt.Sprintf("Conv2D %s %s %v→%v %s", op.name, what, op.xShape, op.yShape, op.g.window())
	g.Base = NewBase(desc, dtypeOf[T](), out, ranks...)
	g.convShapes, g.gemm = op.convShapes, op.gemm
	g.par.init(n, 1)
}

// conv2dGrad is what the three backward ops share: the forward geometry.
type conv2dGrad[T Float] struct {
	Base
	convShapes
	gemm gemmFunc[T]
	par  split
}

// conv2dInputGradOp computes dx: for each image, dcol = wᵀ·dy[b]
// ([C·KH·KW, OH·OW]), then col2im adds each column back where it was read.
//
//	w: [Out, C, KH, KW], dy: [B, Out, OH, OW] → dx: [B, C, H, W]
type conv2dInputGradOp[T Float] struct {
	conv2dGrad[T]
	sc         convScratch[T]
	w, dy, dxd []T
	dx         *tensor.Dense
}

func (op *conv2dInputGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	return doParts(op, &op.par, op, inputs, &op.dx, &op.dxd, op.xShape,
		input(&op.w, "weight", op.wShape), input(&op.dy, "output gradient", op.yShape))
}

func (op *conv2dInputGradOp[T]) prepare() { op.sc.prepare(&op.convShapes, op.w, op.par.parts) }

// RunPart implements pool.Job: the images of part k.
func (op *conv2dInputGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	g := op.g
	P, K, in := g.outPlane(), g.colRows(), g.inSize()
	if g.shiftable() {
		for b := lo; b < hi; b++ {
			widen(g, op.out, op.dy[b*op.out*P:(b+1)*op.out*P], op.sc.wides[k])
			if op.sc.packed {
				shiftInputGradPacked(g, op.out, op.sc.wt, op.sc.wides[k], &op.sc.pks[k], op.dxd[b*in:(b+1)*in])
				continue
			}
			shiftInputGrad(op.gemm, g, op.out, op.sc.wt, op.sc.wides[k], op.dxd[b*in:(b+1)*in])
		}
		return
	}
	for b := lo; b < hi; b++ {
		dyb := op.dy[b*op.out*P : (b+1)*op.out*P]
		dxb := op.dxd[b*in : (b+1)*in]
		if g.identity() {
			op.gemm(blas.Trans, blas.NoTrans, K, P, op.out, 1, op.w, K, dyb, P, 0, dxb, P)
			continue
		}
		col := op.sc.cols[k]
		op.gemm(blas.Trans, blas.NoTrans, K, P, op.out, 1, op.w, K, dyb, P, 0, col, P)
		col2im(g, col, dxb)
	}
}

// conv2dWeightGradOp computes dw = Σ_b dy[b]·col[b]ᵀ, im2col made again from
// x (cheaper in memory than keeping every image's columns from the forward
// pass). Each part sums its own images into its own buffer and the parts are
// added in order, so the result is the same bits at every run.
//
//	x: [B, C, H, W], dy: [B, Out, OH, OW] → dw: [Out, C, KH, KW]
type conv2dWeightGradOp[T Float] struct {
	conv2dGrad[T]
	x, dy    []T
	dw       *tensor.Dense
	dwd      []T   // dw's elements
	partials [][]T // partials[0] is dw's own storage
	cols     [][]T
	// The shifted-window form sums each part's images into its own
	// [KH·KW, Out, C] buffer (taps), from widened dy (wides); its packed
	// form (packed set at each run) into [KH·KW, C, Out], dy_wideᵀ packed
	// into pks.
	taps, wides [][]T
	packed      bool
	pks         []tblas.Packed[T]
}

func (op *conv2dWeightGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	dw, err := doParts(op, &op.par, op, inputs, &op.dw, &op.dwd, op.wShape,
		input(&op.x, "input", op.xShape), input(&op.dy, "output gradient", op.yShape))
	if err != nil {
		return nil, err
	}
	if op.g.shiftable() {
		op.gatherTaps(op.dwd)
	} else {
		for _, part := range op.partials[1:] {
			for i, v := range part {
				op.dwd[i] += v
			}
		}
	}
	return dw, nil
}

// prepare makes the per-part buffers on the first run.
func (op *conv2dWeightGradOp[T]) prepare() {
	parts, n := op.par.parts, len(op.dwd)
	switch {
	case op.g.shiftable():
		if op.taps == nil {
			op.taps = newPartBufs[T](parts, n)
			op.wides = newPartBufs[T](parts, op.out*op.g.wideLen())
			op.pks = make([]tblas.Packed[T], parts)
		}
		op.packed = packedBLAS()
	case op.partials == nil:
		op.partials = append([][]T{op.dwd}, newPartBufs[T](parts-1, n)...)
		if !op.g.identity() {
			op.cols = newPartBufs[T](parts, op.g.colRows()*op.g.outPlane())
		}
	}
}

// gatherTaps sums the parts' tap-major buffers, in part order, into dw
// [Out, C, KH, KW].
func (op *conv2dWeightGradOp[T]) gatherTaps(dw []T) {
	taps, C := op.g.KH*op.g.KW, op.g.C
	for t := range taps {
		for o := range op.out {
			for c := range C {
				i := (t*op.out+o)*C + c
				if op.packed {
					i = (t*C+c)*op.out + o
				}
				s := op.taps[0][i]
				for _, part := range op.taps[1:] {
					s += part[i]
				}
				dw[(o*C+c)*taps+t] = s
			}
		}
	}
}

// RunPart implements pool.Job: the images of part k, summed into part k's
// buffer.
func (op *conv2dWeightGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	g := op.g
	P, K, in := g.outPlane(), g.colRows(), g.inSize()
	if g.shiftable() {
		acc := op.taps[k]
		if lo == hi {
			clear(acc)
		}
		for b := lo; b < hi; b++ {
			var beta T
			if b > lo {
				beta = 1
			}
			widen(g, op.out, op.dy[b*op.out*P:(b+1)*op.out*P], op.wides[k])
			if op.packed {
				shiftWeightGradPacked(g, op.out, op.x[b*in:(b+1)*in], op.wides[k], beta, &op.pks[k], acc)
				continue
			}
			shiftWeightGrad(op.gemm, g, op.out, op.x[b*in:(b+1)*in], op.wides[k], beta, acc)
		}
		return
	}
	acc := op.partials[k]
	if lo == hi {
		clear(acc)
	}
	for b := lo; b < hi; b++ {
		xb := op.x[b*in : (b+1)*in]
		col := xb
		if !g.identity() {
			col = op.cols[k]
			im2col(g, xb, col)
		}
		var beta T
		if b > lo {
			beta = 1
		}
		dyb := op.dy[b*op.out*P : (b+1)*op.out*P]
		op.gemm(blas.NoTrans, blas.Trans, op.out, K, P, 1, dyb, P, col, P, beta, acc, K)
	}
}

// conv2dBiasGradOp computes dbias[o] = Σ over images and positions of
// dy[b, o], summed in float64 one channel per worker, in a fixed order.
//
//	dy: [B, Out, OH, OW] → dbias: [Out]
type conv2dBiasGradOp[T Float] struct {
	conv2dGrad[T]
	dy, dbd []T
	db      *tensor.Dense
}

func (op *conv2dBiasGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	return doParts(op, &op.par, op, inputs, &op.db, &op.dbd, op.bShape, input(&op.dy, "output gradient", op.yShape))
}

// RunPart implements pool.Job: the channels of part k.
func (op *conv2dBiasGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	P := op.g.outPlane()
	for o := lo; o < hi; o++ {
		// Four running sums, so that the adds do not wait on one another;
		// always combined in the same order.
		var s0, s1, s2, s3 float64
		for b := 0; b < op.g.B; b++ {
			row := op.dy[(b*op.out+o)*P : (b*op.out+o+1)*P]
			i := 0
			for ; i+4 <= len(row); i += 4 {
				s0 += float64(row[i])
				s1 += float64(row[i+1])
				s2 += float64(row[i+2])
				s3 += float64(row[i+3])
			}
			for ; i < len(row); i++ {
				s0 += float64(row[i])
			}
		}
		op.dbd[o] = T((s0 + s1) + (s2 + s3))
	}
}

var (
	_ G.SDOp = (*conv2dOp[float32])(nil)
	_ G.Op   = (*conv2dInputGradOp[float32])(nil)
	_ G.Op   = (*conv2dWeightGradOp[float64])(nil)
	_ G.Op   = (*conv2dBiasGradOp[float64])(nil)
)
