package graph

import (
	"fmt"
	"hash"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// poolShapes is a pooling window's geometry and the shapes of its input and
// output, made once so that checking the values at every run allocates
// nothing.
type poolShapes struct {
	kind           string // "MaxPool2D" or "AvgPool2D"
	g              convGeom
	xShape, yShape []int
	parts          int
	wg             sync.WaitGroup
}

func newPoolShapes(kind string, g convGeom) poolShapes {
	return poolShapes{kind: kind, g: g,
		xShape: []int{g.B, g.C, g.H, g.W},
		yShape: []int{g.B, g.C, g.OH, g.OW},
		parts:  opParts(g.B * g.C)}
}

func (p *poolShapes) Arity() int           { return 1 }
func (p *poolShapes) Type() hm.Type        { t := opTensorType(4); return hm.NewFnType(t, t) }
func (p *poolShapes) ReturnsPtr() bool     { return false }
func (p *poolShapes) CallsExtern() bool    { return false }
func (p *poolShapes) OverwritesInput() int { return -1 }
func (p *poolShapes) DiffWRT(int) []bool   { return []bool{true} }

func (p *poolShapes) describe(what string) string {
	return fmt.Sprintf("%s%s %v→%v %s", p.kind, what, p.xShape, p.yShape, p.g.window())
}

// poolWindow returns the rows [h0, h1) and columns [w0, w1) of the input that
// output (oh, ow) covers, clipped to the image.
func (g convGeom) poolWindow(oh, ow int) (h0, h1, w0, w1 int) {
	h0, w0 = oh*g.SH-g.PH, ow*g.SW-g.PW
	h1, w1 = min(h0+g.KH, g.H), min(w0+g.KW, g.W)
	return max(h0, 0), h1, max(w0, 0), w1
}

// maxPoolOp is 2-D max pooling over NCHW planes, split over the workers by
// plane, in place of Gorgonia's single-threaded MaxPool2D.
//
//	x: [B, C, H, W] → y: [B, C, OH, OW]
//
// It keeps the index of each maximum within its plane (argmax, sized from
// the input shape when the op is built) for the backward op, which scatters
// the gradient there. A NaN in a window is its maximum, as in PyTorch.
type maxPoolOp[T opFloat] struct {
	poolShapes
	x, yd  []T
	y      *tensor.Dense
	argmax []int32
}

func newMaxPoolOp[T opFloat](g convGeom) *maxPoolOp[T] {
	return &maxPoolOp[T]{poolShapes: newPoolShapes("MaxPool2D", g), argmax: make([]int32, g.B*g.C*g.OH*g.OW)}
}

// InferShape implements gorgonia.Op.
func (op *maxPoolOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.yShape).Clone(), nil
}

// WriteHash implements gorgonia.Op.
func (op *maxPoolOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }

// Hashcode implements gorgonia.Op.
func (op *maxPoolOp[T]) Hashcode() uint32 { return opHash(op) }
func (op *maxPoolOp[T]) String() string   { return op.describe("") }

// Do implements gorgonia.Op.
func (op *maxPoolOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	var err error
	if op.x, err = opInput[T](op, inputs[0], "input", op.xShape...); err != nil {
		return nil, err
	}
	op.yd = opOutput[T](&op.y, op.yShape...)
	runOpJob(op, op.g.B*op.g.C, op.parts, &op.wg)
	op.x = nil
	return op.y, nil
}

func (op *maxPoolOp[T]) runPart(_, lo, hi int) {
	g := op.g
	in, out := g.H*g.W, g.OH*g.OW
	for q := lo; q < hi; q++ {
		x := op.x[q*in : (q+1)*in]
		y := op.yd[q*out : (q+1)*out]
		arg := op.argmax[q*out : (q+1)*out]
		if g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 {
			maxPool2x2(g, x, y, arg)
			continue
		}
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				h0, h1, w0, w1 := g.poolWindow(oh, ow)
				// Padding is at most half the window (OutShape checks),
				// so every window holds a real element.
				best := h0*g.W + w0
				bv := x[best]
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						i := ih*g.W + iw
						if v := x[i]; v > bv || (v != v && bv == bv) {
							best, bv = i, v
						}
					}
				}
				y[oh*g.OW+ow] = bv
				arg[oh*g.OW+ow] = int32(best)
			}
		}
	}
}

