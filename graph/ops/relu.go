package ops

import (
	"fmt"
	"math"
	"unsafe"

	G "gorgonia.org/gorgonia"
)

// ReLU is max(x, 0) elementwise, a NaN passing through, as one op, in place
// of Gorgonia's Rectify, whose forward and backward allocate their outputs
// at every run (its backward also builds a mask tensor with a comparison
// first). The subgradient at 0 is 1, Gorgonia's (Rectify's mask is x ≥ 0;
// PyTorch takes 0 there).
//
//	x: [d0, d1, …] → y: same shape
func ReLU(x *G.Node) (*G.Node, error) {
	shape := []int(x.Shape().Clone())
	return apply("ops.ReLU", x.Dtype(),
		func() G.Op { return newReLUOp[float32](shape) }, func() G.Op { return newReLUOp[float64](shape) }, x)
}

// reluOp is the forward op of ReLU.
type reluOp[T Float] struct{ elemOp[T] }

func newReLUOp[T Float](shape []int) *reluOp[T] {
	return &reluOp[T]{newElemOp[T](fmt.Sprintf("ReLU %v", shape), elemReLU, shape, "input")}
}

// DiffWRT implements gorgonia.SDOp.
func (op *reluOp[T]) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: dx = dy where x ≥ 0, else 0. It reads
// the input x, not the output, as Gorgonia's own backward ops do.
//
//	x, dy: [d0, d1, …] → dx: same shape
func (op *reluOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	dxOp := newElemOp[T](fmt.Sprintf("ReLU dx %v", op.shape), elemReLUGrad, op.shape, "input", "output gradient")
	dx, err := applyGrad(op, "input gradient", &dxOp, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// reluForward sets y = x where x ≥ 0 or x is NaN, else 0: Gorgonia's
// Rectify, x ⊙ [x ≥ 0], to the bit (a NaN passes, so that a diverging
// network shows NaN logits). The kernels clear the bits with a mask that the
// compiler computes without a branch: the sign of a hidden unit is random,
// and the branchy loop ran 7 times slower from mispredictions.
func reluForward[T Float](y, x []T) {
	var z T
	if _, ok := any(z).(float32); ok {
		reluForwardVec32(*(*[]float32)(unsafe.Pointer(&y)), *(*[]float32)(unsafe.Pointer(&x)))
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
func reluBackward[T Float](dx, x, dy []T) {
	var z T
	if _, ok := any(z).(float32); ok {
		reluBackwardVec32(*(*[]float32)(unsafe.Pointer(&dx)), *(*[]float32)(unsafe.Pointer(&x)), *(*[]float32)(unsafe.Pointer(&dy)))
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

var _ G.SDOp = (*reluOp[float32])(nil)
