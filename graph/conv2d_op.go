package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// conv2dOp is a 2-D convolution (cross-correlation, as in PyTorch) as one
// Gorgonia op, in place of Gorgonia's Conv2d, whose im2col → matmul →
// Transpose(0,3,1,2) clones and re-indexes the whole output and spawns a
// goroutine per batch item (GORGONIA.md, "Where CPU time goes").
//
//	x: [B, C, H, W], w: [Out, C, KH, KW], bias: [Out] → y: [B, Out, OH, OW]
//
// For each image, im2col into a per-part buffer [C·KH·KW, OH·OW], then one
// GEMM y[b] = w · col writes the output channels in NCHW order directly; or,
// for a stride-1 unpadded kernel, the shifted-window GEMMs of
// conv2d_shift.go, without im2col. Images are split among a fixed set of
// workers (opworkers.go).
type conv2dOp[T opFloat] struct {
	convShapes
	bias bool
	// noInputGrad skips the input's gradient: the input is data, and
	// Gorgonia would run the backward op whether or not anything reads it.
	noInputGrad bool

	gemm  gemmFunc[T]
	parts int
	wg    sync.WaitGroup

	// x, w and b are the inputs of the Do under way; y (yd its elements)
	// and the im2col buffers, one per part, are made by the first Do and
	// reused.
	x, w, b, yd []T
	y           *tensor.Dense
	cols        [][]T
	// wt (the weight by tap) and the wide outputs, one per part, are the
	// shifted-window form's.
	wt    []T
	wides [][]T
}

func newConv2dOp[T opFloat](name string, g convGeom, out int, bias bool) *conv2dOp[T] {
	return &conv2dOp[T]{convShapes: newConvShapes(name, g, out), bias: bias, gemm: gemmFor[T](), parts: opParts(g.B)}
}

// Arity implements gorgonia.Op.
func (op *conv2dOp[T]) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

// Type implements gorgonia.Op: Tensor-4 a → Tensor-4 a [→ Tensor-1 a] → Tensor-4 a.
func (op *conv2dOp[T]) Type() hm.Type {
	t4 := opTensorType(4)
	if op.bias {
		return hm.NewFnType(t4, t4, opTensorType(1), t4)
	}
	return hm.NewFnType(t4, t4, t4)
}

// InferShape implements gorgonia.Op.
func (op *conv2dOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.yShape).Clone(), nil
}

