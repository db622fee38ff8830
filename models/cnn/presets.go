package cnn

// Default returns the network of pytorch/examples' MNIST example
// (mnist/main.py), which reaches about 99% test accuracy:
//
//	conv1 1→32 3×3, ReLU, conv2 32→64 3×3, ReLU, max pool 2, dropout 0.25,
//	flatten 64·12·12 = 9216, fc1 9216→128, ReLU, dropout 0.5, fc2 128→10
//
// with its parameter names (conv1, conv2, fc1, fc2) and 1,199,882
// parameters.
func Default() Config {
	return Config{
		InShape: [3]int{1, 28, 28},
		Blocks: []Block{
			{Out: 32, Kernel: 3},
			{Out: 64, Kernel: 3, Pool: "max", PoolSize: 2, Dropout: 0.25},
		},
		Dense:        []int{128},
		DenseDropout: 0.5,
		Outputs:      10,
	}
}

// LeNet5 returns LeNet-5 (LeCun et al. 1998) as it is usually written in
// PyTorch, 61,706 parameters:
//
//	conv1 1→6 5×5 pad 2, ReLU, max pool 2, conv2 6→16 5×5, ReLU, max pool 2,
//	flatten 16·5·5 = 400, fc1 400→120, ReLU, fc2 120→84, ReLU, fc3 84→10
//
// The 1998 network used scaled tanh units and trainable average
// subsampling; ReLU and max pooling, the usual modern rendering, train
// faster with Adam and keep the same layer sizes and parameter count.
func LeNet5() Config {
	return Config{
		InShape: [3]int{1, 28, 28},
		Blocks: []Block{
			{Out: 6, Kernel: 5, Pad: 2, Pool: "max", PoolSize: 2},
			{Out: 16, Kernel: 5, Pool: "max", PoolSize: 2},
		},
		Dense:   []int{120, 84},
		Outputs: 10,
	}
}
