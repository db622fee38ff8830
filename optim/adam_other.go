//go:build !amd64

package optim

// adamKernel32 is adamKernel for float32; only amd64 has a vector version.
func adamKernel32(w, grad, m, v []float32, k *adamCoef[float32]) { adamKernel(w, grad, m, v, k) }
