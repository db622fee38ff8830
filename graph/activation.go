package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// ReLU is max(x, 0), elementwise.
type ReLU struct{}

// LeakyReLU is x for x > 0 and Alpha·x otherwise. If Alpha is 0, 0.01 is
// used (PyTorch's default).
type LeakyReLU struct{ Alpha float64 }

// Sigmoid is 1/(1+e^−x), elementwise.
type Sigmoid struct{}

// Tanh is the hyperbolic tangent, elementwise.
type Tanh struct{}

// Params implements Layer.
func (ReLU) Params() []ParamSpec { return nil }

// Params implements Layer.
func (LeakyReLU) Params() []ParamSpec { return nil }

// Params implements Layer.
func (Sigmoid) Params() []ParamSpec { return nil }

// Params implements Layer.
func (Tanh) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (ReLU) OutShape(in []int) ([]int, error) { return in, nil }

// OutShape implements Layer.
func (LeakyReLU) OutShape(in []int) ([]int, error) { return in, nil }

// OutShape implements Layer.
func (Sigmoid) OutShape(in []int) ([]int, error) { return in, nil }

// OutShape implements Layer.
func (Tanh) OutShape(in []int) ([]int, error) { return in, nil }

// Forward implements Layer. The layer is one op of ours (ops.ReLU), which
// reuses its output at every run, rather than Gorgonia's Rectify.
func (ReLU) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	y, err := ops.ReLU(x)
	return y, errors.Wrap(err, "relu")
}

// Forward implements Layer.
func (l LeakyReLU) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	a := l.Alpha
	if a == 0 {
		a = 0.01
	}
	y, err := G.LeakyRelu(x, a)
	return y, errors.Wrap(err, "leaky relu")
}

// Forward implements Layer.
func (Sigmoid) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	y, err := G.Sigmoid(x)
	return y, errors.Wrap(err, "sigmoid")
}

// Forward implements Layer.
func (Tanh) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	y, err := G.Tanh(x)
	return y, errors.Wrap(err, "tanh")
}

// Activations lists the names Activation accepts.
var Activations = []string{"relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "swish", "softplus", "linear"}

// Activation returns the activation layer of that name; "linear" is
// Identity.
func Activation(name string) (Layer, error) {
	switch name {
	case "relu":
		return ReLU{}, nil
	case "leaky_relu":
		return LeakyReLU{}, nil
	case "sigmoid":
		return Sigmoid{}, nil
	case "tanh":
		return Tanh{}, nil
	case "gelu":
		return GELU{}, nil
	case "silu", "swish":
		return SiLU{}, nil
	case "softplus":
		return Softplus{}, nil
	case "linear":
		return Identity{}, nil
	}
	return nil, errors.Errorf("unknown activation %.20q (want one of %v)", name, Activations)
}
