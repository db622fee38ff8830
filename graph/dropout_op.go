package graph

import (
	"fmt"
	"hash"
	"math"
	"math/rand/v2"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// dropoutOp multiplies its input by a dropout mask, elementwise, as one op
// of ours in place of HadamardProd, which allocates its output at every run
// and whose backward also computes the gradient with respect to the mask,
// which nothing needs. The mask is a graph input (Builder.Noise) holding 0
// or 1/(1−p), refilled from the program's rng before each run by
// fillDropoutMask.
//
//	x, mask: [d0, d1, …] → y: same shape
type dropoutOp[T opFloat] struct {
	name  string
	p     float64
	shape []int
	y     *tensor.Dense
	par   elemwise[T]
}

func newDropoutOp[T opFloat](name string, p float64, shape []int) *dropoutOp[T] {
	return &dropoutOp[T]{name: name, p: p, shape: append([]int(nil), shape...)}
}

// Arity implements gorgonia.Op.
func (op *dropoutOp[T]) Arity() int { return 2 }

// Type implements gorgonia.Op.
func (op *dropoutOp[T]) Type() hm.Type {
	t := opTensorType(len(op.shape))
	return hm.NewFnType(t, t, t)
}

// InferShape implements gorgonia.Op.
func (op *dropoutOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.shape).Clone(), nil
}

// Do implements gorgonia.Op.
func (op *dropoutOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	x, err := opInput[T](op, inputs[0], "input", op.shape...)
	if err != nil {
		return nil, err
	}
	mask, err := opInput[T](op, inputs[1], "mask", op.shape...)
	if err != nil {
		return nil, err
	}
	op.par.run(elemMul, opOutput[T](&op.y, op.shape...), x, mask)
	return op.y, nil
}

// mulInto sets dst = a⊙b; the three have the same length.
func mulInto[T opFloat](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// ReturnsPtr implements gorgonia.Op.
func (op *dropoutOp[T]) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op.
func (op *dropoutOp[T]) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op.
func (op *dropoutOp[T]) OverwritesInput() int { return -1 }

// WriteHash implements gorgonia.Op. Every parameter is in the hash
// (GORGONIA.md item 1).
func (op *dropoutOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }

// Hashcode implements gorgonia.Op.
func (op *dropoutOp[T]) Hashcode() uint32 { return opHash(op) }

func (op *dropoutOp[T]) String() string {
	return fmt.Sprintf("Dropout %s p=%v %v", op.name, op.p, op.shape)
}

// DiffWRT implements gorgonia.SDOp: the mask is not differentiated.
func (op *dropoutOp[T]) DiffWRT(n int) []bool { return []bool{true, false} }

// SymDiff implements gorgonia.SDOp: dx = dy⊙mask, and no gradient for the
// mask.
func (op *dropoutOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	dx, err := G.ApplyOp(&dropoutGradOp[T]{name: op.name, p: op.p, shape: op.shape}, inputs[1], grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: input gradient", op)
	}
	return G.Nodes{dx, nil}, nil
}

// dropoutGradOp computes dx = dy⊙mask.
//
//	mask, dy: [d0, d1, …] → dx: same shape
type dropoutGradOp[T opFloat] struct {
	name  string
	p     float64
	shape []int
	dx    *tensor.Dense
	par   elemwise[T]
}

func (op *dropoutGradOp[T]) Arity() int { return 2 }
func (op *dropoutGradOp[T]) Type() hm.Type {
	t := opTensorType(len(op.shape))
	return hm.NewFnType(t, t, t)
}
func (op *dropoutGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.shape).Clone(), nil
}
func (op *dropoutGradOp[T]) ReturnsPtr() bool      { return false }
func (op *dropoutGradOp[T]) CallsExtern() bool     { return false }
func (op *dropoutGradOp[T]) OverwritesInput() int  { return -1 }
func (op *dropoutGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *dropoutGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *dropoutGradOp[T]) String() string {
	return fmt.Sprintf("Dropout %s p=%v dx %v", op.name, op.p, op.shape)
}

func (op *dropoutGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	mask, err := opInput[T](op, inputs[0], "mask", op.shape...)
	if err != nil {
		return nil, err
	}
	dy, err := opInput[T](op, inputs[1], "output gradient", op.shape...)
	if err != nil {
		return nil, err
	}
	op.par.run(elemMul, opOutput[T](&op.dx, op.shape...), dy, mask)
	return op.dx, nil
}

// fillDropoutMask sets each element of m to 0 with probability p and to
// keep otherwise, dropping exactly the elements for which rng.Float64() < p
// would hold, so that the masks are the ones a seed always gave. It compares
// integers instead: Float64 is u/2⁵³ for u the low 53 bits of one
// rng.Uint64, exactly, so Float64 < p ⟺ u < ⌈p·2⁵³⌉.
func fillDropoutMask[T opFloat](rng *rand.Rand, m []T, p float64, keep T) {
	thr := uint64(math.Ceil(p * (1 << 53)))
	vals := [2]T{0, keep}
	for i := range m {
		u := rng.Uint64() << 11 >> 11
		// u − thr wraps to a number with the top bit set exactly when
		// u < thr: indexing by it rather than branching, since which
		// elements drop is random and a branch would often be
		// mispredicted.
		m[i] = vals[((u-thr)>>63^1)&1]
	}
}

var (
	_ G.SDOp = (*dropoutOp[float32])(nil)
	_ G.Op   = (*dropoutGradOp[float64])(nil)
)
