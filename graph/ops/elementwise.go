package ops

import (
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// elemOp is an elementwise op of one or two inputs of one shape: the
// forward and backward ops of ReLU and Dropout, which add the methods that
// differentiate a forward op.
//
//	a[, b]: [d0, d1, …] → y: same shape
type elemOp[T Float] struct {
	Base
	kernel elemKernel
	shape  []int
	names  []string // of the inputs, for errors
	a, b   []T      // the inputs of the Do under way
	y      *tensor.Dense
	par    elemwise[T]
}

func newElemOp[T Float](desc string, kernel elemKernel, shape []int, names ...string) elemOp[T] {
	ranks := make([]int, len(names))
	for i := range ranks {
		ranks[i] = len(shape)
	}
	return elemOp[T]{Base: NewBase(desc, dtypeOf[T](), shape, ranks...), kernel: kernel, shape: shape, names: names}
}

// Do implements gorgonia.Op.
func (op *elemOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	args := [2]arg[T]{input(&op.a, op.names[0], op.shape), input(&op.b, op.names[len(op.names)-1], op.shape)}
	if err := readInputs(op, inputs, args[:len(op.names)]...); err != nil {
		return nil, err
	}
	op.par.run(op.kernel, Output[T](&op.y, op.shape...), op.a, op.b)
	op.a, op.b = nil, nil
	return op.y, nil
}

// elemwiseMinPart is the fewest elements worth handing to another worker:
// below ~32k a pass over the elements takes microseconds, about what waking
// a worker costs.
const elemwiseMinPart = 1 << 15

// elemKernel names an elementwise kernel. It is a number rather than a func
// value because a generic function taken as a value inside generic code
// allocates a closure at every run.
type elemKernel int

const (
	elemReLU         elemKernel = iota // dst = relu(a)
	elemReLUGrad                       // dst = b where a ≥ 0, else 0
	elemMul                            // dst = a⊙b
	elemGELU                           // dst = gelu(a)
	elemGELUGrad                       // dst = b·gelu'(a)
	elemSiLU                           // dst = silu(a)
	elemSiLUGrad                       // dst = b·silu'(a)
	elemSoftplus                       // dst = softplus(a)
	elemSoftplusGrad                   // dst = b·softplus'(a)
)

// elemwise runs an elementwise kernel over the workers, each part on its
// own range of the elements. Since each element is computed alone, the
// split does not change any result.
type elemwise[T Float] struct {
	kernel    elemKernel
	dst, a, b []T
	par       split
}

// run sets dst = kernel(a, b) elementwise; b is nil for a kernel that reads
// only a.
func (e *elemwise[T]) run(kernel elemKernel, dst, a, b []T) {
	e.kernel, e.dst, e.a, e.b = kernel, dst, a, b
	e.par.init(len(dst), elemwiseMinPart)
	e.par.run(e)
	e.dst, e.a, e.b = nil, nil, nil
}

// RunPart implements pool.Job.
func (e *elemwise[T]) RunPart(k int) {
	lo, hi := e.par.part(k)
	dst, a := e.dst[lo:hi], e.a[lo:hi]
	switch e.kernel {
	case elemReLU:
		reluForward(dst, a)
	case elemReLUGrad:
		reluBackward(dst, a, e.b[lo:hi])
	case elemMul:
		mulFloat(dst, a, e.b[lo:hi])
	case elemGELU, elemSiLU, elemSoftplus:
		smoothForward(e.kernel, dst, a)
	case elemGELUGrad, elemSiLUGrad, elemSoftplusGrad:
		smoothBackward(e.kernel, dst, a, e.b[lo:hi])
	}
}

// mulFloat is mulInto, 16 float32 elements at a time where the CPU allows.
func mulFloat[T Float](dst, a, b []T) {
	var z T
	if _, ok := any(z).(float32); ok {
		mul32(*(*[]float32)(unsafe.Pointer(&dst)), *(*[]float32)(unsafe.Pointer(&a)), *(*[]float32)(unsafe.Pointer(&b)))
		return
	}
	mulInto(dst, a, b)
}

// mulInto sets dst = a⊙b; the three have the same length.
func mulInto[T Float](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}
