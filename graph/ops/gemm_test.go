package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"

	tblas "github.com/tapestry-ml/tapestry/blas"
)

// TestTapestryBLASByDefault checks that importing the ops makes package
// blas Gorgonia's BLAS, with no call of the user's: a library user's model
// runs on the same SGEMM as cmd/train's.
func TestTapestryBLASByDefault(t *testing.T) {
	if _, ok := G.WhichBLAS().(tblas.Implementation); !ok {
		t.Fatalf("Gorgonia's BLAS is %T, want blas.Implementation", G.WhichBLAS())
	}
}
