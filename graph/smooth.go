package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// GELU is x·Φ(x), Φ the standard normal distribution function: the exact
// form, PyTorch's nn.GELU default.
type GELU struct{}

// SiLU is x·σ(x), also called swish (PyTorch's nn.SiLU).
type SiLU struct{}

// Softplus is log(1 + eˣ), a smooth ReLU (PyTorch's nn.Softplus with β = 1).
type Softplus struct{}

// Params implements Layer.
func (GELU) Params() []ParamSpec { return nil }

// Params implements Layer.
func (SiLU) Params() []ParamSpec { return nil }

// Params implements Layer.
func (Softplus) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (GELU) OutShape(in []int) ([]int, error) { return in, nil }

// OutShape implements Layer.
func (SiLU) OutShape(in []int) ([]int, error) { return in, nil }

// OutShape implements Layer.
func (Softplus) OutShape(in []int) ([]int, error) { return in, nil }

// Forward implements Layer: ops.GELU.
func (GELU) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	y, err := ops.GELU(x)
	return y, errors.Wrap(err, "gelu")
}

// Forward implements Layer: ops.SiLU.
func (SiLU) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	y, err := ops.SiLU(x)
	return y, errors.Wrap(err, "silu")
}

// Forward implements Layer: ops.Softplus.
func (Softplus) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	y, err := ops.Softplus(x)
	return y, errors.Wrap(err, "softplus")
}
