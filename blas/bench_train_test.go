package blas

import "testing"

// The products of one training step of tapestry's MNIST MLP (784→512→512→10,
// batch 128) and convnet, as the graph package issues them; run with
// -cpu=1,2 to see how they scale over cores. Forward x·W:
func BenchmarkTrainFwd784x512(b *testing.B) { sgemmBench(b, ours, nt, nt, 128, 512, 784) }
func BenchmarkTrainFwd512x512(b *testing.B) { sgemmBench(b, ours, nt, nt, 128, 512, 512) }
func BenchmarkTrainFwd512x10(b *testing.B)  { sgemmBench(b, ours, nt, nt, 128, 10, 512) }

// Weight gradients xᵀ·dy.
func BenchmarkTrainGradW784x512(b *testing.B) { sgemmBench(b, ours, tr, nt, 784, 512, 128) }
func BenchmarkTrainGradW512x512(b *testing.B) { sgemmBench(b, ours, tr, nt, 512, 512, 128) }
func BenchmarkTrainGradW512x10(b *testing.B)  { sgemmBench(b, ours, tr, nt, 512, 10, 128) }

// Input gradients dy·Wᵀ.
func BenchmarkTrainGradX512x512(b *testing.B) { sgemmBench(b, ours, nt, tr, 128, 512, 512) }
func BenchmarkTrainGradX10x512(b *testing.B)  { sgemmBench(b, ours, nt, tr, 128, 512, 10) }

// Convnet, per image: im2col products W·col of a 3×3 conv of 1 channel to 32
// on 28×28 and of 32 to 64 on 26×26, and the dense layer at batch 64.
func BenchmarkTrainConv1(b *testing.B)     { sgemmBench(b, ours, nt, nt, 32, 676, 9) }
func BenchmarkTrainConv2(b *testing.B)     { sgemmBench(b, ours, nt, nt, 64, 576, 288) }
func BenchmarkTrainConvDense(b *testing.B) { sgemmBench(b, ours, nt, nt, 64, 128, 9216) }

// Packing a 512×10 op(B), one partial micro-panel, as the output layer of
// the MLP does in every step.
func BenchmarkPackBNarrow(b *testing.B) {
	const k, n, nr = 512, 10, 32
	src, dst := make([]float32, k*n), make([]float32, k*nr)
	for b.Loop() {
		packB(false, src, n, 0, 0, k, n, nr, dst)
	}
}
