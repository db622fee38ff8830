package blas

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPackBLayout checks packB element by element against the layout it
// promises (micro-panel q holds columns q·NR… of the block, row p at
// q·NR·kc + p·NR, columns past nc zero), for the widths of every kernel
// set, blocks with and without a partial last panel, at an offset inside a
// padded B, transposed or not; a transposed B with and without the
// assembly transpose (transposeStrip8), which CPUs without AVX2 lack.
func TestPackBLayout(t *testing.T) {
	t.Run("default", testPackBLayout)
	if transposeStrip8 != nil {
		defer func(f func(*float32, uintptr, *float32, uintptr, int)) { transposeStrip8 = f }(transposeStrip8)
		transposeStrip8 = nil
		t.Run("go", testPackBLayout)
	}
}

func testPackBLayout(t *testing.T) {
	for _, NR := range []int{4, 8, 16, 32} {
		for _, c := range []struct{ p0, j0, kc, nc, pad int }{
			{0, 0, 1, 1, 0}, {0, 0, 3, 32, 0}, {2, 5, 7, 64, 3}, {1, 0, 384, 100, 0}, {0, 3, 262, 256, 1}, {5, 1, 2, 31, 2},
		} {
			for _, trans := range []bool{false, true} {
				name := fmt.Sprintf("NR=%d p0=%d j0=%d kc=%d nc=%d trans=%t", NR, c.p0, c.j0, c.kc, c.nc, trans)
				checkPackB[float32](t, name+" float32", NR, c.p0, c.j0, c.kc, c.nc, c.pad, trans)
				checkPackB[float64](t, name+" float64", NR, c.p0, c.j0, c.kc, c.nc, c.pad, trans)
			}
		}
	}
}

func checkPackB[T float](t *testing.T, name string, NR, p0, j0, kc, nc, pad int, trans bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(NR), uint64(kc*nc)))
	// op(B) is (p0+kc)×(j0+nc); B stored row-major with pad extra elements.
	rows, cols := p0+kc, j0+nc
	if trans {
		rows, cols = cols, rows
	}
	ldb := cols + pad
	b := make([]T, (rows-1)*ldb+cols) // exactly long enough
	for i := range b {
		b[i] = T(rng.NormFloat64())
	}
	at := func(p, j int) T {
		if trans {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	panels := (nc + NR - 1) / NR
	dst := make([]T, panels*NR*kc)
	for i := range dst {
		dst[i] = 7 // packB must write every element, zeros included
	}
	packB(trans, b, ldb, p0, j0, kc, nc, NR, dst)
	for q := range panels {
		for p := range kc {
			for jj := range NR {
				want := T(0)
				if j := q*NR + jj; j < nc {
					want = at(p0+p, j0+j)
				}
				if got := dst[q*NR*kc+p*NR+jj]; got != want {
					t.Fatalf("%s: panel %d row %d column %d = %v, want %v", name, q, p, jj, got, want)
				}
			}
		}
	}
}
