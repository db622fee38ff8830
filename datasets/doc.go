// Package datasets is where training data comes from: the Source interface
// that the trainer reads batches through, the Batch it fills, and Dataset,
// examples held in Go slices (PyTorch's TensorDataset and DataLoader).
//
// The shortest use:
//
//	d, err := datasets.New(x, []int{features}, labels) // x: [n, features]
//	train, val, err := d.Split(0.2, rand.New(rand.NewPCG(seed, 0)))
//	batches, err := train.Batches(64, false) // a Source, for train.Trainer.Fit
//
// Package datasets/mnist reads MNIST's IDX files, and datasets/tabular turns
// a CSV file into a Dataset.
package datasets
