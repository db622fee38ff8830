package blas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Implementation is gonum's pure-Go BLAS with faster Sgemm and Dgemm. Its
// zero value is ready to use; every other routine is gonum's.
type Implementation struct{ gonum.Implementation }

// Implementation is a complete BLAS for gorgonia and tensor.
var (
	_ gorgonia.BLAS = Implementation{}
	_ tensor.BLAS   = Implementation{}
)

// Install makes Implementation the BLAS of gorgonia and of tensor (which
// gorgonia.Use sets too) and returns the BLAS that gorgonia used before, so
// that gorgonia.Use(prev) undoes it. Like gorgonia.Use it is meant for
// program start-up, before any graph runs.
func Install() gorgonia.BLAS {
	prev := gorgonia.WhichBLAS()
	gorgonia.Use(Implementation{})
	return prev
}

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m row-major matrix, B is a k×n or n×k row-major
// matrix, C is an m×n row-major matrix, and alpha and beta are scalars. tA
// and tB say whether A or B is transposed (ConjTrans is Trans for reals).
// As in the reference BLAS, A and B are not read if alpha is zero, and C is
// not read if beta is zero. Bad arguments panic with gonum's messages.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	if (alpha == 0 || k == 0) && beta == 1 {
		return
	}
	gemm(kernels.s, tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm in double precision.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	if (alpha == 0 || k == 0) && beta == 1 {
		return
	}
	gemm(kernels.d, tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
