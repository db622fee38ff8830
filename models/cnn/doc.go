// Package cnn implements convolutional networks for images: blocks of
// convolution, optional batch norm, activation, pooling and dropout, then a
// dense head.
//
//	arch, err := cnn.New(cnn.Default())
//	model, err := graph.NewModel(arch, graph.Float32, rng)
//
// Default is the pytorch/examples MNIST network, LeNet5 the classic small
// one. Parameters are named as in a PyTorch state_dict (conv1.weight,
// bn1.running_mean, fc1.bias …), so weights map one to one (a Dense weight is
// stored transposed, [in, out]). Inputs are NCHW: an MNIST batch is the flat
// B·784 floats the trainer fills, seen as [B, 1, 28, 28].
package cnn
