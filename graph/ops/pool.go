package ops

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/internal/pool"
)

// PoolConfig configures MaxPool2D and AvgPool2D.
type PoolConfig struct {
	// Kernel is the window's height and width.
	Kernel [2]int
	// Stride is the step between windows; zero means Kernel (windows that
	// do not overlap), as in PyTorch.
	Stride [2]int
	// Pad is the padding on each side of the height and width, at most
	// half the kernel.
	Pad [2]int
}

// MaxPool2D takes the maximum of each window of each plane of x, as
// PyTorch's nn.MaxPool2d: padding never wins, and a NaN in a window is its
// maximum. The gradient goes to the maximum of each window.
//
//	x: [B, C, H, W] → y: [B, C, OH, OW],  OH = (H + 2·Pad[0] − Kernel[0])/Stride[0] + 1
//
// The planes are split over the workers of internal/pool, where Gorgonia's
// MaxPool2D runs on one goroutine and panics on a bad shape instead of
// returning an error (nn.go:372).
func MaxPool2D(x *G.Node, cfg PoolConfig) (*G.Node, error) {
	s, err := newPoolShapes("MaxPool2D", x, cfg)
	if err != nil {
		return nil, err
	}
	return apply("ops.MaxPool2D", x.Dtype(),
		func() G.Op { return newMaxPoolOp[float32](s) }, func() G.Op { return newMaxPoolOp[float64](s) }, x)
}

// AvgPool2D averages each window of each plane of x, padded zeros
// included: the divisor is always Kernel[0]·Kernel[1], PyTorch's default
// (count_include_pad=True). Shapes are as for MaxPool2D.
func AvgPool2D(x *G.Node, cfg PoolConfig) (*G.Node, error) {
	s, err := newPoolShapes("AvgPool2D", x, cfg)
	if err != nil {
		return nil, err
	}
	return apply("ops.AvgPool2D", x.Dtype(),
		func() G.Op { return newAvgPoolOp[float32](s) }, func() G.Op { return newAvgPoolOp[float64](s) }, x)
}

// poolShapes is a pooling window's geometry and the shapes of its input and
// output, made once so that checking the values at every run allocates
// nothing.
type poolShapes struct {
	kind           string // "MaxPool2D" or "AvgPool2D"
	g              convGeom
	xShape, yShape []int
}

func newPoolShapes(kind string, x *G.Node, cfg PoolConfig) (poolShapes, error) {
	k, p := cfg.Kernel, cfg.Pad
	if 2*p[0] > k[0] || 2*p[1] > k[1] {
		return poolShapes{}, errors.Errorf("ops.%s: padding %d×%d is more than half the %d×%d kernel", kind, p[0], p[1], k[0], k[1])
	}
	g, err := windowGeom(x.Shape(), k, orDefault(cfg.Stride, k), p)
	if err != nil {
		return poolShapes{}, errors.Wrapf(err, "ops.%s", kind)
	}
	return poolShapesOf(kind, g), nil
}

func poolShapesOf(kind string, g convGeom) poolShapes {
	return poolShapes{kind: kind, g: g, xShape: []int{g.B, g.C, g.H, g.W}, yShape: []int{g.B, g.C, g.OH, g.OW}}
}

// planes is what a pooling op and its backward op share: the geometry,
// the split of the B·C planes over the workers, and the input and output
// of the Do under way.
type planes[T Float] struct {
	Base
	poolShapes
	par               split
	inName            string
	inShape, outShape []int
	in, out           []T // the elements of the input and of the output
	y                 *tensor.Dense
}

// init sets p up for the forward op (what "", from x to y) or the
// backward op (" dx", from dy to dx) of s.
func (p *planes[T]) init(s poolShapes, what string) {
	p.poolShapes = s
	p.inName, p.inShape, p.outShape = "input", s.xShape, s.yShape
	if what != "" {
		p.inName, p.inShape, p.outShape = "output gradient", s.yShape, s.xShape
	}
	desc := fmt.Sprintf("%s%s %v→%v %s", s.kind, what, s.xShape, s.yShape, s.g.window())
	p.Base = NewBase(desc, dtypeOf[T](), p.outShape, 4)
	p.par.init(s.g.B*s.g.C, 1)
}

// do is the Do of the op job, of which p is part: it runs job over the
// planes of the input.
func (p *planes[T]) do(job pool.Job, inputs []G.Value) (G.Value, error) {
	return doParts(p, &p.par, job, inputs, &p.y, &p.out, p.outShape, input(&p.in, p.inName, p.inShape))
}

