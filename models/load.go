package models

import (
	"math/rand/v2"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
)

// Load rebuilds the model a checkpoint file holds, with its weights, and
// returns the checkpoint too (its metadata and optimizer state): one call,
// from the file alone. It is how cmd/predict and cmd/train -eval open a
// model; errors name the file. A layer type of your own must be registered
// (graph.RegisterLayer) before a file that uses it is loaded.
func Load(path string) (*graph.Model, *checkpoint.Checkpoint, error) {
	ck, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := FromCheckpoint(ck)
	return m, ck, errors.Wrapf(err, "loading %s", path)
}

// ArchOf returns the architecture of a loaded checkpoint: the one it
// specifies, or, for a file of the first format, its builder's.
func ArchOf(ck *checkpoint.Checkpoint) (graph.Arch, error) {
	if ck.Arch != nil {
		return *ck.Arch, nil
	}
	return FromConfig(ck.Kind, ck.Config)
}

// FromCheckpoint rebuilds the model of a loaded checkpoint, with its
// weights, in float32: from the architecture it specifies, or, for a file of
// the first format, from its builder's kind and config.
func FromCheckpoint(ck *checkpoint.Checkpoint) (*graph.Model, error) {
	arch, err := ArchOf(ck)
	if err != nil {
		return nil, err
	}
	// The weights are overwritten by Restore; the seed only fills them first.
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	if err := ck.Restore(m); err != nil {
		return nil, err
	}
	return m, nil
}
