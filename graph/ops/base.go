package ops

import (
	"hash"
	"hash/fnv"
	"io"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Base supplies the methods of gorgonia.Op that are the same for every op
// of this package (Arity, Type, InferShape, ReturnsPtr, CallsExtern,
// OverwritesInput, WriteHash, Hashcode and String), from a description,
// the ranks of the inputs and the shape of the output fixed when the op is
// built. An op embeds it and writes only what is its own: Do and, to be
// differentiated, DiffWRT and SymDiff.
//
// It is exported so that an op of your own, written with Input and Output,
// can embed it too and get the same guarantees: a hash that keeps apart
// ops that compute different things, and an output the tape machine does
// not try to preallocate.
type Base struct {
	desc     string
	hash     uint32
	inRanks  []int // of each input, 0 for a scalar
	outShape []int // empty for a scalar
}

// NewBase returns the base of an op on elements of dt that takes inputs of
// the given ranks (0 for a scalar) to an output of shape out (empty for a
// scalar). desc names the op and states every parameter that changes what
// it computes: Gorgonia merges two nodes whose ops hash alike and whose
// inputs are the same (docs/GORGONIA.md#identical-nodes-merge), and the
// hash is that of desc with dt added, which is also what String returns.
func NewBase(desc string, dt tensor.Dtype, out []int, inRanks ...int) Base {
	desc += " " + dt.String()
	h := fnv.New32a() // FNV-1a, as Gorgonia's own ops (utils.go simpleHash)
	_, _ = io.WriteString(h, desc)
	return Base{desc: desc, hash: h.Sum32(),
		inRanks: append([]int(nil), inRanks...), outShape: append([]int(nil), out...)}
}

// Arity implements gorgonia.Op.
func (b Base) Arity() int { return len(b.inRanks) }

// Type implements gorgonia.Op: tensors of the inputs' ranks, all of one
// element type, to a tensor of the output's rank. It builds a new type at
// every call because Gorgonia hands the type back to hm's pool once it has
// inferred the node's type (typeSystem.go:47), and hm's Apply changes a
// function type in place: a type kept in the op would be reused under it.
func (b Base) Type() hm.Type {
	ts := make([]hm.Type, 0, len(b.inRanks)+1)
	for _, r := range b.inRanks {
		ts = append(ts, tensorType(r))
	}
	return hm.NewFnType(append(ts, tensorType(len(b.outShape)))...)
}

// tensorType is the type of a tensor of the given rank whose elements are
// of the type variable a, or a itself for rank 0 (a scalar).
func tensorType(rank int) hm.Type {
	if rank == 0 {
		return hm.TypeVariable('a')
	}
	return G.TensorType{Dims: rank, Of: hm.TypeVariable('a')}
}

// InferShape implements gorgonia.Op. The shape was fixed when the op was
// built: a graph's shapes, the batch included, are fixed when it is built
// (docs/GORGONIA.md#shapes-are-fixed-at-build-time).
func (b Base) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if len(b.outShape) == 0 {
		return tensor.ScalarShape(), nil
	}
	return tensor.Shape(b.outShape).Clone(), nil
}

// ReturnsPtr implements gorgonia.Op: the output is never one of the inputs.
func (b Base) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op. It is false so that the tape machine
// does not allocate an output for the op at every run, one the op would
// not use: an op of this package owns its output and reuses it
// (docs/GORGONIA.md#preallocated-outputs-go-only-to-ops-that-call-extern-code).
func (b Base) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op: no input is written.
func (b Base) OverwritesInput() int { return -1 }

// WriteHash implements gorgonia.Op.
func (b Base) WriteHash(h hash.Hash) { _, _ = io.WriteString(h, b.desc) }

// Hashcode implements gorgonia.Op.
func (b Base) Hashcode() uint32 { return b.hash }

// String is the op's description, its dtype included.
func (b Base) String() string { return b.desc }

// CheckArity returns an error unless n, the number of inputs given to Do
// or SymDiff, is the op's arity.
func (b Base) CheckArity(n int) error {
	if n != len(b.inRanks) {
		return errors.Errorf("%s: %d inputs, want %d", b.desc, n, len(b.inRanks))
	}
	return nil
}
