package cnn_test

import (
	"fmt"

	"github.com/tapestry-ml/tapestry/models/cnn"
)

// A CNN declared from blocks: two 3×3 convolutions with batch norm, the
// second followed by 2×2 max pooling and dropout, then a dense head. (The
// README shows this example.)
func ExampleNew_blocks() {
	arch, err := cnn.New(cnn.Config{
		Blocks: []cnn.Block{
			{Out: 32, Kernel: 3, BatchNorm: true},
			{Out: 64, Kernel: 3, BatchNorm: true, Pool: "max", Dropout: 0.25},
		},
		Dense:        []int{128},
		DenseDropout: 0.5,
	})
	if err != nil {
		panic(err)
	}
	for _, p := range arch.Net.Params()[:6] {
		fmt.Println(p.Name, p.Shape)
	}
	// Output:
	// conv1.weight [32 1 3 3]
	// bn1.weight [32]
	// bn1.bias [32]
	// bn1.running_mean [32]
	// bn1.running_var [32]
	// conv2.weight [64 32 3 3]
}

// A config whose shapes do not fit 28×28 is an error naming the block.
func ExampleConfig_Validate() {
	err := cnn.Config{Blocks: []cnn.Block{
		{Out: 8, Kernel: 5, Pool: "max"},
		{Out: 8, Kernel: 5, Pool: "max"},
		{Out: 8, Kernel: 5},
	}}.Validate()
	fmt.Println(err)
	// Output: cnn: block 3: 8×4×4 input is smaller than the 5×5 kernel
}
