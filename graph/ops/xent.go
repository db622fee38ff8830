package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy is the softmax cross-entropy of logits against target
// class probabilities (one-hot rows for labels), averaged over the batch, as
// one op:
//
//	loss = (1/B) Σ_b Σ_c y_bc · (log Σ_k exp(x_bk − m_b) − (x_bc − m_b))
//
// with m_b the row's own maximum, so no exponent is positive and logits of
// ±1000 stay finite, where Gorgonia's softmax takes the maximum of the
// whole tensor (docs/GORGONIA.md#softmax-overflows). It replaces a chain of
// nine Gorgonia ops (LogSoftmax's Max, Reshape, BroadcastSub, Exp, Sum, Log,
// then HadamardProd, Sum, Mul), each allocating its output, and their
// backward ops, by one forward pass and one backward pass over the logits.
// Row sums are in float64. A zero target skips its term, so a logit of −Inf
// under it does not make the loss NaN.
//
//	logits, targets: [B, C] → scalar
func SoftmaxCrossEntropy(logits, targets *G.Node) (*G.Node, error) {
	s := logits.Shape()
	if s.Dims() != 2 || !hasShape(targets, s) {
		return nil, errors.Errorf("ops.SoftmaxCrossEntropy: logits %v and targets %v are not both [B, C]", s, targets.Shape())
	}
	xs := xentShapes{batch: s[0], classes: s[1], shape: []int{s[0], s[1]}}
	return apply("ops.SoftmaxCrossEntropy", logits.Dtype(),
		func() G.Op { return newXentOp[float32](xs) }, func() G.Op { return newXentOp[float64](xs) }, logits, targets)
}

// xentShapes is what the loss and its backward ops share.
type xentShapes struct {
	batch, classes int
	shape          []int
}

// base returns the Base of the loss (what "") or of one of its backward ops.
func (s *xentShapes) base(what string, dt tensor.Dtype, out []int, inRanks ...int) Base {
	return NewBase(fmt.Sprintf("SoftmaxCrossEntropy%s %v", what, s.shape), dt, out, inRanks...)
}

// rowLogSumExp returns the row's maximum m and log Σ exp(x − m), in float64.
func rowLogSumExp[T Float](row []T) (m, lse float64) {
	m = float64(row[0])
	for _, v := range row[1:] {
		// A NaN is never greater, but it makes the sum below NaN.
		if f := float64(v); f > m {
			m = f
		}
	}
	s := 0.0
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m, math.Log(s)
}

// xentOp is the forward op of SoftmaxCrossEntropy.
type xentOp[T Float] struct {
	Base
	xentShapes
	x, y []T // the inputs of the Do under way
	f32  G.F32
	f64  G.F64
}

func newXentOp[T Float](s xentShapes) *xentOp[T] {
	return &xentOp[T]{Base: s.base("", dtypeOf[T](), nil, 2, 2), xentShapes: s}
}

// Do implements gorgonia.Op. The scalar it returns is the op's own, written
// at every run, so that a run allocates nothing.
func (op *xentOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if err := readInputs(op, inputs, input(&op.x, "logits", op.shape), input(&op.y, "targets", op.shape)); err != nil {
		return nil, err
	}
	x, y := op.x, op.y
	op.x, op.y = nil, nil
	c := op.classes
	total := 0.0
	for b := 0; b < op.batch; b++ {
		xr, yr := x[b*c:(b+1)*c], y[b*c:(b+1)*c]
		m, lse := rowLogSumExp(xr)
		for i, t := range yr {
			// Skipping zero targets keeps 0·∞ (a logit of −Inf) from
			// making the loss NaN, and saves work on one-hot rows.
			if t != 0 {
				total += float64(t) * (lse - (float64(xr[i]) - m))
			}
		}
	}
	loss := total / float64(op.batch)
	if dtypeOf[T]() == tensor.Float32 {
		op.f32 = G.F32(loss)
		return &op.f32, nil
	}
	op.f64 = G.F64(loss)
	return &op.f64, nil
}

// DiffWRT implements gorgonia.SDOp.
func (op *xentOp[T]) DiffWRT(n int) []bool { return []bool{true, true} }

// SymDiff implements gorgonia.SDOp: with g the scalar's gradient,
//
//	∂/∂x_bc = g/B · (softmax(x_b)_c · Σ_k y_bk − y_bc)
//	∂/∂y_bc = g/B · (log Σ_k exp(x_bk − m_b) − (x_bc − m_b))   (−log softmax)
//
// which for rows of y that sum to 1 is the familiar (softmax − y)/B. The
// targets' gradient is what the elementary-op chain gave; it is a [B, C]
// pass, negligible next to the network.
func (op *xentOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	dt := dtypeOf[T]()
	dxOp := &xentGradOp[T]{Base: op.base(" dlogits", dt, op.shape, 2, 2, 0), xentShapes: op.xentShapes, logits: true}
	dx, err := applyGrad(op, "logits gradient", dxOp, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	dyOp := &xentGradOp[T]{Base: op.base(" dtargets", dt, op.shape, 2, 0), xentShapes: op.xentShapes}
	dy, err := applyGrad(op, "targets gradient", dyOp, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dy}, nil
}

// xentGradOp computes the gradient with respect to the logits, or without
// logits set the gradient with respect to the targets, −g/B · log
// softmax(x).
//
//	logits, targets: [B, C], g: scalar → dlogits: [B, C]
//	logits: [B, C], g: scalar → dtargets: [B, C]
type xentGradOp[T Float] struct {
	Base
	xentShapes
	logits bool
	x, y   []T // the inputs of the Do under way
	res    *tensor.Dense
}

func (op *xentGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	args := [2]arg[T]{input(&op.x, "logits", op.shape), input(&op.y, "targets", op.shape)}
	n := 1
	if op.logits {
		n = 2
	}
	if err := readInputs(op, inputs, args[:n]...); err != nil {
		return nil, err
	}
	x, y := op.x, op.y
	op.x, op.y = nil, nil
	g, err := scalarInput[float64](op, inputs[n], "loss gradient")
	if err != nil {
		return nil, err
	}
	d := Output[T](&op.res, op.shape...)
	scale := g / float64(op.batch)
	c := op.classes
	for b := 0; b < op.batch; b++ {
		xr, dr := x[b*c:(b+1)*c], d[b*c:(b+1)*c]
		m, lse := rowLogSumExp(xr)
		if !op.logits {
			for i, v := range xr {
				dr[i] = T(scale * (lse - (float64(v) - m)))
			}
			continue
		}
		yr := y[b*c : (b+1)*c]
		sy := 0.0
		for _, t := range yr {
			sy += float64(t)
		}
		for i, v := range xr {
			p := math.Exp(float64(v) - m - lse)
			dr[i] = T(scale * (p*sy - float64(yr[i])))
		}
	}
	return op.res, nil
}

var (
	_ G.SDOp = (*xentOp[float32])(nil)
	_ G.Op   = (*xentGradOp[float64])(nil)
)
