package optim

import "golang.org/x/sys/cpu"

// hasAVX says whether adamAVX can run: VSQRTPS and VDIVPS on 8 floats are
// AVX (cpu.X86.HasAVX is only set when the OS saves the YMM registers).
// hasAVX512 says whether finiteAVX512 can.
var (
	hasAVX    = cpu.X86.HasAVX
	hasAVX512 = cpu.X86.HasAVX512F
)

// finiteAVX512 is allFinite32 on x[:n], sixteen elements at a time
// (adam_amd64.s).
//
//go:noescape
func finiteAVX512(n int, x *float32) bool

// finite32 is allFinite32, vectorized where the CPU allows: the check runs
// over every gradient at every step.
func finite32(x []float32) bool {
	if hasAVX512 && len(x) > 0 {
		return finiteAVX512(len(x), &x[0])
	}
	return allFinite32(x)
}

// adamAVX is adamKernel on n float32 elements, n a multiple of 8, eight at a
// time (adam_amd64.s). It does the scalar kernel's operations in the same
// order, each rounded to float32, without fused multiply-adds, so every
// element comes out the same bits.
//
//go:noescape
func adamAVX(n int, w, grad, m, v *float32, k *adamCoef[float32])

// adamKernel32 is adamKernel for float32, vectorized where the CPU allows.
// The scalar loop spends most of its time in one square root and one
// division per element; eight at a time made Adam's step on the MLP's
// 670k parameters about 5 times faster.
func adamKernel32(w, grad, m, v []float32, k *adamCoef[float32]) {
	grad, m, v = grad[:len(w)], m[:len(w)], v[:len(w)]
	n := len(w) &^ 7
	if hasAVX && n > 0 {
		adamAVX(n, &w[0], &grad[0], &m[0], &v[0], k)
	} else {
		n = 0
	}
	adamKernel(w[n:], grad[n:], m[n:], v[n:], k)
}
