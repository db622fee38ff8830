package models

import (
	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/internal/strictjson"
	"github.com/tapestry-ml/tapestry/models/cnn"
	"github.com/tapestry-ml/tapestry/models/mlp"
)

// FromConfig rebuilds the architecture a checkpoint of the first format
// recorded: the builder's kind ("mlp", "cnn") and its JSON config, which
// named the outputs "classes". Unknown config fields are errors, so that a
// file from another version is not silently misread. Building the
// architecture allocates nothing in proportion to its sizes; ArchOf then
// checks them against the file's tensors. (Checkpoints of the current format
// hold the architecture itself.)
func FromConfig(kind string, config []byte) (graph.Arch, error) {
	switch kind {
	case mlp.Kind:
		var c struct {
			Inputs     int     `json:"inputs"`
			Hidden     []int   `json:"hidden"`
			Activation string  `json:"activation"`
			Dropout    float64 `json:"dropout"`
			NoDropout  bool    `json:"no_dropout,omitempty"`
			Classes    int     `json:"classes"`
		}
		if err := strictjson.Decode(config, &c); err != nil {
			return graph.Arch{}, errors.Wrap(err, "reading the mlp config")
		}
		return mlp.New(mlp.Config{Inputs: c.Inputs, Hidden: c.Hidden, Activation: c.Activation,
			Dropout: c.Dropout, NoDropout: c.NoDropout, Outputs: c.Classes})
	case cnn.Kind:
		var c struct {
			InShape         [3]int      `json:"in_shape"`
			Blocks          []cnn.Block `json:"blocks"`
			Dense           []int       `json:"dense"`
			DenseDropout    float64     `json:"dense_dropout,omitempty"`
			DenseActivation string      `json:"dense_activation,omitempty"`
			Classes         int         `json:"classes"`
		}
		if err := strictjson.Decode(config, &c); err != nil {
			return graph.Arch{}, errors.Wrap(err, "reading the cnn config")
		}
		return cnn.New(cnn.Config{InShape: c.InShape, Blocks: c.Blocks, Dense: c.Dense,
			DenseDropout: c.DenseDropout, DenseActivation: c.DenseActivation, Outputs: c.Classes})
	}
	return graph.Arch{}, errors.Errorf("unknown architecture kind %.40q", kind)
}