// maxPool2x2 is runPart's inner loop for one plane and the commonest window,
// 2×2 with stride 2 and no padding. It picks the same element as the general
// loop's row-by-row scan (a later element wins only if strictly greater, or
// if it is the first NaN) as a tournament: the first maximum of each row's
// pair, then of the two, which is the scan's first maximum. Each match is
// computed without a branch (later2i): which element of a window is largest
// is random, and the branchy scan spent most of its time in mispredictions.
func maxPool2x2[T opFloat](g convGeom, x, y []T, arg []int32) {
	for oh := 0; oh < g.OH; oh++ {
		i0 := 2 * oh * g.W
		r := x[i0 : i0+g.W+2*g.OW]
		yr := y[oh*g.OW : (oh+1)*g.OW]
		ar := arg[oh*g.OW : (oh+1)*g.OW]
		for ow := range yr {
			j := 2 * ow
			top := j + later2i(r[j], r[j+1])
			bot := g.W + j + later2i(r[g.W+j], r[g.W+j+1])
			best := top + later2i(r[top], r[bot])*(bot-top)
			yr[ow] = r[best]
			ar[ow] = int32(i0 + best)
		}
	}
}

// later2i is 1 if b, scanned after a, replaces it as the maximum: b > a, or
// b is NaN and a is not. That is b ≰ a (true also when either is NaN) with
// a not NaN. Each comparison becomes a flag, not a branch.
func later2i[T opFloat](a, b T) int {
	var notLE, aNum int
	if !(b <= a) {
		notLE = 1
	}
	if a == a {
		aNum = 1
	}
	return notLE & aNum
}

// SymDiff implements gorgonia.SDOp.
func (op *maxPoolOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	dx, err := G.ApplyOp(&maxPoolGradOp[T]{poolShapes: newPoolShapes("MaxPool2D", op.g), fwd: op}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: gradient", op)
	}
	return G.Nodes{dx}, nil
}

// maxPoolGradOp sends each output's gradient to the input element that was
// the window's maximum in the forward run of the same step. It reads the
// forward op's argmax, which is current because dy depends on the forward
// output, so the forward op has always run first.
//
//	dy: [B, C, OH, OW] → dx: [B, C, H, W]
type maxPoolGradOp[T opFloat] struct {
	poolShapes
	fwd     *maxPoolOp[T]
	dy, dxd []T
	dx      *tensor.Dense
}

func (op *maxPoolGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.xShape).Clone(), nil
}
func (op *maxPoolGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *maxPoolGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *maxPoolGradOp[T]) String() string        { return op.describe(" dx") }

func (op *maxPoolGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	var err error
	if op.dy, err = opInput[T](op, inputs[0], "output gradient", op.yShape...); err != nil {
		return nil, err
	}
	op.dxd = opOutput[T](&op.dx, op.xShape...)
	runOpJob(op, op.g.B*op.g.C, op.parts, &op.wg)
	op.dy = nil
	return op.dx, nil
}

func (op *maxPoolGradOp[T]) runPart(_, lo, hi int) {
	in, out := op.g.H*op.g.W, op.g.OH*op.g.OW
	for q := lo; q < hi; q++ {
		dx := op.dxd[q*in : (q+1)*in]
		clear(dx)
		dy := op.dy[q*out : (q+1)*out]
		for j, i := range op.fwd.argmax[q*out : (q+1)*out] {
			dx[i] += dy[j]
		}
	}
}

