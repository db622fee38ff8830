package blas

import "golang.org/x/sys/cpu"

// transposeStrip8AVX is in pack_amd64.s.
//
//go:noescape
func transposeStrip8AVX(dst *float32, dstStride uintptr, src *float32, srcStride uintptr, blocks int)

func init() {
	if cpu.X86.HasAVX2 {
		transposeStrip8 = transposeStrip8AVX
	}
}
