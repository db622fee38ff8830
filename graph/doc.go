// Package graph is where tapestry models are defined: a parameter store that
// lives outside any one graph, layers that add their nodes to a static
// Gorgonia expression graph, numerically stable losses, models compiled into
// training and inference programs run by Gorgonia's tape machine, a
// concurrent predictor, and a gradient checker. The heavy arithmetic is in
// package graph/ops; training loops are in package train.
//
// The shortest use:
//
//	net := graph.NewSequential(
//		graph.Dense{Name: "fc1", In: 784, Out: 128}, graph.ReLU{},
//		graph.Dense{Name: "fc2", In: 128, Out: 10})
//	model, err := graph.NewModel(graph.Arch{Net: net, InShape: []int{784}},
//		graph.Float32, rand.New(rand.NewPCG(1, 1)))
//	logits, err := model.Predict(x)       // x: n·784 values; raw outputs, [n, 10]
//	probs, err := model.Probabilities(x)  // the softmax of each row
//
// Parameters are named tensors ("fc1.weight") in a Params store. Every
// compiled graph binds its parameter nodes to those same tensors, so an
// update made by an optimizer is seen by every program without copying.
// Gorgonia graphs have fixed shapes, so a model compiles one training
// program per batch size and caches inference programs by batch size.
package graph

import (
	"gorgonia.org/tensor"
)

// Float32 and Float64 are the two element types tapestry computes in: float32
// for training speed, float64 for gradient checks.
var (
	Float32 = tensor.Float32
	Float64 = tensor.Float64
)
