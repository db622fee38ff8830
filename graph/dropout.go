package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// Dropout zeroes each element with probability P during training and scales
// the rest by 1/(1−P) (inverted dropout), so inference is the identity.
//
// Gorgonia's Dropout divides its gradient by P instead of 1−P and draws its
// mask from a clock-seeded generator (docs/GORGONIA.md#dropout-is-wrong), so
// the mask here is a graph input refilled before every run from the
// program's rng (ops.FillDropoutMask), and the layer is an elementwise
// product whose gradient is the mask itself (our own op, ops.Dropout, which
// does not differentiate the mask).
type Dropout struct {
	// Name makes the mask node unique; two dropouts in one network need
	// different names (docs/GORGONIA.md#identical-nodes-merge).
	Name string
	P    float64
}

// Params implements Layer.
func (Dropout) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (d Dropout) OutShape(in []int) ([]int, error) {
	if !(d.P >= 0 && d.P < 1) {
		return nil, errors.Errorf("dropout %s: rate %v not in [0, 1)", d.Name, d.P)
	}
	return in, nil
}

// Forward implements Layer.
func (d Dropout) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	if !b.Training || d.P == 0 {
		return x, nil
	}
	p := d.P
	mask := b.Noise(d.Name+".mask", x.Shape().Clone(), func(rng *rand.Rand, t *tensor.Dense) {
		ops.FillDropoutMask(rng, t, p)
	})
	y, err := ops.Dropout(x, mask, ops.DropoutConfig{Name: d.Name, P: p})
	return y, errors.Wrapf(err, "dropout %s", d.Name)
}
