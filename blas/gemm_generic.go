//go:build !amd64

package blas

func availableKernelSets() []kernelSet { return []kernelSet{goKernelSet()} }
