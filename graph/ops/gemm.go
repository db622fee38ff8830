package ops

import (
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	tblas "github.com/tapestry-ml/tapestry/blas"
)

// init makes package blas Gorgonia's BLAS for every program that uses
// tapestry's ops, the commands' and a library user's alike: left to
// Gorgonia's default (gonum's pure-Go SGEMM), a library user's model would
// predict 3 times and train 5 to 10 times slower than cmd/train's for no
// reason of their own. blas.Use("gonum") or gorgonia.Use, called after the
// imports, still chooses another.
func init() { tblas.Install() }

// gemmFunc computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, as
// blas.Float32.Sgemm and blas.Float64.Dgemm do.
type gemmFunc[T Float] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// gemmFor returns the GEMM for T. It looks the BLAS up through
// gorgonia.WhichBLAS at every call, so that a faster BLAS installed with
// gorgonia.Use (such as tapestry's blas.Install) after the op was built is
// the one used.
func gemmFor[T Float]() gemmFunc[T] {
	var z T
	switch any(z).(type) {
	case float32:
		return any(gemmFunc[float32](sgemm)).(gemmFunc[T])
	default:
		return any(gemmFunc[float64](dgemm)).(gemmFunc[T])
	}
}

func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	G.WhichBLAS().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	G.WhichBLAS().Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
