package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout zeroes each element with probability P during training and scales
// the rest by 1/(1−P) (inverted dropout), so inference is the identity.
//
// Gorgonia's Dropout divides its gradient by P instead of 1−P and draws its
// mask from a clock-seeded generator (GORGONIA.md item 9), so the mask here
// is a graph input refilled before every run from the program's rng, and the
// layer is an elementwise product whose gradient is the mask itself (our own
// op, dropout_op.go, which does not differentiate the mask).
type Dropout struct {
	// Name makes the mask node unique; two dropouts in one network need
	// different names (identical nodes merge: GORGONIA.md item 1).
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
	keep := 1 / (1 - p)
	mask := b.Noise(d.Name+".mask", x.Shape().Clone(), func(rng *rand.Rand, t *tensor.Dense) {
		switch t.Dtype() {
		case tensor.Float32:
			fillDropoutMask(rng, t.Float32s(), p, float32(keep))
		case tensor.Float64:
			fillDropoutMask(rng, t.Float64s(), p, keep)
		}
	})
	var op G.Op
	switch x.Dtype() {
	case tensor.Float32:
		op = newDropoutOp[float32](d.Name, p, x.Shape())
	case tensor.Float64:
		op = newDropoutOp[float64](d.Name, p, x.Shape())
	default:
		return nil, errors.Errorf("dropout %s: unsupported dtype %v", d.Name, x.Dtype())
	}
	y, err := G.ApplyOp(op, x, mask)
	return y, errors.Wrapf(err, "dropout %s", d.Name)
}
