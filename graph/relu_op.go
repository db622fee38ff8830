package graph

import (
	"fmt"
	"hash"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// reluOp is max(x, 0) elementwise as one op of ours, in place of Gorgonia's
// Rectify, whose forward and backward allocate their outputs at every run
// (its backward also builds a mask tensor with a comparison first).
//
//	x: [d0, d1, …] → y: same shape
type reluOp[T opFloat] struct {
	shape []int
	y     *tensor.Dense
	par   elemwise[T]
}

func newReLUOp[T opFloat](shape []int) *reluOp[T] {
	return &reluOp[T]{shape: append([]int(nil), shape...)}
}

// Arity implements gorgonia.Op.
func (op *reluOp[T]) Arity() int { return 1 }

// Type implements gorgonia.Op.
func (op *reluOp[T]) Type() hm.Type {
	t := opTensorType(len(op.shape))
	return hm.NewFnType(t, t)
}

// InferShape implements gorgonia.Op.
func (op *reluOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.shape).Clone(), nil
}

// Do implements gorgonia.Op.
func (op *reluOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	x, err := opInput[T](op, inputs[0], "input", op.shape...)
	if err != nil {
		return nil, err
	}
	op.par.run(elemReLU, opOutput[T](&op.y, op.shape...), x, nil)
	return op.y, nil
}

// ReturnsPtr implements gorgonia.Op.
func (op *reluOp[T]) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op.
func (op *reluOp[T]) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op.
func (op *reluOp[T]) OverwritesInput() int { return -1 }

// WriteHash implements gorgonia.Op.
func (op *reluOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }

// Hashcode implements gorgonia.Op.
func (op *reluOp[T]) Hashcode() uint32 { return opHash(op) }

func (op *reluOp[T]) String() string { return fmt.Sprintf("ReLU %v", op.shape) }

// DiffWRT implements gorgonia.SDOp.
func (op *reluOp[T]) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: dx = dy where x ≥ 0, else 0: the
// subgradient 1 at x = 0 is Gorgonia's (Rectify's mask is x ≥ 0; PyTorch
// takes 0 there). It reads the input x, not the output, as Gorgonia's own
// backward ops do.
func (op *reluOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	dx, err := G.ApplyOp(&reluGradOp[T]{shape: op.shape}, inputs[0], grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: input gradient", op)
	}
	return G.Nodes{dx}, nil
}

// reluGradOp computes dx = dy·[x ≥ 0].
//
//	x, dy: [d0, d1, …] → dx: same shape
type reluGradOp[T opFloat] struct {
	shape []int
	dx    *tensor.Dense
	par   elemwise[T]
}

func (op *reluGradOp[T]) Arity() int { return 2 }
func (op *reluGradOp[T]) Type() hm.Type {
	t := opTensorType(len(op.shape))
	return hm.NewFnType(t, t, t)
}
func (op *reluGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.shape).Clone(), nil
}
func (op *reluGradOp[T]) ReturnsPtr() bool      { return false }
func (op *reluGradOp[T]) CallsExtern() bool     { return false }
func (op *reluGradOp[T]) OverwritesInput() int  { return -1 }
func (op *reluGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *reluGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *reluGradOp[T]) String() string        { return fmt.Sprintf("ReLU dx %v", op.shape) }

func (op *reluGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	x, err := opInput[T](op, inputs[0], "input", op.shape...)
	if err != nil {
		return nil, err
	}
	dy, err := opInput[T](op, inputs[1], "output gradient", op.shape...)
	if err != nil {
		return nil, err
	}
	op.par.run(elemReLUGrad, opOutput[T](&op.dx, op.shape...), x, dy)
	return op.dx, nil
}

// reluForward sets y = x where x ≥ 0 or x is NaN, else 0: Gorgonia's
// Rectify, x ⊙ [x ≥ 0], to the bit (a NaN passes, so that a diverging
// network shows NaN logits). The kernels clear the bits with a mask that the
// compiler computes without a branch: the sign of a hidden unit is random,
// and the branchy loop ran 7 times slower from mispredictions.
func reluForward[T opFloat](y, x []T) {
	var z T
	if _, ok := any(z).(float32); ok {
		reluForward32(*(*[]float32)(unsafe.Pointer(&y)), *(*[]float32)(unsafe.Pointer(&x)))
		return
	}
	reluForward64(*(*[]float64)(unsafe.Pointer(&y)), *(*[]float64)(unsafe.Pointer(&x)))
}

func reluForward32(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		m := ^uint32(0)
		if v < 0 {
			m = 0
		}
		y[i] = math.Float32frombits(math.Float32bits(v) & m)
	}
}

func reluForward64(y, x []float64) {
	y = y[:len(x)]
	for i, v := range x {
		m := ^uint64(0)
		if v < 0 {
			m = 0
		}
		y[i] = math.Float64frombits(math.Float64bits(v) & m)
	}
}

// reluBackward sets dx = dy where x ≥ 0, else 0, without a branch.
func reluBackward[T opFloat](dx, x, dy []T) {
	var z T
	if _, ok := any(z).(float32); ok {
		reluBackward32(*(*[]float32)(unsafe.Pointer(&dx)), *(*[]float32)(unsafe.Pointer(&x)), *(*[]float32)(unsafe.Pointer(&dy)))
		return
	}
	reluBackward64(*(*[]float64)(unsafe.Pointer(&dx)), *(*[]float64)(unsafe.Pointer(&x)), *(*[]float64)(unsafe.Pointer(&dy)))
}

func reluBackward32(dx, x, dy []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		var m uint32
		if v >= 0 {
			m = ^uint32(0)
		}
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}

func reluBackward64(dx, x, dy []float64) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		var m uint64
		if v >= 0 {
			m = ^uint64(0)
		}
		dx[i] = math.Float64frombits(math.Float64bits(dy[i]) & m)
	}
}

var (
	_ G.SDOp = (*reluOp[float32])(nil)
	_ G.Op   = (*reluGradOp[float64])(nil)
)
