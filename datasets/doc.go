// Package datasets is where training data comes from: the Source interface
// that the trainer reads batches through, and the Batch it fills. Package
// datasets/mnist reads MNIST's IDX files.
package datasets
