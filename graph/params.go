package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Kind tells whether a parameter is trained by the optimizer or only saved.
type Kind int

const (
	// Trainable parameters receive gradients and are updated by an optimizer.
	Trainable Kind = iota
	// Buffer parameters are saved with the model but not trained, such as
	// BatchNorm's running mean and variance.
	Buffer
)

// ParamSpec declares one parameter of a layer.
type ParamSpec struct {
	// Name is hierarchical and stable ("fc1.weight"): it is the key of
	// checkpoints and of PyTorch interop.
	Name  string
	Shape []int
	// Init fills the tensor when the parameter is created. If Init is nil,
	// the parameter starts at zero.
	Init Initializer
	// FanIn and FanOut feed the variance-scaling initializers. If both are
	// zero they are derived from Shape (see Fans).
	FanIn, FanOut int
	Kind          Kind
	// TorchTransposed marks a 2-D weight stored as the transpose of
	// PyTorch's layout: Dense keeps [In, Out] so that the forward pass is
	// x·W without a transpose, where nn.Linear keeps [Out, In].
	TorchTransposed bool
}

// Params is a store of named parameter tensors that lives outside any graph.
// Programs compiled from the same model bind their nodes to these tensors.
type Params struct {
	dt     tensor.Dtype
	order  []string
	specs  map[string]ParamSpec
	values map[string]*tensor.Dense
}

// NewParams returns an empty store whose tensors have element type dt
// (Float32 or Float64).
func NewParams(dt tensor.Dtype) *Params {
	return &Params{dt: dt, specs: map[string]ParamSpec{}, values: map[string]*tensor.Dense{}}
}

// Dtype returns the element type of the store's tensors.
func (p *Params) Dtype() tensor.Dtype { return p.dt }

// Add creates the parameter that spec declares and initializes it from rng.
func (p *Params) Add(spec ParamSpec, rng *rand.Rand) (*tensor.Dense, error) {
	if spec.Name == "" {
		return nil, errors.New("parameter has no name")
	}
	if _, ok := p.specs[spec.Name]; ok {
		return nil, errors.Errorf("parameter %q declared twice", spec.Name)
	}
	n := 1
	for _, d := range spec.Shape {
		if d <= 0 {
			return nil, errors.Errorf("parameter %q: shape %v has a dimension <= 0", spec.Name, spec.Shape)
		}
		n *= d
	}
	if len(spec.Shape) == 0 {
		return nil, errors.Errorf("parameter %q has no shape", spec.Name)
	}
	t := tensor.New(tensor.Of(p.dt), tensor.WithShape(spec.Shape...))
	if spec.Init != nil {
		fanIn, fanOut := spec.FanIn, spec.FanOut
		if fanIn == 0 && fanOut == 0 {
			fanIn, fanOut = Fans(spec.Shape)
		}
		if err := spec.Init.Fill(rng, t, fanIn, fanOut); err != nil {
			return nil, errors.Wrapf(err, "initializing %s", spec.Name)
		}
	}
	p.order = append(p.order, spec.Name)
	p.specs[spec.Name] = spec
	p.values[spec.Name] = t
	return t, nil
}

// Get returns the tensor of the named parameter, or nil if there is none.
func (p *Params) Get(name string) *tensor.Dense { return p.values[name] }

// Spec returns the declaration of the named parameter.
func (p *Params) Spec(name string) (ParamSpec, bool) {
	s, ok := p.specs[name]
	return s, ok
}

// Names lists every parameter in the order they were declared.
func (p *Params) Names() []string { return append([]string(nil), p.order...) }

// Trainable lists the trainable parameters in declaration order.
func (p *Params) Trainable() []string {
	var out []string
	for _, n := range p.order {
		if p.specs[n].Kind == Trainable {
			out = append(out, n)
		}
	}
	return out
}

// Count returns the number of trainable scalars.
func (p *Params) Count() int {
	n := 0
	for _, name := range p.Trainable() {
		n += p.values[name].Shape().TotalSize()
	}
	return n
}

// Set copies src into the named parameter. The shapes must be equal; the
// error names the parameter and both shapes.
func (p *Params) Set(name string, src []float64) error {
	t := p.values[name]
	if t == nil {
		return errors.Errorf("no parameter %q", name)
	}
	if len(src) != t.Shape().TotalSize() {
		return errors.Errorf("parameter %s: %d values for shape %v", name, len(src), t.Shape())
	}
	setFloat64s(t, src)
	return nil
}

func setFloat64s(t *tensor.Dense, src []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, src)
	}
}

// Float64s returns a copy of the named parameter's values as float64.
func (p *Params) Float64s(name string) []float64 {
	t := p.values[name]
	if t == nil {
		return nil
	}
	return toFloat64s(t)
}

func toFloat64s(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	panic(fmt.Sprintf("graph: unsupported dtype %v", t.Dtype()))
}

// ParamValue is a copy of one parameter's values.
type ParamValue struct {
	Name  string
	Shape []int
	Data  []float64
}

// Snapshot returns a copy of every parameter and buffer, in declaration
// order: the weights of a moment, to put back with Load.
func (p *Params) Snapshot() []ParamValue {
	out := make([]ParamValue, 0, len(p.order))
	for _, name := range p.order {
		t := p.values[name]
		out = append(out, ParamValue{Name: name, Shape: append([]int(nil), t.Shape()...), Data: toFloat64s(t)})
	}
	return out
}

// Load copies values taken by Snapshot back into the store. Every value must
// name a parameter of the store and have its size; nothing is changed when
// one does not.
func (p *Params) Load(vs []ParamValue) error {
	for _, v := range vs {
		t := p.values[v.Name]
		if t == nil {
			return errors.Errorf("no parameter %q", v.Name)
		}
		if len(v.Data) != t.Shape().TotalSize() {
			return errors.Errorf("parameter %s: %d values for shape %v", v.Name, len(v.Data), t.Shape())
		}
	}
	for _, v := range vs {
		setFloat64s(p.values[v.Name], v.Data)
	}
	return nil
}
