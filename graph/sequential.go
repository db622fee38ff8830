package graph

import (
	"encoding/json"
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/internal/strictjson"
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
	if err := strictjson.Decode(b, &v); err != nil {
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
		if l != nil { // OutShape reports it
			ps = append(ps, l.Params()...)
		}
	}
	return ps
}

// OutShape implements Layer. The error names the layer that does not fit.
func (s Sequential) OutShape(in []int) ([]int, error) { return s.outShapeFrom(0, in) }

// outShapeFrom is OutShape from layer start on.
func (s Sequential) outShapeFrom(start int, in []int) ([]int, error) {
	shape := in
	for i := start; i < len(s.Layers); i++ {
		l := s.Layers[i]
		if l == nil {
			return nil, errors.Errorf("layer %d is nil", i)
		}
		out, err := l.OutShape(shape)
		if err != nil {
			return nil, errors.Wrapf(err, "layer %d (%s)", i, layerName(l))
		}
		shape = out
	}
	return shape, nil
}

// Forward implements Layer.
func (s Sequential) Forward(b *Builder, x *G.Node) (*G.Node, error) { return s.forwardFrom(0, b, x) }

// forwardFrom is Forward from layer start on.
func (s Sequential) forwardFrom(start int, b *Builder, x *G.Node) (*G.Node, error) {
	var err error
	for i := start; i < len(s.Layers); i++ {
		if s.Layers[i] == nil {
			return nil, errors.Errorf("layer %d is nil", i)
		}
		if x, err = s.Layers[i].Forward(b, x); err != nil {
			return nil, errors.Wrapf(err, "layer %d (%s)", i, layerName(s.Layers[i]))
		}
	}
	return x, nil
}

// OutShapeN implements MultiLayer when the first layer is one (a Merge):
// it takes the inputs, the rest follow as in OutShape.
func (s Sequential) OutShapeN(in [][]int) ([]int, error) {
	first, ok := s.first()
	if !ok {
		return nil, errors.New("sequential: the first layer does not take several inputs (use a Merge)")
	}
	shape, err := first.OutShapeN(in)
	if err != nil {
		return nil, errors.Wrapf(err, "layer 0 (%s)", layerName(s.Layers[0]))
	}
	return s.outShapeFrom(1, shape)
}

// ForwardN implements MultiLayer when the first layer is one.
func (s Sequential) ForwardN(b *Builder, xs []*G.Node) (*G.Node, error) {
	first, ok := s.first()
	if !ok {
		return nil, errors.New("sequential: the first layer does not take several inputs (use a Merge)")
	}
	x, err := first.ForwardN(b, xs)
	if err != nil {
		return nil, errors.Wrapf(err, "layer 0 (%s)", layerName(s.Layers[0]))
	}
	return s.forwardFrom(1, b, x)
}

func (s Sequential) first() (MultiLayer, bool) {
	if len(s.Layers) == 0 {
		return nil, false
	}
	m, ok := s.Layers[0].(MultiLayer)
	return m, ok
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
