package graph

import (
	"fmt"
	"slices"
	"strings"

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
		return out, errors.Wrapf(err, "input shape %s", shapeString(ins[0].Shape))
	}
	ml, ok := a.Net.(MultiLayer)
	if !ok {
		return nil, errors.Errorf("architecture has %d inputs, but its network (%T) takes one", len(ins), a.Net)
	}
	shapes := make([][]int, len(ins))
	seen := map[string]bool{}
	for k, in := range ins {
		if in.Name == "" || seen[in.Name] {
			return nil, errors.Errorf("input %d: name %.40q is empty or used twice", k, in.Name)
		}
		seen[in.Name] = true
		shapes[k] = in.Shape
	}
	out, err := ml.OutShapeN(shapes)
	return out, errors.Wrapf(err, "input shapes %s", shapesString(shapes))
}

// Validate checks that the network maps its inputs to an output the loss
// can train.
func (a Arch) Validate() error {
	d := a.withDefaults()
	for k, in := range d.Inputs {
		for _, d := range in.Shape {
			if d < 1 {
				return errors.Errorf("input %d (%.40q): shape %s has a dimension < 1", k, in.Name, shapeString(in.Shape))
			}
		}
		if len(in.Shape) == 0 {
			return errors.Errorf("input %d (%.40q) has no shape", k, in.Name)
		}
	}
	out, err := a.OutShape()
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return errors.New("the network's output has no shape")
	}
	return errors.Wrapf(d.Loss.Check(out), "network output %s", shapeString(out))
}

// shortDims is how many dimensions of a shape, and shapes of a list, an
// error prints: a shape may come from a file.
const shortDims = 8

// shapeString prints s as %v does, but at most shortDims dimensions of it:
// [1 2 3], [1 1 1 1 1 1 1 1 … (500000 dimensions)].
func shapeString(s []int) string {
	if len(s) <= shortDims {
		return fmt.Sprint(s)
	}
	return fmt.Sprintf("%s … (%d dimensions)]", strings.TrimSuffix(fmt.Sprint(s[:shortDims]), "]"), len(s))
}

// shapesString prints shapes as %v does, but at most shortDims of them,
// each by shapeString.
func shapesString(shapes [][]int) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, s := range shapes {
		if i == shortDims {
			fmt.Fprintf(&sb, " … (%d shapes)", len(shapes))
			break
		}
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(shapeString(s))
	}
	sb.WriteByte(']')
	return sb.String()
}
