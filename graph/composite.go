package graph

import (
	"encoding/json"
	"slices"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/internal/strictjson"
)

// Residual adds a block's output to its input, He et al.'s skip connection:
//
//	y = Body(x) + Shortcut(x)
//
// Shortcut is the identity when nil; give it a layer (a Dense, a 1×1
// Conv2D) when Body changes the shape. Both must map the input to the same
// shape.
type Residual struct {
	Body     Layer
	Shortcut Layer
}

func (r Residual) shortcut() Layer {
	if r.Shortcut == nil {
		return Identity{}
	}
	return r.Shortcut
}

// Params implements Layer: the body's, then the shortcut's.
func (r Residual) Params() []ParamSpec {
	if r.Body == nil {
		return nil
	}
	return append(r.Body.Params(), r.shortcut().Params()...)
}

// OutShape implements Layer.
func (r Residual) OutShape(in []int) ([]int, error) {
	if r.Body == nil {
		return nil, errors.New("residual: no body")
	}
	a, err := r.Body.OutShape(in)
	if err != nil {
		return nil, errors.Wrap(err, "residual body")
	}
	b, err := r.shortcut().OutShape(in)
	if err != nil {
		return nil, errors.Wrap(err, "residual shortcut")
	}
	if !slices.Equal(a, b) {
		return nil, errors.Errorf("residual: the body gives %v, the shortcut %v; they must be equal to be added", a, b)
	}
	return a, nil
}

// Forward implements Layer.
func (r Residual) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	if _, err := r.OutShape(x.Shape()[1:]); err != nil {
		return nil, err
	}
	y, err := r.Body.Forward(b, x)
	if err != nil {
		return nil, errors.Wrap(err, "residual body")
	}
	s, err := r.shortcut().Forward(b, x)
	if err != nil {
		return nil, errors.Wrap(err, "residual shortcut")
	}
	out, err := G.Add(y, s)
	return out, errors.Wrap(err, "residual")
}

// MarshalJSON writes the body and shortcut by their registered names.
func (r Residual) MarshalJSON() ([]byte, error) {
	v := struct {
		Body     json.RawMessage `json:"body"`
		Shortcut json.RawMessage `json:"shortcut,omitempty"`
	}{}
	var err error
	if v.Body, err = MarshalLayer(r.Body); err != nil {
		return nil, errors.Wrap(err, "residual body")
	}
	if r.Shortcut != nil {
		if v.Shortcut, err = MarshalLayer(r.Shortcut); err != nil {
			return nil, errors.Wrap(err, "residual shortcut")
		}
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Residual) UnmarshalJSON(b []byte) error {
	var v struct {
		Body     json.RawMessage `json:"body"`
		Shortcut json.RawMessage `json:"shortcut,omitempty"`
	}
	if err := strictjson.Decode(b, &v); err != nil {
		return err
	}
	body, err := UnmarshalLayer(v.Body)
	if err != nil {
		return errors.Wrap(err, "residual body")
	}
	*r = Residual{Body: body}
	if len(v.Shortcut) > 0 {
		if r.Shortcut, err = UnmarshalLayer(v.Shortcut); err != nil {
			return errors.Wrap(err, "residual shortcut")
		}
	}
	return nil
}

// Concat applies each branch to the same input and joins their outputs
// along the feature dimension (dimension 1 with the batch, 0 of one
// example): an Inception-style split. The branches' outputs must agree in
// every other dimension.
type Concat struct{ Branches []Layer }

// Merge is the first layer of a network of several inputs: branch k runs
// on input k, then their outputs are joined: concatenated along the
// feature dimension (Mode "concat", the zero value) or added (Mode "add",
// which needs equal shapes). It is a MultiLayer.
type Merge struct {
	Branches []Layer
	Mode     string
}

// Params implements Layer: each branch's, in order.
func (c Concat) Params() []ParamSpec { return branchParams(c.Branches) }

// Params implements MultiLayer.
func (m Merge) Params() []ParamSpec { return branchParams(m.Branches) }

func branchParams(bs []Layer) []ParamSpec {
	var ps []ParamSpec
	for _, l := range bs {
		if l != nil { // OutShape reports it
			ps = append(ps, l.Params()...)
		}
	}
	return ps
}

// OutShape implements Layer.
func (c Concat) OutShape(in []int) ([]int, error) {
	ins := make([][]int, len(c.Branches))
	for i := range ins {
		ins[i] = in
	}
	return joinShapes("concat", c.Branches, ins, "concat")
}

// OutShapeN implements MultiLayer.
func (m Merge) OutShapeN(in [][]int) ([]int, error) {
	if len(in) != len(m.Branches) {
		return nil, errors.Errorf("merge: %d inputs for %d branches", len(in), len(m.Branches))
	}
	return joinShapes("merge", m.Branches, in, m.Mode)
}

// OutShape implements Layer, for a Merge of one branch.
func (m Merge) OutShape(in []int) ([]int, error) { return m.OutShapeN([][]int{in}) }

// joinShapes returns the shape of the branches' outputs joined by mode.
func joinShapes(what string, bs []Layer, ins [][]int, mode string) ([]int, error) {
	if len(bs) == 0 {
		return nil, errors.Errorf("%s: no branches", what)
	}
	if mode != "" && mode != "concat" && mode != "add" {
		return nil, errors.Errorf("%s: mode %.20q, want \"concat\" or \"add\"", what, mode)
	}
	var out []int
	for i, l := range bs {
		if l == nil {
			return nil, errors.Errorf("%s: branch %d is nil", what, i)
		}
		s, err := l.OutShape(ins[i])
		if err != nil {
			return nil, errors.Wrapf(err, "%s branch %d", what, i)
		}
		switch {
		case i == 0:
			out = append([]int(nil), s...)
		case mode == "add":
			if !slices.Equal(s, out) {
				return nil, errors.Errorf("%s: branch %d gives %v, branch 0 %v; adding needs equal shapes", what, i, s, out)
			}
		default:
			if len(s) != len(out) || !slices.Equal(s[1:], out[1:]) {
				return nil, errors.Errorf("%s: branch %d gives %v, which does not join %v along the features", what, i, s, out)
			}
			out[0] += s[0]
		}
	}
	return out, nil
}

// Forward implements Layer.
func (c Concat) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	if _, err := c.OutShape(x.Shape()[1:]); err != nil {
		return nil, err
	}
	xs := make([]*G.Node, len(c.Branches))
	for i := range xs {
		xs[i] = x
	}
	return joinBranches(b, "concat", c.Branches, xs, "concat")
}

