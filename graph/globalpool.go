package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// GlobalAvgPool2D averages each channel over its whole plane:
//
//	x: [batch, C, H, W] → y: [batch, C]
//
// It is an AvgPool2D whose window is the plane, then a Flatten: Gorgonia's
// GlobalAveragePool2D has no gradient
// (docs/GORGONIA.md#globalaveragepool2d-has-no-gradient).
type GlobalAvgPool2D struct{}

// Params implements Layer.
func (GlobalAvgPool2D) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (GlobalAvgPool2D) OutShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1 {
		return nil, errors.Errorf("global avg pool expects input [C, H, W], got %v", in)
	}
	return []int{in[0]}, nil
}

// Forward implements Layer.
func (g GlobalAvgPool2D) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("global avg pool: input %v is not [batch, C, H, W]", s)
	}
	y, err := AvgPool2D{Kernel: [2]int{s[2], s[3]}}.Forward(b, x)
	if err != nil {
		return nil, errors.Wrap(err, "global avg pool")
	}
	return Flatten{}.Forward(b, y)
}
