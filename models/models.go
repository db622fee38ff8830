// Package models names tapestry's ready-made architectures and loads a
// model from a checkpoint file, whatever its format.
//
//	arch, err := models.Preset("mlp")
//	model, ck, err := models.Load("runs/x/best.safetensors")
package models

import (
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/cnn"
	"github.com/tapestry-ml/tapestry/models/mlp"
)

// Presets lists the names Preset accepts.
var Presets = []string{"mlp", "cnn", "lenet5"}

// Preset returns a named architecture:
//
//	mlp     784-512-512-10, ReLU, dropout 0.2 (Keras mnist_mlp)
//	cnn     the pytorch/examples MNIST network (cnn.Default)
//	lenet5  LeNet-5 (cnn.LeNet5)
func Preset(name string) (graph.Arch, error) {
	switch name {
	case "mlp":
		return mlp.New(mlp.Config{})
	case "cnn":
		return cnn.New(cnn.Default())
	case "lenet5":
		return cnn.New(cnn.LeNet5())
	}
	return graph.Arch{}, errors.Errorf("unknown model %q (want one of %s)", name, strings.Join(Presets, ", "))
}