// symDiff is SymDiff for a forward op of p with backward op dxOp.
func (p *planes[T]) symDiff(inputs G.Nodes, grad *G.Node, dxOp G.Op) (G.Nodes, error) {
	if err := p.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	dx, err := applyGrad(p, "gradient", dxOp, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// maxPoolOp is the forward op of MaxPool2D. It keeps the index of each
// maximum within its plane (argmax, sized from the input shape when the op
// is built) for the backward op, which scatters the gradient there.
type maxPoolOp[T Float] struct {
	planes[T]
	argmax []int32
}

func newMaxPoolOp[T Float](s poolShapes) *maxPoolOp[T] {
	op := &maxPoolOp[T]{argmax: make([]int32, s.g.B*s.g.C*s.g.OH*s.g.OW)}
	op.init(s, "")
	return op
}

// Do implements gorgonia.Op.
func (op *maxPoolOp[T]) Do(inputs ...G.Value) (G.Value, error) { return op.do(op, inputs) }

// RunPart implements pool.Job: the planes of part k.
func (op *maxPoolOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	g := op.g
	in, out := g.H*g.W, g.OH*g.OW
	for q := lo; q < hi; q++ {
		x := op.in[q*in : (q+1)*in]
		y := op.out[q*out : (q+1)*out]
		arg := op.argmax[q*out : (q+1)*out]
		if g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 {
			maxPool2x2Float(g, x, y, arg)
			continue
		}
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				h0, h1, w0, w1 := g.poolWindow(oh, ow)
				// Padding is at most half the window (newPoolShapes checks),
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

// maxPool2x2 is RunPart's inner loop for one plane and the commonest window,
// 2×2 with stride 2 and no padding. It picks the same element as the general
// loop's row-by-row scan (a later element wins only if strictly greater, or
// if it is the first NaN) as a tournament: the first maximum of each row's
// pair, then of the two, which is the scan's first maximum. Each match is
// computed without a branch (later2i): which element of a window is largest
// is random, and the branchy scan spent most of its time in mispredictions.
func maxPool2x2[T Float](g convGeom, x, y []T, arg []int32) {
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
func later2i[T Float](a, b T) int {
	var notLE, aNum int
	if !(b <= a) {
		notLE = 1
	}
	if a == a {
		aNum = 1
	}
	return notLE & aNum
}

// DiffWRT implements gorgonia.SDOp.
func (op *maxPoolOp[T]) DiffWRT(int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp.
func (op *maxPoolOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return op.symDiff(inputs, grad, newMaxPoolGradOp(op))
}

// maxPoolGradOp sends each output's gradient to the input element that was
// the window's maximum in the forward run of the same step. It reads the
// forward op's argmax, which is current because dy depends on the forward
// output, so the forward op has always run first.
//
//	dy: [B, C, OH, OW] → dx: [B, C, H, W]
type maxPoolGradOp[T Float] struct {
	planes[T]
	fwd *maxPoolOp[T]
}

func newMaxPoolGradOp[T Float](fwd *maxPoolOp[T]) *maxPoolGradOp[T] {
	op := &maxPoolGradOp[T]{fwd: fwd}
	op.init(fwd.poolShapes, " dx")
	return op
}

// Do implements gorgonia.Op.
func (op *maxPoolGradOp[T]) Do(inputs ...G.Value) (G.Value, error) { return op.do(op, inputs) }

// RunPart implements pool.Job: the planes of part k.
func (op *maxPoolGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	in, out := op.g.H*op.g.W, op.g.OH*op.g.OW
	for q := lo; q < hi; q++ {
		dx := op.out[q*in : (q+1)*in]
		clear(dx)
		dy := op.in[q*out : (q+1)*out]
		for j, i := range op.fwd.argmax[q*out : (q+1)*out] {
			dx[i] += dy[j]
		}
	}
}

// avgPoolOp is the forward op of AvgPool2D.
type avgPoolOp[T Float] struct{ planes[T] }

func newAvgPoolOp[T Float](s poolShapes) *avgPoolOp[T] {
	op := new(avgPoolOp[T])
	op.init(s, "")
	return op
}

// Do implements gorgonia.Op.
func (op *avgPoolOp[T]) Do(inputs ...G.Value) (G.Value, error) { return op.do(op, inputs) }

// RunPart implements pool.Job: the planes of part k.
func (op *avgPoolOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	g := op.g
	in, out := g.H*g.W, g.OH*g.OW
	scale := 1 / T(g.KH*g.KW)
	for q := lo; q < hi; q++ {
		x := op.in[q*in : (q+1)*in]
		y := op.out[q*out : (q+1)*out]
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

// DiffWRT implements gorgonia.SDOp.
func (op *avgPoolOp[T]) DiffWRT(int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp.
func (op *avgPoolOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return op.symDiff(inputs, grad, newAvgPoolGradOp[T](op.poolShapes))
}

// avgPoolGradOp spreads each output's gradient evenly, 1/(KH·KW) each, over
// the real input elements of its window.
//
//	dy: [B, C, OH, OW] → dx: [B, C, H, W]
type avgPoolGradOp[T Float] struct{ planes[T] }

func newAvgPoolGradOp[T Float](s poolShapes) *avgPoolGradOp[T] {
	op := new(avgPoolGradOp[T])
	op.init(s, " dx")
	return op
}

// Do implements gorgonia.Op.
func (op *avgPoolGradOp[T]) Do(inputs ...G.Value) (G.Value, error) { return op.do(op, inputs) }

// RunPart implements pool.Job: the planes of part k.
func (op *avgPoolGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	g := op.g
	in, out := g.H*g.W, g.OH*g.OW
	scale := 1 / T(g.KH*g.KW)
	for q := lo; q < hi; q++ {
		dx := op.out[q*in : (q+1)*in]
		clear(dx)
		dy := op.in[q*out : (q+1)*out]
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
