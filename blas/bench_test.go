package blas

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

const (
	nt = blas.NoTrans
	tr = blas.Trans
)

// ours and ref are the implementations compared.
var (
	ours = Implementation{}
	ref  = gonum.Implementation{}
)

// Square products.
func BenchmarkSgemm256(b *testing.B)  { sgemmBench(b, ours, nt, nt, 256, 256, 256) }
func BenchmarkSgemm512(b *testing.B)  { sgemmBench(b, ours, nt, nt, 512, 512, 512) }
func BenchmarkSgemm1024(b *testing.B) { sgemmBench(b, ours, nt, nt, 1024, 1024, 1024) }
func BenchmarkSgemm2048(b *testing.B) { sgemmBench(b, ours, nt, nt, 2048, 2048, 2048) }

// The dense layers of tapestry's MNIST MLP at batch 128 (784→512→512→10):
// forward x·W, and the backward products for dW = xᵀ·dy and dx = dy·Wᵀ.
func BenchmarkSgemmDense784x512(b *testing.B)      { sgemmBench(b, ours, nt, nt, 128, 512, 784) }
func BenchmarkSgemmDense512x512(b *testing.B)      { sgemmBench(b, ours, nt, nt, 128, 512, 512) }
func BenchmarkSgemmDense512x10(b *testing.B)       { sgemmBench(b, ours, nt, nt, 128, 10, 512) }
func BenchmarkSgemmDenseGradW784x512(b *testing.B) { sgemmBench(b, ours, tr, nt, 784, 512, 128) }
func BenchmarkSgemmDenseGradX512x784(b *testing.B) { sgemmBench(b, ours, nt, tr, 128, 784, 512) }

// The same layers for one prediction, and for a batch of 8 (a
// graph.Predictor serving 8 callers at once): the small-M kernels, B read
// in place. PackedPredict is the first without them (B packed at every
// call, as before they existed), side by side.
func BenchmarkSgemmPredict784x512(b *testing.B)   { sgemmBench(b, ours, nt, nt, 1, 512, 784) }
func BenchmarkSgemmPredict512x512(b *testing.B)   { sgemmBench(b, ours, nt, nt, 1, 512, 512) }
func BenchmarkSgemmPredict512x10(b *testing.B)    { sgemmBench(b, ours, nt, nt, 1, 10, 512) }
func BenchmarkSgemmPredict8x784x512(b *testing.B) { sgemmBench(b, ours, nt, nt, 8, 512, 784) }
func BenchmarkSgemmPackedPredict784x512(b *testing.B) {
	defer func() { smallM = true }()
	smallM = false
	sgemmBench(b, ours, nt, nt, 1, 512, 784)
}

// The three products of the default MLP's forward pass in a row, as a
// prediction runs them (their 2.7 MB of weights are more than one core's
// L2): one example and 256, the products alone, without the graph.
func BenchmarkSgemmMLPForward1(b *testing.B)   { mlpForwardBench(b, 1) }
func BenchmarkSgemmMLPForward256(b *testing.B) { mlpForwardBench(b, 256) }

// The products of one run of a Predictor of batch 8 (mlp-serve-8).
func BenchmarkSgemmMLPForward8(b *testing.B) { mlpForwardBench(b, 8) }