// Do implements gorgonia.Op.
func (op *conv2dOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("%v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	var err error
	if op.x, err = opInput[T](op, inputs[0], "input", op.xShape...); err != nil {
		return nil, err
	}
	if op.w, err = opInput[T](op, inputs[1], "weight", op.wShape...); err != nil {
		return nil, err
	}
	if op.bias {
		if op.b, err = opInput[T](op, inputs[2], "bias", op.bShape...); err != nil {
			return nil, err
		}
	}
	op.yd = opOutput[T](&op.y, op.yShape...)
	switch {
	case op.g.shiftable():
		if op.wt == nil {
			op.wt = make([]T, len(op.w))
			op.wides = newPartBufs[T](op.parts, op.out*op.g.wideLen())
		}
		tapWeights(op.g, op.out, op.w, op.wt)
	case op.cols == nil && !op.g.identity():
		op.cols = newPartBufs[T](op.parts, op.g.colRows()*op.g.outPlane())
	}
	runOpJob(op, op.g.B, op.parts, &op.wg)
	op.x, op.w, op.b = nil, nil, nil
	return op.y, nil
}

// newPartBufs makes parts zeroed buffers of n elements.
func newPartBufs[T opFloat](parts, n int) [][]T {
	bufs := make([][]T, parts)
	for i := range bufs {
		bufs[i] = make([]T, n)
	}
	return bufs
}

func (op *conv2dOp[T]) runPart(p, lo, hi int) {
	g := op.g
	P, K, in := g.outPlane(), g.colRows(), g.inSize()
	if g.shiftable() {
		for b := lo; b < hi; b++ {
			shiftForward(op.gemm, g, op.out, op.wt, op.x[b*in:(b+1)*in], op.b, op.wides[p], op.yd[b*op.out*P:(b+1)*op.out*P])
		}
		return
	}
	for b := lo; b < hi; b++ {
		xb := op.x[b*in : (b+1)*in]
		col := xb
		if !g.identity() {
			col = op.cols[p]
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

// ReturnsPtr implements gorgonia.Op.
func (op *conv2dOp[T]) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op.
func (op *conv2dOp[T]) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op.
func (op *conv2dOp[T]) OverwritesInput() int { return -1 }

// WriteHash implements gorgonia.Op. Every parameter is in the hash, since
// nodes whose ops hash alike merge (GORGONIA.md item 1).
func (op *conv2dOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }

// Hashcode implements gorgonia.Op.
func (op *conv2dOp[T]) Hashcode() uint32 { return opHash(op) }

func (op *conv2dOp[T]) String() string {
	return fmt.Sprintf("Conv2D %s %v→%v %s bias=%t nodx=%t", op.name, op.xShape, op.yShape, op.g.window(), op.bias, op.noInputGrad)
}

// DiffWRT implements gorgonia.SDOp.
func (op *conv2dOp[T]) DiffWRT(n int) []bool {
	return diffAllButData(n, op.noInputGrad)
}

// SymDiff implements gorgonia.SDOp: dx from (w, dy) unless the input is
// data, dw from (x, dy), and dbias from dy.
func (op *conv2dOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("%v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	x, w := inputs[0], inputs[1]
	var dx *G.Node
	if !op.noInputGrad {
		var err error
		if dx, err = G.ApplyOp(&conv2dInputGradOp[T]{conv2dGrad: op.grad(op.g.B)}, w, grad); err != nil {
			return nil, errors.Wrapf(err, "%v: input gradient", op)
		}
	}
	dw, err := G.ApplyOp(&conv2dWeightGradOp[T]{conv2dGrad: op.grad(op.g.B)}, x, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: weight gradient", op)
	}
	if !op.bias {
		return G.Nodes{dx, dw}, nil
	}
	db, err := G.ApplyOp(&conv2dBiasGradOp[T]{conv2dGrad: op.grad(op.out)}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: bias gradient", op)
	}
	return G.Nodes{dx, dw, db}, nil
}

// grad returns the state of a backward op that splits n items (images or
// channels) among the workers.
func (op *conv2dOp[T]) grad(n int) conv2dGrad[T] {
	return conv2dGrad[T]{convShapes: op.convShapes, gemm: op.gemm, parts: opParts(n)}
}

// convShapes is a convolution's geometry and the shapes of its tensors,
// made once so that checking the values at every run allocates nothing.
type convShapes struct {
	name                   string
	g                      convGeom
	out                    int
	xShape, wShape, yShape []int
	bShape                 []int
}

func newConvShapes(name string, g convGeom, out int) convShapes {
	return convShapes{name: name, g: g, out: out,
		xShape: []int{g.B, g.C, g.H, g.W},
		wShape: []int{out, g.C, g.KH, g.KW},
		yShape: []int{g.B, out, g.OH, g.OW},
		bShape: []int{out}}
}

// conv2dGrad is what the three backward ops share: the forward geometry.
type conv2dGrad[T opFloat] struct {
	convShapes
	gemm  gemmFunc[T]
	parts int
	wg    sync.WaitGroup
}

func (c *conv2dGrad[T]) ReturnsPtr() bool     { return false }
func (c *conv2dGrad[T]) CallsExtern() bool    { return false }
func (c *conv2dGrad[T]) OverwritesInput() int { return -1 }

func (c *conv2dGrad[T]) describe(what string) string {
	return fmt.Sprintf("Conv2D %s %s %v→%v %s", c.name, what, c.xShape, c.yShape, c.g.window())
}

// conv2dInputGradOp computes dx: for each image, dcol = wᵀ·dy[b]
// ([C·KH·KW, OH·OW]), then col2im adds each column back where it was read.
//
//	w: [Out, C, KH, KW], dy: [B, Out, OH, OW] → dx: [B, C, H, W]
type conv2dInputGradOp[T opFloat] struct {
	conv2dGrad[T]
	w, dy, dxd []T
	dx         *tensor.Dense
	cols       [][]T
	wt         []T   // the shifted-window form's weight by tap
	wides      [][]T // and widened dy, one per part
}

func (op *conv2dInputGradOp[T]) Arity() int { return 2 }
func (op *conv2dInputGradOp[T]) Type() hm.Type {
	t4 := opTensorType(4)
	return hm.NewFnType(t4, t4, t4)
}
func (op *conv2dInputGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.xShape).Clone(), nil
}
func (op *conv2dInputGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *conv2dInputGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *conv2dInputGradOp[T]) String() string        { return op.describe("dx") }

func (op *conv2dInputGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	var err error
	if op.w, err = opInput[T](op, inputs[0], "weight", op.wShape...); err != nil {
		return nil, err
	}
	if op.dy, err = opInput[T](op, inputs[1], "output gradient", op.yShape...); err != nil {
		return nil, err
	}
	op.dxd = opOutput[T](&op.dx, op.xShape...)
	switch {
	case op.g.shiftable():
		if op.wt == nil {
			op.wt = make([]T, len(op.w))
			op.wides = newPartBufs[T](op.parts, op.out*op.g.wideLen())
		}
		tapWeights(op.g, op.out, op.w, op.wt)
	case op.cols == nil && !op.g.identity():
		op.cols = newPartBufs[T](op.parts, op.g.colRows()*op.g.outPlane())
	}
	runOpJob(op, op.g.B, op.parts, &op.wg)
	op.w, op.dy = nil, nil
	return op.dx, nil
}

func (op *conv2dInputGradOp[T]) runPart(p, lo, hi int) {
	g := op.g
	P, K, in := g.outPlane(), g.colRows(), g.inSize()
	if g.shiftable() {
		for b := lo; b < hi; b++ {
			widen(g, op.out, op.dy[b*op.out*P:(b+1)*op.out*P], op.wides[p])
			shiftInputGrad(op.gemm, g, op.out, op.wt, op.wides[p], op.dxd[b*in:(b+1)*in])
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
		col := op.cols[p]
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
type conv2dWeightGradOp[T opFloat] struct {
	conv2dGrad[T]
	x, dy    []T
	dw       *tensor.Dense
	partials [][]T // partials[0] is dw's own storage
	cols     [][]T
	// The shifted-window form sums each part's images into its own
	// [KH·KW, Out, C] buffer (taps), from widened dy (wides).
	taps, wides [][]T
}

func (op *conv2dWeightGradOp[T]) Arity() int { return 2 }
func (op *conv2dWeightGradOp[T]) Type() hm.Type {
	t4 := opTensorType(4)
	return hm.NewFnType(t4, t4, t4)
}
func (op *conv2dWeightGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.wShape).Clone(), nil
}
func (op *conv2dWeightGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *conv2dWeightGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *conv2dWeightGradOp[T]) String() string        { return op.describe("dw") }

func (op *conv2dWeightGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	var err error
	if op.x, err = opInput[T](op, inputs[0], "input", op.xShape...); err != nil {
		return nil, err
	}
	if op.dy, err = opInput[T](op, inputs[1], "output gradient", op.yShape...); err != nil {
		return nil, err
	}
	dw := opOutput[T](&op.dw, op.wShape...)
	if op.g.shiftable() {
		if op.taps == nil {
			op.taps = newPartBufs[T](op.parts, len(dw))
			op.wides = newPartBufs[T](op.parts, op.out*op.g.wideLen())
		}
		runOpJob(op, op.g.B, op.parts, &op.wg)
		op.gatherTaps(dw)
		op.x, op.dy = nil, nil
		return op.dw, nil
	}
	if op.partials == nil {
		op.partials = make([][]T, op.parts)
		op.partials[0] = dw
		for i := 1; i < op.parts; i++ {
			op.partials[i] = make([]T, len(dw))
		}
		if !op.g.identity() {
			op.cols = make([][]T, op.parts)
			for i := range op.cols {
				op.cols[i] = make([]T, op.g.colRows()*op.g.outPlane())
			}
		}
	}
	runOpJob(op, op.g.B, op.parts, &op.wg)
	for _, part := range op.partials[1:] {
		for i, v := range part {
			dw[i] += v
		}
	}
	op.x, op.dy = nil, nil
	return op.dw, nil
}

// gatherTaps sums the parts' tap-major buffers, in part order, into dw
// [Out, C, KH, KW].
func (op *conv2dWeightGradOp[T]) gatherTaps(dw []T) {
	taps, C := op.g.KH*op.g.KW, op.g.C
	for t := range taps {
		for o := range op.out {
			for c := range C {
				i := (t*op.out+o)*C + c
				s := op.taps[0][i]
				for _, part := range op.taps[1:] {
					s += part[i]
				}
				dw[(o*C+c)*taps+t] = s
			}
		}
	}
}

func (op *conv2dWeightGradOp[T]) runPart(p, lo, hi int) {
	g := op.g
	P, K, in := g.outPlane(), g.colRows(), g.inSize()
	if g.shiftable() {
		acc := op.taps[p]
		if lo == hi {
			clear(acc)
		}
		for b := lo; b < hi; b++ {
			var beta T
			if b > lo {
				beta = 1
			}
			widen(g, op.out, op.dy[b*op.out*P:(b+1)*op.out*P], op.wides[p])
			shiftWeightGrad(op.gemm, g, op.out, op.x[b*in:(b+1)*in], op.wides[p], beta, acc)
		}
		return
	}
	acc := op.partials[p]
	if lo == hi {
		clear(acc)
	}
	for b := lo; b < hi; b++ {
		xb := op.x[b*in : (b+1)*in]
		col := xb
		if !g.identity() {
			col = op.cols[p]
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
type conv2dBiasGradOp[T opFloat] struct {
	conv2dGrad[T]
	dy, dbd []T
	db      *tensor.Dense
}

func (op *conv2dBiasGradOp[T]) Arity() int { return 1 }
func (op *conv2dBiasGradOp[T]) Type() hm.Type {
	return hm.NewFnType(opTensorType(4), opTensorType(1))
}
func (op *conv2dBiasGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.out}, nil
}
func (op *conv2dBiasGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *conv2dBiasGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *conv2dBiasGradOp[T]) String() string        { return op.describe("dbias") }

func (op *conv2dBiasGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	var err error
	if op.dy, err = opInput[T](op, inputs[0], "output gradient", op.yShape...); err != nil {
		return nil, err
	}
	op.dbd = opOutput[T](&op.db, op.bShape...)
	runOpJob(op, op.out, op.parts, &op.wg)
	op.dy = nil
	return op.db, nil
}

func (op *conv2dBiasGradOp[T]) runPart(_, lo, hi int) {
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

// window describes the sliding window for op names: "k3×3 s1×1 p0×0".
func (g convGeom) window() string {
	return fmt.Sprintf("k%d×%d s%d×%d p%d×%d", g.KH, g.KW, g.SH, g.SW, g.PH, g.PW)
}

// opHash is Hashcode for our ops: FNV-1a of WriteHash, as Gorgonia's own
// ops do (utils.go simpleHash).
func opHash(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

var (
	_ G.SDOp = (*conv2dOp[float32])(nil)
	_ G.Op   = (*conv2dInputGradOp[float32])(nil)
	_ G.Op   = (*conv2dWeightGradOp[float64])(nil)
	_ G.Op   = (*conv2dBiasGradOp[float64])(nil)
)
