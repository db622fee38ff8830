package ops

import (
	"hash/fnv"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestBase checks the methods Base supplies: the arity and type from the
// input ranks, the output shape (a scalar's too), the description with the
// dtype, and a hash that is FNV-1a of what WriteHash writes, as Gorgonia's
// own ops hash.
func TestBase(t *testing.T) {
	b := NewBase("Thing k=3", tensor.Float32, []int{2, 5}, 2, 1, 0)
	if b.Arity() != 3 || b.String() != "Thing k=3 float32" {
		t.Errorf("arity %d, string %q", b.Arity(), b.String())
	}
	if got, want := b.Type().String(), "Matrix a → Vector a → a → Matrix a"; got != want {
		t.Errorf("type %s, want %s", got, want)
	}
	if b.Type() == b.Type() {
		t.Error("Type returns the same value twice: Gorgonia recycles it")
	}
	if s, err := b.InferShape(); err != nil || !s.Eq(tensor.Shape{2, 5}) {
		t.Errorf("InferShape = %v, %v", s, err)
	}
	if s, _ := NewBase("Loss", tensor.Float64, nil, 2).InferShape(); !s.IsScalar() {
		t.Errorf("a scalar op's shape is %v", s)
	}
	h := fnv.New32a()
	b.WriteHash(h)
	if h.Sum32() != b.Hashcode() {
		t.Error("Hashcode is not the hash of WriteHash")
	}
	if err := b.CheckArity(2); err == nil || !strings.Contains(err.Error(), "2 inputs, want 3") {
		t.Errorf("CheckArity(2) = %v", err)
	}
}
