package train

import "math/rand/v2"

// A Source is a set of examples cut into batches, such as mnist.Batches.
// The trainer asks for batch i of the current pass; it owns the generator
// that orders the examples, so that a checkpoint can save its state and a
// resumed run sees the same batches.
type Source interface {
	// Len is the number of batches in one pass.
	Len() int
	// Size is the number of examples in batch i; only the last batch may
	// be smaller than the first.
	Size(i int) int
	// Shuffle draws a new order of the examples from rng for the next
	// pass. The order must depend only on rng's state (shuffle the
	// source's own order, not the previous pass's), so that a pass resumed
	// from a saved state sees the same batches.
	Shuffle(rng *rand.Rand)
	// Fill writes batch i: inputs into x, one-hot targets into y (may be
	// nil) and class labels into labels (may be nil); it returns the number
	// of examples written, which is less than the batch size only for a
	// last partial batch.
	Fill(i int, x, y []float32, labels []int) int
}
