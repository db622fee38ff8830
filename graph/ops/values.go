package ops

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float is the element type of the kernels.
type Float interface{ float32 | float64 }

// Input returns the elements of an input value of op, after checking that
// it is a contiguous dense tensor of T with the shape the op was built for:
// Gorgonia checks shapes when the graph is built, but a value can be
// rebound with Let. It allocates only to report an error.
func Input[T Float](op fmt.Stringer, v G.Value, what string, shape ...int) ([]T, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("%v: %s is a %T, want a *tensor.Dense", op, what, v)
	}
	if t.Dtype() != dtypeOf[T]() {
		return nil, errors.Errorf("%v: %s is %v, want %v", op, what, t.Dtype(), dtypeOf[T]())
	}
	if !t.Shape().Eq(tensor.Shape(shape)) {
		return nil, errors.Errorf("%v: %s has shape %v, want %v", op, what, t.Shape(), shape)
	}
	if t.RequiresIterator() {
		return nil, errors.Errorf("%v: %s is not contiguous", op, what)
	}
	return elems[T](t), nil
}

// Output returns the elements of an op's output tensor *t of the given
// shape, making the tensor on the first run. The ops of this package own
// their outputs and reuse them at every run: the tape machine's Reset drops
// every register, and it hands an op a preallocated value only for ops
// that call extern code, from an alloc instruction that allocates again
// after every Reset
// (docs/GORGONIA.md#preallocated-outputs-go-only-to-ops-that-call-extern-code).
// Reusing is safe because each output is written in full at every run, and
// no backward op here reads a forward output (so an in-place op downstream
// may overwrite it).
//
// An in-place op downstream may also reshape it, so the shape is set again
// at every run
// (docs/GORGONIA.md#a-later-reshape-can-reshape-an-ops-output-in-place).
func Output[T Float](t **tensor.Dense, shape ...int) []T {
	if *t == nil {
		*t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]T, tensor.Shape(shape).TotalSize())))
	} else if !(*t).Shape().Eq(tensor.Shape(shape)) {
		// Same size: only the shape changed, so this cannot fail.
		_ = (*t).Reshape(shape...)
	}
	return elems[T](*t)
}

// described is an op as readInputs sees it: what Base gives it.
type described interface {
	fmt.Stringer
	CheckArity(int) error
}

// An arg is one input of an op for readInputs: where its elements go, what
// it is (for errors) and the shape it must have.
type arg[T Float] struct {
	dst   *[]T
	name  string
	shape []int
}

// input returns the arg of an input named name of the given shape whose
// elements go to *dst.
func input[T Float](dst *[]T, name string, shape []int) arg[T] {
	return arg[T]{dst: dst, name: name, shape: shape}
}

// readInputs checks that op has as many inputs as its arity and stores the
// elements of the first len(args) of them, checked by Input, in the args'
// destinations. The destinations are fields of the op: the args escape
// with the names and shapes that errors quote, so a pointer to a local
// variable would move it to the heap at every run. Then readInputs
// allocates only to report an error.
func readInputs[T Float](op described, inputs []G.Value, args ...arg[T]) error {
	if err := op.CheckArity(len(inputs)); err != nil {
		return err
	}
	for i, a := range args {
		v, err := Input[T](op, inputs[i], a.name, a.shape...)
		if err != nil {
			return err
		}
		*a.dst = v
	}
	return nil
}

// elems returns the backing slice of t, which must hold T. It does not go
// through t.Data(), which allocates at every call.
func elems[T Float](t *tensor.Dense) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		s := t.Float32s()
		return *(*[]T)(unsafe.Pointer(&s))
	}
	s := t.Float64s()
	return *(*[]T)(unsafe.Pointer(&s))
}

// dtypeOf returns the tensor dtype of T.
func dtypeOf[T Float]() tensor.Dtype {
	var z T
	if _, ok := any(z).(float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}

// scalarInput returns the value of a scalar input of op: a Gorgonia
// scalar, or a tensor of one element.
func scalarInput[T Float](op fmt.Stringer, v G.Value, what string) (T, error) {
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

// hasShape reports whether n has exactly the shape want: tensor.Shape's Eq
// takes [N] and [1, N] for the same shape, which the ops' types do not.
func hasShape(n *G.Node, want []int) bool { return slices.Equal(n.Shape(), want) }

// withBias returns the inputs x, w and, if it is not nil, bias of the op
// what named name, after checking that bias has the shape want.
func withBias(what, name string, x, w, bias *G.Node, want []int) ([]*G.Node, error) {
	if bias == nil {
		return []*G.Node{x, w}, nil
	}
	if !hasShape(bias, want) {
		return nil, errors.Errorf("%s %s: bias %v, want %v", what, name, bias.Shape(), want)
	}
	return []*G.Node{x, w, bias}, nil
}

// diffAllButData is DiffWRT for an op of n inputs whose first input may be
// data: every input is differentiated except input 0 when noInputGrad is
// set.
func diffAllButData(n int, noInputGrad bool) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	d[0] = !noInputGrad
	return d
}

// apply builds the op for dtype dt, the float32 one from f32 or the
// float64 one from f64, and applies it to inputs. what names the
// constructor in errors.
func apply(what string, dt tensor.Dtype, f32, f64 func() G.Op, inputs ...*G.Node) (*G.Node, error) {
	var op G.Op
	switch dt {
	case tensor.Float32:
		op = f32()
	case tensor.Float64:
		op = f64()
	default:
		return nil, errors.Errorf("%s: unsupported dtype %v (want float32 or float64)", what, dt)
	}
	y, err := G.ApplyOp(op, inputs...)
	return y, errors.Wrap(err, what)
}

// applyGrad applies a backward op of op, naming it in an error.
func applyGrad(op fmt.Stringer, what string, grad G.Op, inputs ...*G.Node) (*G.Node, error) {
	n, err := G.ApplyOp(grad, inputs...)
	return n, errors.Wrapf(err, "%v: %s", op, what)
}
