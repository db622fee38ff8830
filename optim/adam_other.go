//go:build !amd64

package optim

// adamKernel32 is adamKernel for float32; only amd64 has a vector version.
func adamKernel32(w, grad, m, v []float32, k *adamCoef[float32]) { adamKernel(w, grad, m, v, k) }

// adadeltaKernel32 is adadeltaKernel for float32.
func adadeltaKernel32(w, grad, v, u []float32, k *adadeltaCoef[float32]) {
	adadeltaKernel(w, grad, v, u, k)
}

// finite32 is allFinite32.
func finite32(x []float32) bool { return allFinite32(x) }
