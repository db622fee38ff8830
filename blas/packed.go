package blas

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// Packed is the right operand op(B) of matrix products, k×n, packed once to
// be multiplied by several left operands (GemmPacked): a GEMM packs op(B)
// at every call, which for a product of few rows or a short k costs as much
// as the multiply-adds. A convolution multiplies every kernel tap's slice
// of the weights by the same output gradient, and every image by the same
// tap weights. The zero value is empty; Pack fills it and reuses its
// memory from call to call. T is float32 or float64.
type Packed[T float] struct {
	ks   *kernel[T]
	k, n int
	// data is op(B) in NR-wide micro-panels of all k rows, panel q at
	// q·NR·k: the layout of the op(B) that a GEMM split along M shares
	// between its parts (packJob), which gemmSerial reads.
	data []T
}

// K and N are the dimensions of the packed op(B).
func (p *Packed[T]) K() int { return p.k }
func (p *Packed[T]) N() int { return p.n }

// kernelFor is the kernel of the set in use for T.
func kernelFor[T float]() *kernel[T] {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return any(kernels.s).(*kernel[T])
	}
	return any(kernels.d).(*kernel[T])
}

// Pack packs op(B), which is B (k×n, row-major with stride ldb), or Bᵀ for
// B n×k if trans, into p. Bad arguments panic with gonum's messages.
func (p *Packed[T]) Pack(trans bool, k, n int, b []T, ldb int) {
	switch {
	case k < 0:
		panic(kLT0)
	case n < 0:
		panic(nLT0)
	case trans && ldb < max(1, k), !trans && ldb < max(1, n):
		panic(badLdB)
	case k > 0 && n > 0 && (trans && len(b) < (n-1)*ldb+k || !trans && len(b) < (k-1)*ldb+n):
		panic(shortB)
	}
	ks := kernelFor[T]()
	size := ceilDiv(n, ks.nr) * ks.nr * k
	if cap(p.data) < size {
		p.data = alignedSlice[T](size)
	}
	p.ks, p.k, p.n, p.data = ks, k, n, p.data[:size]
	if size > 0 {
		packB(trans, b, ldb, 0, 0, k, n, ks.nr, p.data)
	}
}

// GemmPacked computes C = alpha·op(A)·op(B) + beta·C for the op(B) packed
// in p, on the calling goroutine: op(A) is A (m×k, row-major with stride
// lda) or Aᵀ for A k×m if tA is Trans, and C is m×n with stride ldc. The
// results are those of Sgemm or Dgemm with the same operands, to the bit.
// As in the reference BLAS, A is not read if alpha is zero, and C is not
// read if beta is zero. Bad arguments, or a p packed for another kernel set
// (a test forcing one), panic.
func GemmPacked[T float](tA blas.Transpose, m int, alpha T, a []T, lda int, p *Packed[T], beta T, c []T, ldc int) {
	k, n := p.k, p.n
	// B's checks pass: it was checked when packed, and is not read again.
	if !checkGemm(tA, blas.NoTrans, m, n, k, len(a), lda, (k-1)*max(1, n)+n, max(1, n), len(c), ldc) {
		return
	}
	if (alpha == 0 || k == 0) && beta == 1 {
		return
	}
	ks := p.ks
	if ks != kernelFor[T]() {
		panic("blas: GemmPacked with an operand packed for another kernel set")
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	ws := ks.getWorkspace()
	gemmSerial(ks, ws, tA != blas.NoTrans, false, m, n, k, alpha, a, lda, nil, 0, beta, c, ldc, p.data)
	ks.putWorkspace(ws)
}
