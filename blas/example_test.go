package blas_test

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"

	tblas "github.com/tapestry-ml/tapestry/blas"
)

func ExampleInstall() {
	prev := tblas.Install() // gorgonia and tensor now multiply with tblas.Implementation
	defer gorgonia.Use(prev)

	_, ok := gorgonia.WhichBLAS().(tblas.Implementation)
	fmt.Println(ok)
	// Output: true
}

func ExampleImplementation_Sgemm() {
	// C = A·B for A 2×3 and B 3×2, all row-major.
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := make([]float32, 4)
	tblas.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [4 5 10 11]
}