func mlpForwardBench(b *testing.B, m int) {
	r := rand.New(rand.NewPCG(1, 1))
	mk := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32()
		}
		return v
	}
	x, w1, w2, w3 := mk(m*784), mk(784*512), mk(512*512), mk(512*10)
	h1, h2, out := mk(m*512), mk(m*512), mk(m*10)
	b.ReportAllocs()
	for b.Loop() {
		ours.Sgemm(nt, nt, m, 512, 784, 1, x, 784, w1, 512, 0, h1, 512)
		ours.Sgemm(nt, nt, m, 512, 512, 1, h1, 512, w2, 512, 0, h2, 512)
		ours.Sgemm(nt, nt, m, 10, 512, 1, h2, 512, w3, 10, 0, out, 10)
	}
	b.ReportMetric(2*float64(m)*(784*512+512*512+512*10)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// The im2col products of a small MNIST convnet at batch 64: a 3×3 conv of 1
// channel to 32 on 28×28, one of 32 channels to 64 on 26×26, and the dense
// layer on the flattened 64×12×12 features.
func BenchmarkSgemmConv1(b *testing.B)     { sgemmBench(b, ours, nt, nt, 64*26*26, 32, 9) }
func BenchmarkSgemmConv2(b *testing.B)     { sgemmBench(b, ours, nt, nt, 64*24*24, 64, 288) }
func BenchmarkSgemmConvDense(b *testing.B) { sgemmBench(b, ours, nt, nt, 64, 128, 9216) }

// The same with gonum's Sgemm, for the ratio.
func BenchmarkSgemmGonum256(b *testing.B)               { sgemmBench(b, ref, nt, nt, 256, 256, 256) }
func BenchmarkSgemmGonum512(b *testing.B)               { sgemmBench(b, ref, nt, nt, 512, 512, 512) }
func BenchmarkSgemmGonum1024(b *testing.B)              { sgemmBench(b, ref, nt, nt, 1024, 1024, 1024) }
func BenchmarkSgemmGonum2048(b *testing.B)              { sgemmBench(b, ref, nt, nt, 2048, 2048, 2048) }
func BenchmarkSgemmGonumDense784x512(b *testing.B)      { sgemmBench(b, ref, nt, nt, 128, 512, 784) }
func BenchmarkSgemmGonumDense512x512(b *testing.B)      { sgemmBench(b, ref, nt, nt, 128, 512, 512) }
func BenchmarkSgemmGonumDense512x10(b *testing.B)       { sgemmBench(b, ref, nt, nt, 128, 10, 512) }
func BenchmarkSgemmGonumDenseGradW784x512(b *testing.B) { sgemmBench(b, ref, tr, nt, 784, 512, 128) }
func BenchmarkSgemmGonumDenseGradX512x784(b *testing.B) { sgemmBench(b, ref, nt, tr, 128, 784, 512) }
func BenchmarkSgemmGonumConv1(b *testing.B)             { sgemmBench(b, ref, nt, nt, 64*26*26, 32, 9) }
func BenchmarkSgemmGonumConv2(b *testing.B)             { sgemmBench(b, ref, nt, nt, 64*24*24, 64, 288) }
func BenchmarkSgemmGonumConvDense(b *testing.B)         { sgemmBench(b, ref, nt, nt, 64, 128, 9216) }

// Double precision, for the gradient checks.
func BenchmarkDgemm512(b *testing.B)      { dgemmBench(b, ours, 512) }
func BenchmarkDgemmGonum512(b *testing.B) { dgemmBench(b, ref, 512) }

// sgemmBench times C = op(A)·op(B) for an m×n×k product with C overwritten
// (beta = 0, as gorgonia calls it) and reports GFLOP/s, counting 2mnk.
func sgemmBench(b *testing.B, impl blas.Float32, tA, tB blas.Transpose, m, n, k int) {
	r := rand.New(rand.NewPCG(1, 1))
	a, bm, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = r.Float32()
	}
	for i := range bm {
		bm[i] = r.Float32()
	}
	lda, ldb := k, n
	if tA != nt {
		lda = m
	}
	if tB != nt {
		ldb = k
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		impl.Sgemm(tA, tB, m, n, k, 1, a, lda, bm, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func dgemmBench(b *testing.B, impl blas.Float64, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	a, bm, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	for i := range a {
		a[i], bm[i] = r.Float64(), r.Float64()
	}
	b.ReportAllocs()
	for b.Loop() {
		impl.Dgemm(nt, nt, n, n, n, 1, a, n, bm, n, 0, c, n)
	}
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
