package graph

import G "gorgonia.org/gorgonia"

// Identity passes its input through unchanged: the "linear" activation, and
// the shortcut of a residual block that needs no projection.
type Identity struct{}

// Params implements Layer.
func (Identity) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (Identity) OutShape(in []int) ([]int, error) { return in, nil }

// Forward implements Layer.
func (Identity) Forward(_ *Builder, x *G.Node) (*G.Node, error) { return x, nil }
