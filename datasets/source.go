package datasets

import "math/rand/v2"

// A Source is a set of examples cut into batches: mnist.Batches, Batches
// over Go slices, tabular data read from a CSV file, or a type of your own.
// The trainer (package train) asks for batch i of the current pass; it owns
// the generator that orders the examples, so that a checkpoint can save its
// state and a resumed run sees the same batches.
type Source interface {
	// Len is the number of batches in one pass.
	Len() int
	// Size is the number of examples in batch i; only the last batch may
	// be smaller than the others.
	Size(i int) int
	// Shuffle draws a new order of the examples from rng for the next
	// pass. The order must depend only on rng's state (shuffle the
	// source's own order, not the previous pass's), so that a pass resumed
	// from a saved state sees the same batches.
	Shuffle(rng *rand.Rand)
	// Fill writes batch i into b and returns its number of examples n,
	// Size(i). It writes the first n rows of every slice of b that is not
	// nil, and nothing else: the trainer sets the slices' lengths to what
	// the model takes, and passes nil for what it does not (Labels for a
	// loss that takes values, Targets for one that takes labels). An error
	// stops training and names the batch.
	Fill(i int, b *Batch) (int, error)
}

// An Indexer is a Source that can say which of its examples is at a place
// of a batch, so that an error about a batch's example can name the
// example in the data: Example(i, j) is the index, in the source's own
// order (before any Shuffle), of example j of batch i in the current pass.
type Indexer interface {
	Example(i, j int) int
}

// A Batch is the memory a Source writes one batch into: the input tensors of
// a compiled program and the trainer's label or target buffer.
type Batch struct {
	// Inputs holds one slice per model input, each [n, shape...] row-major:
	// Inputs[k] has room for the batch's rows of input k.
	Inputs [][]float32
	// Labels holds one class label per example, for a model whose loss
	// takes labels (graph.CrossEntropy); nil otherwise. The trainer makes
	// the one-hot rows, and refuses a label outside [0, classes) and a
	// label the source did not write.
	Labels []int
	// Targets holds the float targets, [n, out...] row-major, for a model
	// whose loss takes values (regression, graph.SigmoidCrossEntropy); nil
	// otherwise. The trainer refuses a target the source did not write.
	Targets []float32
}
