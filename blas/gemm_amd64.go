package blas

import "golang.org/x/sys/cpu"

//go:generate go run internal/gen/main.go -s gemm_amd64.s -go gemm_kernels_amd64.go

// availableKernelSets lists the kernels this CPU runs, fastest first.
// cpu.X86.HasAVX512F and HasAVX2 are only set when the OS saves the wide
// registers too. The assembly kernels are in gemm_amd64.s, declared in
// gemm_kernels_amd64.go; both are written by internal/gen.
func availableKernelSets() []kernelSet {
	var sets []kernelSet
	if cpu.X86.HasAVX512F {
		// A packed B block of kc×nc is 960 KiB in either precision: half of
		// a 2 MiB L2, leaving room for the C tiles and A.
		s := &kernel[float32]{name: "avx512", tiles: sgemmAVX512Tiles, nr: sgemmAVX512NR, kc: 384, nc: 640}
		d := &kernel[float64]{name: "avx512", tiles: dgemmAVX512Tiles, nr: dgemmAVX512NR, kc: 256, nc: 480}
		// The small-M kernels make their masks with BMI2's BZHI, which
		// every AVX-512 CPU so far has.
		if cpu.X86.HasBMI2 {
			s.small, d.small = sgemmAVX512SmallTiles, dgemmAVX512SmallTiles
			s.tall, d.tall = sgemmAVX512SmallTallTiles, dgemmAVX512SmallTallTiles
		}
		sets = append(sets, kernelSet{name: "avx512", s: s, d: d})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		// CPUs with AVX2 but not AVX-512 often have 256 to 512 KiB of L2.
		sets = append(sets, kernelSet{
			name: "avx2",
			s:    &kernel[float32]{name: "avx2", tiles: sgemmAVX2Tiles, nr: sgemmAVX2NR, kc: 256, nc: 256},
			d:    &kernel[float64]{name: "avx2", tiles: dgemmAVX2Tiles, nr: dgemmAVX2NR, kc: 256, nc: 128},
		})
	}
	return append(sets, goKernelSet())
}
