package blas

import "unsafe"

// goKernelMR and goKernelNR are the register tile of the portable kernel:
// sixteen accumulators fit the floating-point registers of arm64 and most
// other 64-bit targets.
const goKernelMR, goKernelNR = 4, 4

// goKernelCols and goKernelRows are the portable micro-kernel (see
// microKernel), used where no assembly kernel fits the CPU.
func goKernelCols[T float](k int, a *T, lda int, b, c *T, ldc, mr, nr int, alpha, beta T) {
	goKernel(k, a, 1, lda, b, c, ldc, mr, nr, alpha, beta)
}

func goKernelRows[T float](k int, a *T, lda int, b, c *T, ldc, mr, nr int, alpha, beta T) {
	goKernel(k, a, lda, 1, b, c, ldc, mr, nr, alpha, beta)
}

// goKernel reads A(i, p) at a[i*rs+p*cs].
func goKernel[T float](k int, a *T, rs, cs int, b, c *T, ldc, mr, nr int, alpha, beta T) {
	as := unsafe.Slice(a, (goKernelMR-1)*rs+(k-1)*cs+1)
	bs := unsafe.Slice(b, k*goKernelNR)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	for p := 0; p < k; p++ {
		a0, a1, a2, a3 := as[p*cs], as[p*cs+rs], as[p*cs+2*rs], as[p*cs+3*rs]
		bp := bs[p*goKernelNR : p*goKernelNR+goKernelNR : p*goKernelNR+goKernelNR]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	t := [goKernelMR * goKernelNR]T{
		c00, c01, c02, c03,
		c10, c11, c12, c13,
		c20, c21, c22, c23,
		c30, c31, c32, c33,
	}
	mergeTile(t[:], goKernelNR, c, ldc, mr, nr, alpha, beta)
}

// goKernelSet is the portable kernel set, available on every architecture.
func goKernelSet() kernelSet {
	return kernelSet{
		name: "go",
		s: &kernel[float32]{name: "go", nr: goKernelNR, kc: 256, nc: 256,
			tiles: []tile[float32]{{mr: goKernelMR, cols: goKernelCols[float32], rows: goKernelRows[float32]}}},
		d: &kernel[float64]{name: "go", nr: goKernelNR, kc: 256, nc: 256,
			tiles: []tile[float64]{{mr: goKernelMR, cols: goKernelCols[float64], rows: goKernelRows[float64]}}},
	}
}