// avgPoolOp is 2-D average pooling over NCHW planes. Padded zeros count in
// the average, which is always over KH·KW elements: PyTorch's default
// (count_include_pad=True).
//
//	x: [B, C, H, W] → y: [B, C, OH, OW]
type avgPoolOp[T opFloat] struct {
	poolShapes
	x, yd []T
	y     *tensor.Dense
}

func newAvgPoolOp[T opFloat](g convGeom) *avgPoolOp[T] {
	return &avgPoolOp[T]{poolShapes: newPoolShapes("AvgPool2D", g)}
}

func (op *avgPoolOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.yShape).Clone(), nil
}
func (op *avgPoolOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *avgPoolOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *avgPoolOp[T]) String() string        { return op.describe("") }

func (op *avgPoolOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	var err error
	if op.x, err = opInput[T](op, inputs[0], "input", op.xShape...); err != nil {
		return nil, err
	}
	op.yd = opOutput[T](&op.y, op.yShape...)
	runOpJob(op, op.g.B*op.g.C, op.parts, &op.wg)
	op.x = nil
	return op.y, nil
}

func (op *avgPoolOp[T]) runPart(_, lo, hi int) {
	g := op.g
	in, out := g.H*g.W, g.OH*g.OW
	scale := 1 / T(g.KH*g.KW)
	for q := lo; q < hi; q++ {
		x := op.x[q*in : (q+1)*in]
		y := op.yd[q*out : (q+1)*out]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				h0, h1, w0, w1 := g.poolWindow(oh, ow)
				var s T
				for ih := h0; ih < h1; ih++ {
					for _, v := range x[ih*g.W+w0 : ih*g.W+w1] {
						s += v
					}
				}
				y[oh*g.OW+ow] = s * scale
			}
		}
	}
}

// SymDiff implements gorgonia.SDOp.
func (op *avgPoolOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	dx, err := G.ApplyOp(&avgPoolGradOp[T]{poolShapes: newPoolShapes("AvgPool2D", op.g)}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: gradient", op)
	}
	return G.Nodes{dx}, nil
}

// avgPoolGradOp spreads each output's gradient evenly, 1/(KH·KW) each, over
// the real input elements of its window.
//
//	dy: [B, C, OH, OW] → dx: [B, C, H, W]
type avgPoolGradOp[T opFloat] struct {
	poolShapes
	dy, dxd []T
	dx      *tensor.Dense
}

func (op *avgPoolGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.xShape).Clone(), nil
}
func (op *avgPoolGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *avgPoolGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *avgPoolGradOp[T]) String() string        { return op.describe(" dx") }

func (op *avgPoolGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	var err error
	if op.dy, err = opInput[T](op, inputs[0], "output gradient", op.yShape...); err != nil {
		return nil, err
	}
	op.dxd = opOutput[T](&op.dx, op.xShape...)
	runOpJob(op, op.g.B*op.g.C, op.parts, &op.wg)
	op.dy = nil
	return op.dx, nil
}

func (op *avgPoolGradOp[T]) runPart(_, lo, hi int) {
	g := op.g
	in, out := g.H*g.W, g.OH*g.OW
	scale := 1 / T(g.KH*g.KW)
	for q := lo; q < hi; q++ {
		dx := op.dxd[q*in : (q+1)*in]
		clear(dx)
		dy := op.dy[q*out : (q+1)*out]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				h0, h1, w0, w1 := g.poolWindow(oh, ow)
				d := dy[oh*g.OW+ow] * scale
				for ih := h0; ih < h1; ih++ {
					row := dx[ih*g.W+w0 : ih*g.W+w1]
					for i := range row {
						row[i] += d
					}
				}
			}
		}
	}
}

var (
	_ G.SDOp = (*maxPoolOp[float32])(nil)
	_ G.Op   = (*maxPoolGradOp[float32])(nil)
	_ G.SDOp = (*avgPoolOp[float64])(nil)
	_ G.Op   = (*avgPoolGradOp[float64])(nil)
)
