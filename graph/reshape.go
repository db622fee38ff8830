package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Flatten reshapes each example to a vector: [batch, d1, d2, ...] → [batch, d1·d2·…].
type Flatten struct{}

// Reshape reshapes each example to Shape, which must hold as many elements.
type Reshape struct{ Shape []int }

// Params implements Layer.
func (Flatten) Params() []ParamSpec { return nil }

// Params implements Layer.
func (Reshape) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (Flatten) OutShape(in []int) ([]int, error) { return []int{prod(in)}, nil }

// OutShape implements Layer.
func (r Reshape) OutShape(in []int) ([]int, error) {
	if prod(r.Shape) != prod(in) || len(r.Shape) == 0 {
		return nil, errors.Errorf("reshape: cannot reshape %v to %v", in, r.Shape)
	}
	return append([]int(nil), r.Shape...), nil
}

// Forward implements Layer.
func (Flatten) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) == 2 {
		return x, nil
	}
	y, err := G.Reshape(x, tensor.Shape{s[0], s.TotalSize() / s[0]})
	return y, errors.Wrap(err, "flatten")
}

// Forward implements Layer.
func (r Reshape) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	to := append(tensor.Shape{x.Shape()[0]}, r.Shape...)
	if to.TotalSize() != x.Shape().TotalSize() {
		return nil, errors.Errorf("reshape: cannot reshape %v to %v", x.Shape(), to)
	}
	y, err := G.Reshape(x, to)
	return y, errors.Wrap(err, "reshape")
}
