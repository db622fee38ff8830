package graph

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Rescale is a fixed affine map of each output, y = x·Scale + Shift, with
// no parameters to train: the last layer of a regression trained on
// targets in their own units (not standardized), scaled by their standard
// deviation and shifted by their mean, so that the model's outputs, loss
// and metrics are in those units while the network before it learns values
// near 0. (datasets/tabular standardizes its targets instead, and does not
// use it.)
//
//	x: [batch, F] → y: [batch, F], len(Scale) = len(Shift) = F
type Rescale struct {
	Scale, Shift []float64
}

// Params implements Layer.
func (Rescale) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (r Rescale) OutShape(in []int) ([]int, error) {
	if len(in) != 1 || in[0] != len(r.Scale) || len(r.Shift) != len(r.Scale) {
		return nil, errors.Errorf("rescale of %d scales and %d shifts expects input [%d], got %v", len(r.Scale), len(r.Shift), len(r.Scale), in)
	}
	for i := range r.Scale {
		if !finite64(r.Scale[i]) || !finite64(r.Shift[i]) || r.Scale[i] == 0 {
			return nil, errors.Errorf("rescale: output %d has scale %v and shift %v; want finite numbers, a scale not 0", i, r.Scale[i], r.Shift[i])
		}
	}
	return in, nil
}

func finite64(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Forward implements Layer.
func (r Rescale) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 2 {
		return nil, errors.Errorf("rescale: input %v is not [batch, features]", s)
	}
	if _, err := r.OutShape(s[1:]); err != nil {
		return nil, err
	}
	scale, shift := b.Const("rescale.scale", b.row(r.Scale)), b.Const("rescale.shift", b.row(r.Shift))
	y, err := G.BroadcastHadamardProd(x, scale, nil, []byte{0})
	if err == nil {
		y, err = G.BroadcastAdd(y, shift, nil, []byte{0})
	}
	return y, errors.Wrap(err, "rescale")
}

// row returns v as a [1, len(v)] tensor of the graph's element type.
func (b *Builder) row(v []float64) *tensor.Dense {
	t := tensor.New(tensor.Of(b.Dtype()), tensor.WithShape(1, len(v)))
	setFloat64s(t, v)
	return t
}
