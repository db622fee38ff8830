package graph

import (
	"encoding/json"
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// Sequential applies its layers in order; its parameters are theirs,
// concatenated.
type Sequential struct{ Layers []Layer }

// MarshalJSON writes the layers by their registered names (see
// MarshalLayer).
func (s Sequential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Layers layerList `json:"layers"`
	}{s.Layers})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Sequential) UnmarshalJSON(b []byte) error {
	var v struct {
		Layers layerList `json:"layers"`
	}
	if err := strictDecode(b, &v); err != nil {
		return err
	}
	s.Layers = v.Layers
	return nil
}

// NewSequential returns a Sequential over layers.
func NewSequential(layers ...Layer) Sequential { return Sequential{Layers: layers} }

// Params implements Layer.
func (s Sequential) Params() []ParamSpec {
	var ps []ParamSpec
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// OutShape implements Layer. The error names the layer that does not fit.
func (s Sequential) OutShape(in []int) ([]int, error) {
	shape := in
	for i, l := range s.Layers {
		out, err := l.OutShape(shape)
		if err != nil {
			return nil, errors.Wrapf(err, "layer %d (%s)", i, layerName(l))
		}
		shape = out
	}
	return shape, nil
}

// Forward implements Layer.
func (s Sequential) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	var err error
	for i, l := range s.Layers {
		if x, err = l.Forward(b, x); err != nil {
			return nil, errors.Wrapf(err, "layer %d (%s)", i, layerName(l))
		}
	}
	return x, nil
}

func layerName(l Layer) string {
	switch v := l.(type) {
	case Dense:
		return "dense " + v.Name
	case Dropout:
		return "dropout " + v.Name
	case Conv2D:
		return "conv2d " + v.Name
	case BatchNorm:
		return "batchnorm " + v.Name
	}
	return fmt.Sprintf("%T", l)
}
