package graph

import (
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opInput returns the elements of an input value of one of our ops, after
// checking that it is a contiguous dense tensor of T with the shape the op
// was built for (Gorgonia checks shapes when the graph is built, but a value
// can be rebound with Let).
func opInput[T opFloat](op G.Op, v G.Value, what string, shape ...int) ([]T, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("%v: %s is a %T, want a *tensor.Dense", op, what, v)
	}
	if t.Dtype() != opDtype[T]() {
		return nil, errors.Errorf("%v: %s is %v, want %v", op, what, t.Dtype(), opDtype[T]())
	}
	if !t.Shape().Eq(tensor.Shape(shape)) {
		return nil, errors.Errorf("%v: %s has shape %v, want %v", op, what, t.Shape(), shape)
	}
	if t.RequiresIterator() {
		return nil, errors.Errorf("%v: %s is not contiguous", op, what)
	}
	return elems[T](t), nil
}

// elems returns the backing slice of t, which must hold T. It does not go
// through t.Data(), which allocates at every call.
func elems[T opFloat](t *tensor.Dense) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		s := t.Float32s()
		return *(*[]T)(unsafe.Pointer(&s))
	}
	s := t.Float64s()
	return *(*[]T)(unsafe.Pointer(&s))
}

// opOutput returns the op's output tensor of the given shape, making it on
// the first run. Our ops own their outputs and reuse them at every run: the
// tape machine's Reset drops every register, and it hands an op a
// preallocated value (UsePreallocDo) only for ops that call extern code, and
// then from an alloc instruction that allocates again after every Reset
// (vm_tape.go:123, compile.go:373, vm_tape.go:584). Reusing is safe because
// each output is written in full at every run, and none of our backward ops
// read a forward output (so an in-place op downstream may overwrite it).
//
// An in-place op downstream may also reshape it: Gorgonia's Reshape, as
// used by Flatten, reshapes its input in place when it is the input's last
// reader (op_tensor.go:1203), so the shape is set again at every run.
func opOutput[T opFloat](t **tensor.Dense, shape ...int) []T {
	if *t == nil {
		*t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]T, tensor.Shape(shape).TotalSize())))
	} else if !(*t).Shape().Eq(tensor.Shape(shape)) {
		// Same size: only the shape changed, so this cannot fail.
		_ = (*t).Reshape(shape...)
	}
	return elems[T](*t)
}

// opTensorType is the type of an n-dimensional tensor whose elements are of
// the op's type variable a.
func opTensorType(dims int) hm.Type { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// diffAllButData is DiffWRT for an op of n inputs whose first input may be
// data: every input is differentiated except input 0 when noInputGrad is set
// (see Builder.IsInput).
func diffAllButData(n int, noInputGrad bool) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	d[0] = !noInputGrad
	return d
}
