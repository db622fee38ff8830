package optim

// adadeltaAVX is adadeltaKernel on n float32 elements, n a multiple of 8,
// eight at a time (adadelta_amd64.s), in the scalar kernel's order, each
// operation rounded to float32, without fused multiply-adds: the same bits.
//
//go:noescape
func adadeltaAVX(n int, w, grad, v, u *float32, k *adadeltaCoef[float32])

// adadeltaKernel32 is adadeltaKernel for float32, vectorized where the CPU
// allows. Two square roots and a division per element made the scalar
// loop the CNN's slowest step of the optimizer over its 1.2M parameters.
func adadeltaKernel32(w, grad, v, u []float32, k *adadeltaCoef[float32]) {
	grad, v, u = grad[:len(w)], v[:len(w)], u[:len(w)]
	n := len(w) &^ 7
	if hasAVX && n > 0 {
		adadeltaAVX(n, &w[0], &grad[0], &v[0], &u[0], k)
	} else {
		n = 0
	}
	adadeltaKernel(w[n:], grad[n:], v[n:], u[n:], k)
}
