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
	if err != nil {
		return nil, nil, err
	}
	return m, ck, nil
}

// ArchOf returns the architecture of a loaded checkpoint (the one it
// specifies, or, for a file of the first format, its builder's) once
// checkpoint.Check has found it to be the architecture of the file's
// tensors, within checkpoint.MaxActivations: nothing built from it can then
// allocate more than the file holds and a bounded working set per example.
// Errors name the metadata field or the tensor.
func ArchOf(ck *checkpoint.Checkpoint) (graph.Arch, error) {
	var arch graph.Arch
	if ck.Arch != nil {
		arch = *ck.Arch
	} else {
		var err error
		if arch, err = FromConfig(ck.Kind, ck.Config); err != nil {
			return graph.Arch{}, errors.Wrap(err, "metadata field arch.config")
		}
	}
	if _, err := ck.Check(arch); err != nil {
		return graph.Arch{}, err
	}
	return arch, nil
}

// FromCheckpoint rebuilds the model of a loaded checkpoint, with its
// weights, in its element type (ck.Dtype: float64 if the file holds float64
// parameters, else float32): from the architecture it specifies, or, for a file of
// the first format, from its builder's kind and config. The architecture is
// checked against the tensors (ArchOf) before the model is made.
// Errors name the checkpoint's file (its Path) when it was read from one.
func FromCheckpoint(ck *checkpoint.Checkpoint) (*graph.Model, error) {
	m, err := fromCheckpoint(ck)
	if err != nil && ck.Path != "" {
		return nil, errors.Wrapf(err, "building the model of %s", ck.Path)
	}
	return m, err
}

func fromCheckpoint(ck *checkpoint.Checkpoint) (*graph.Model, error) {
	arch, err := ArchOf(ck)
	if err != nil {
		return nil, err
	}
	// The weights are overwritten by Restore; the seed only fills them first.
	dt := graph.Float32
	if ck.Dtype == graph.Float64 {
		dt = graph.Float64
	}
	m, err := graph.NewModel(arch, dt, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	if err := ck.Restore(m); err != nil {
		return nil, err
	}
	return m, nil
}
