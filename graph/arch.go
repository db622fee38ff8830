package graph

import (
	"slices"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// Input is one input of a network: the name of its graph node and the shape
// of one example (without the batch dimension).
type Input struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// A MultiLayer is a layer that takes several inputs: the first layer of a
// network of several inputs (Merge, or a type of your own). Sequential is
// one when its first layer is.
type MultiLayer interface {
	// Params declares the parameters the layer owns.
	Params() []ParamSpec
	// OutShapeN returns the shape of one example's output for inputs of
	// the given shapes.
	OutShapeN(in [][]int) ([]int, error)
	// ForwardN adds the layer's nodes to b's graph. xs[k]: [batch, in_k...].
	ForwardN(b *Builder, xs []*G.Node) (*G.Node, error)
}

// Arch is an architecture: a network, the shape of its inputs, and the loss
// it is trained with, which also says what its outputs mean (class scores,
// independent probabilities' logits, or values).
type Arch struct {
	// Net is the network: a Layer, or a MultiLayer when Inputs lists more
	// than one input.
	Net Layer
	// InShape is the shape of one example's input, for a network of one
	// input (named "x").
	InShape []int
	// Inputs names and shapes the inputs of a network of several; leave it
	// nil for one input (InShape).
	Inputs []Input
	// Loss is the training objective. If Loss is nil, CrossEntropy is used:
	// the output is [classes] scores.
	Loss Loss
}

// withDefaults returns a with Inputs listing its one input "x" of InShape
// when only InShape is set, and Loss CrossEntropy when it is nil: the form a
// Model keeps.
func (a Arch) withDefaults() Arch {
	if len(a.Inputs) == 0 && len(a.InShape) > 0 {
		a.Inputs = []Input{{Name: "x", Shape: a.InShape}}
	}
	if len(a.Inputs) == 1 && a.InShape == nil {
		a.InShape = a.Inputs[0].Shape
	}
	if a.Loss == nil {
		a.Loss = CrossEntropy{}
	}
	return a
}

// OutShape returns the shape of one example's output.
func (a Arch) OutShape() ([]int, error) {
	if a.Net == nil {
		return nil, errors.New("architecture has no network")
	}
	if len(a.Inputs) > 0 && len(a.InShape) > 0 && (len(a.Inputs) != 1 || !slices.Equal(a.Inputs[0].Shape, a.InShape)) {
		return nil, errors.New("architecture gives both InShape and Inputs: give one")
	}
	ins := a.withDefaults().Inputs
	if len(ins) == 0 {
		return nil, errors.New("architecture has no input shape")
	}
	if len(ins) == 1 {
		out, err := a.Net.OutShape(ins[0].Shape)
		return out, errors.Wrapf(err, "input shape %v", ins[0].Shape)
	}
	ml, ok := a.Net.(MultiLayer)
	if !ok {
		return nil, errors.Errorf("architecture has %d inputs, but its network (%T) takes one", len(ins), a.Net)
	}
	shapes := make([][]int, len(ins))
	seen := map[string]bool{}
	for k, in := range ins {
		if in.Name == "" || seen[in.Name] {
			return nil, errors.Errorf("input %d: name %q is empty or used twice", k, in.Name)
		}
		seen[in.Name] = true
		shapes[k] = in.Shape
	}
	out, err := ml.OutShapeN(shapes)
	return out, errors.Wrapf(err, "input shapes %v", shapes)
}

// Validate checks that the network maps its inputs to an output the loss
// can train.
func (a Arch) Validate() error {
	d := a.withDefaults()
	for k, in := range d.Inputs {
		for _, d := range in.Shape {
			if d < 1 {
				return errors.Errorf("input %s: shape %v has a dimension < 1", in.Name, in.Shape)
			}
		}
		if len(in.Shape) == 0 {
			return errors.Errorf("input %d (%s) has no shape", k, in.Name)
		}
	}
	out, err := a.OutShape()
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return errors.New("the network's output has no shape")
	}
	return errors.Wrapf(d.Loss.Check(out), "network output %v", out)
}