// ForwardN implements MultiLayer.
func (m Merge) ForwardN(b *Builder, xs []*G.Node) (*G.Node, error) {
	ins := make([][]int, len(xs))
	for i, x := range xs {
		ins[i] = x.Shape()[1:]
	}
	if _, err := m.OutShapeN(ins); err != nil {
		return nil, err
	}
	return joinBranches(b, "merge", m.Branches, xs, m.Mode)
}

// Forward implements Layer, for a Merge of one branch.
func (m Merge) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	return m.ForwardN(b, []*G.Node{x})
}

func joinBranches(b *Builder, what string, bs []Layer, xs []*G.Node, mode string) (*G.Node, error) {
	ys := make([]*G.Node, len(bs))
	for i, l := range bs {
		y, err := l.Forward(b, xs[i])
		if err != nil {
			return nil, errors.Wrapf(err, "%s branch %d", what, i)
		}
		ys[i] = y
	}
	if len(ys) == 1 {
		return ys[0], nil
	}
	if mode == "add" {
		out := ys[0]
		for _, y := range ys[1:] {
			var err error
			if out, err = G.Add(out, y); err != nil {
				return nil, errors.Wrap(err, what)
			}
		}
		return out, nil
	}
	out, err := G.Concat(1, ys...)
	return out, errors.Wrap(err, what)
}

// MarshalJSON writes the branches by their registered names.
func (c Concat) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Branches layerList `json:"branches"`
	}{c.Branches})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Concat) UnmarshalJSON(b []byte) error {
	var v struct {
		Branches layerList `json:"branches"`
	}
	if err := strictjson.Decode(b, &v); err != nil {
		return err
	}
	c.Branches = v.Branches
	return nil
}

// MarshalJSON writes the branches by their registered names.
func (m Merge) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Branches layerList `json:"branches"`
		Mode     string    `json:"mode,omitempty"`
	}{m.Branches, m.Mode})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Merge) UnmarshalJSON(b []byte) error {
	var v struct {
		Branches layerList `json:"branches"`
		Mode     string    `json:"mode,omitempty"`
	}
	if err := strictjson.Decode(b, &v); err != nil {
		return err
	}
	m.Branches, m.Mode = v.Branches, v.Mode
	return nil
}

var (
	_ Layer      = Residual{}
	_ Layer      = Concat{}
	_ MultiLayer = Merge{}
)
