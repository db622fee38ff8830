package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// xentOp is the softmax cross-entropy of logits against targets, averaged
// over the batch, as one op of ours:
//
//	loss = (1/B) Σ_b Σ_c y_bc · (log Σ_k exp(x_bk − m_b) − (x_bc − m_b))
//
// with m_b the row's maximum, so no exponent is positive and logits of
// ±1000 stay finite. It replaces a chain of nine Gorgonia ops (LogSoftmax's
// Max, Reshape, BroadcastSub, Exp, Sum, Log, then HadamardProd, Sum, Mul),
// each allocating its output, and their backward ops, by one forward pass
// and one backward pass over the [B, C] logits. Row sums are in float64.
//
//	logits, targets: [B, C] → scalar
type xentOp[T opFloat] struct {
	xentShapes
	f32 G.F32
	f64 G.F64
}

// xentShapes is what the loss and its backward ops share.
type xentShapes struct {
	batch, classes int
	shape          []int
}

func newXentShapes(batch, classes int) xentShapes {
	return xentShapes{batch: batch, classes: classes, shape: []int{batch, classes}}
}

func (s *xentShapes) ReturnsPtr() bool     { return false }
func (s *xentShapes) CallsExtern() bool    { return false }
func (s *xentShapes) OverwritesInput() int { return -1 }

func (s *xentShapes) describe(what string) string {
	return fmt.Sprintf("SoftmaxCrossEntropy%s %v", what, s.shape)
}

// rowLogSumExp returns the row's maximum m and log Σ exp(x − m), in float64.
func rowLogSumExp[T opFloat](row []T) (m, lse float64) {
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

func newXentOp[T opFloat](batch, classes int) *xentOp[T] {
	return &xentOp[T]{xentShapes: newXentShapes(batch, classes)}
}

// Arity implements gorgonia.Op.
func (op *xentOp[T]) Arity() int { return 2 }

// Type implements gorgonia.Op: Matrix a → Matrix a → a.
func (op *xentOp[T]) Type() hm.Type {
	t2 := opTensorType(2)
	return hm.NewFnType(t2, t2, hm.TypeVariable('a'))
}

// InferShape implements gorgonia.Op.
func (op *xentOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

// Do implements gorgonia.Op. The scalar it returns is the op's own, written
// at every run, so that a run allocates nothing.
func (op *xentOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	x, err := opInput[T](op, inputs[0], "logits", op.shape...)
	if err != nil {
		return nil, err
	}
	y, err := opInput[T](op, inputs[1], "targets", op.shape...)
	if err != nil {
		return nil, err
	}
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
	if opDtype[T]() == tensor.Float32 {
		op.f32 = G.F32(loss)
		return &op.f32, nil
	}
	op.f64 = G.F64(loss)
	return &op.f64, nil
}

// WriteHash implements gorgonia.Op.
func (op *xentOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }

// Hashcode implements gorgonia.Op.
func (op *xentOp[T]) Hashcode() uint32 { return opHash(op) }

func (op *xentOp[T]) String() string { return op.describe("") }

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
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	dx, err := G.ApplyOp(&xentLogitsGradOp[T]{xentShapes: op.xentShapes}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: logits gradient", op)
	}
	dy, err := G.ApplyOp(&xentTargetsGradOp[T]{xentShapes: op.xentShapes}, inputs[0], grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: targets gradient", op)
	}
	return G.Nodes{dx, dy}, nil
}

// opScalar returns the value of a scalar input of one of our ops: a
// Gorgonia scalar, or a tensor of one element.
func opScalar[T opFloat](op G.Op, v G.Value, what string) (T, error) {
	switch s := v.(type) {
	case *G.F32:
		return T(*s), nil
	case *G.F64:
		return T(*s), nil
	case *tensor.Dense:
		if s.Shape().TotalSize() == 1 && !s.RequiresIterator() {
			switch s.Dtype() {
			case tensor.Float32:
				return T(s.Float32s()[0]), nil
			case tensor.Float64:
				return T(s.Float64s()[0]), nil
			}
		}
	}
	return 0, errors.Errorf("%v: %s is a %T (%v), want a float scalar", op, what, v, v)
}

// xentLogitsGradOp computes the gradient with respect to the logits.
//
//	logits, targets: [B, C], g: scalar → dlogits: [B, C]
type xentLogitsGradOp[T opFloat] struct {
	xentShapes
	dx *tensor.Dense
}

func (op *xentLogitsGradOp[T]) Arity() int { return 3 }
func (op *xentLogitsGradOp[T]) Type() hm.Type {
	t2 := opTensorType(2)
	return hm.NewFnType(t2, t2, hm.TypeVariable('a'), t2)
}
func (op *xentLogitsGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.shape).Clone(), nil
}
func (op *xentLogitsGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *xentLogitsGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *xentLogitsGradOp[T]) String() string        { return op.describe(" dlogits") }

func (op *xentLogitsGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("%v: %d inputs, want 3", op, len(inputs))
	}
	x, err := opInput[T](op, inputs[0], "logits", op.shape...)
	if err != nil {
		return nil, err
	}
	y, err := opInput[T](op, inputs[1], "targets", op.shape...)
	if err != nil {
		return nil, err
	}
	g, err := opScalar[float64](op, inputs[2], "loss gradient")
	if err != nil {
		return nil, err
	}
	dx := opOutput[T](&op.dx, op.shape...)
	scale := g / float64(op.batch)
	c := op.classes
	for b := 0; b < op.batch; b++ {
		xr, yr, dr := x[b*c:(b+1)*c], y[b*c:(b+1)*c], dx[b*c:(b+1)*c]
		m, lse := rowLogSumExp(xr)
		sy := 0.0
		for _, t := range yr {
			sy += float64(t)
		}
		for i, v := range xr {
			p := math.Exp(float64(v) - m - lse)
			dr[i] = T(scale * (p*sy - float64(yr[i])))
		}
	}
	return op.dx, nil
}

// xentTargetsGradOp computes the gradient with respect to the targets,
// −g/B · log softmax(x).
//
//	logits: [B, C], g: scalar → dtargets: [B, C]
type xentTargetsGradOp[T opFloat] struct {
	xentShapes
	dy *tensor.Dense
}

func (op *xentTargetsGradOp[T]) Arity() int { return 2 }
func (op *xentTargetsGradOp[T]) Type() hm.Type {
	t2 := opTensorType(2)
	return hm.NewFnType(t2, hm.TypeVariable('a'), t2)
}
func (op *xentTargetsGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.shape).Clone(), nil
}
func (op *xentTargetsGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *xentTargetsGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *xentTargetsGradOp[T]) String() string        { return op.describe(" dtargets") }

func (op *xentTargetsGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	x, err := opInput[T](op, inputs[0], "logits", op.shape...)
	if err != nil {
		return nil, err
	}
	g, err := opScalar[float64](op, inputs[1], "loss gradient")
	if err != nil {
		return nil, err
	}
	dy := opOutput[T](&op.dy, op.shape...)
	scale := g / float64(op.batch)
	c := op.classes
	for b := 0; b < op.batch; b++ {
		xr, dr := x[b*c:(b+1)*c], dy[b*c:(b+1)*c]
		m, lse := rowLogSumExp(xr)
		for i, v := range xr {
			dr[i] = T(scale * (lse - (float64(v) - m)))
		}
	}
	return op.dy, nil
}

var (
	_ G.SDOp = (*xentOp[float32])(nil)
	_ G.Op   = (*xentLogitsGradOp[float64])(nil)
	_ G.Op   = (*xentTargetsGradOp[float64])(nil)
)
