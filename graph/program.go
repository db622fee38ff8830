package graph

import (
	"math/rand/v2"
	"sync"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/optim"
)

// A Program is one compiled static graph and the tape machine that runs it,
// for a fixed batch size. A training program computes logits, the loss and
// the gradients of every trainable parameter; an inference program computes
// logits only, with dropout off.
//
// Fill X (and Y when training) in place, then call Run. Programs are not safe
// for concurrent use.
type Program struct {
	Batch    int
	Training bool
	// X is the input, [Batch, in...]; Y the targets, [Batch, classes]
	// (training only). Both are bound to the graph: write into them.
	X, Y *tensor.Dense

	g       *G.ExprGraph
	vm      G.VM
	logitsV G.Value
	lossV   G.Value
	names   []string
	nodes   []*G.Node
	params  []optim.Param
	noise   []noise
	after   []func() error
	rng     *rand.Rand
}

// compileMu serializes compiles: NewTapeMachine writes the engine field of
// every value it binds, shared parameter tensors included (gorgonia
// vm_tape.go:74).
var compileMu sync.Mutex

func compile(m *Model, batch int, training bool, rng *rand.Rand) (*Program, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	if batch < 1 {
		return nil, errors.Errorf("batch size %d must be at least 1", batch)
	}
	if training && rng == nil {
		return nil, errors.New("a training program needs a *rand.Rand for its dropout masks")
	}
	b := NewBuilder(m.Params, batch, training)
	x, xt := b.Input("x", m.Arch.InShape)
	out, err := m.Arch.Net.Forward(b, x)
	if err != nil {
		return nil, err
	}
	p := &Program{Batch: batch, Training: training, X: xt, g: b.G, rng: rng}
	G.Read(out, &p.logitsV)
	if training {
		y, yt := b.Input("y", []int{m.Arch.Classes})
		p.Y = yt
		loss, err := m.Loss.Build(out, y)
		if err != nil {
			return nil, err
		}
		G.Read(loss, &p.lossV)
		p.names, p.nodes = b.ParamNodes()
		if len(p.nodes) > 0 {
			if _, err := G.Grad(loss, p.nodes...); err != nil {
				return nil, errors.Wrap(err, "differentiating the loss")
			}
		}
	}
	// No BindDualValues: with it the machine adds every run's gradient into
	// a stored one (docs/GORGONIA.md#gradients-accumulate-across-runs), an
	// extra pass over every parameter per step; Params reads the gradient
	// nodes' values instead.
	p.vm = G.NewTapeMachine(b.G)
	p.noise, p.after = b.noise, b.after
	return p, nil
}

// Run refills the program's noise inputs (dropout masks), runs the graph once
// and resets the machine for the next run.
func (p *Program) Run() error {
	for _, n := range p.noise {
		n.fill(p.rng, n.t)
	}
	if err := p.vm.RunAll(); err != nil {
		p.vm.Reset()
		return errors.Wrap(err, "running the graph")
	}
	p.vm.Reset()
	for _, f := range p.after {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// Loss returns the loss computed by the last Run of a training program.
func (p *Program) Loss() float64 {
	switch v := p.lossV.(type) {
	case *G.F32:
		return float64(*v)
	case *G.F64:
		return float64(*v)
	case tensor.Tensor:
		switch d := v.Data().(type) {
		case float32:
			return float64(d)
		case float64:
			return d
		case []float32:
			return float64(d[0])
		case []float64:
			return d[0]
		}
	}
	return 0
}

// Logits returns the network's output from the last Run, [Batch, classes].
// It is overwritten by the next Run.
func (p *Program) Logits() *tensor.Dense {
	t, _ := p.logitsV.(*tensor.Dense)
	return t
}

// Params returns the trainable parameters and their gradients from the last
// Run, for an optimizer. The returned slice is reused by the next call.
func (p *Program) Params() ([]optim.Param, error) {
	if !p.Training {
		return nil, errors.New("an inference program has no gradients")
	}
	if p.params == nil {
		p.params = make([]optim.Param, len(p.nodes))
	}
	// The gradient tensors are re-read at every call: they are the values
	// of the gradient nodes, which the machine may rebind between runs.
	for i, n := range p.nodes {
		d := n.Deriv()
		if d == nil || d.Value() == nil {
			p.params = nil
			return nil, errors.Errorf("gradient of %s has no value (run the program once first)", p.names[i])
		}
		g, ok := d.Value().(*tensor.Dense)
		if !ok {
			p.params = nil
			return nil, errors.Errorf("gradient of %s is a %T", p.names[i], d.Value())
		}
		v, ok := n.Value().(*tensor.Dense)
		if !ok {
			p.params = nil
			return nil, errors.Errorf("value of %s is a %T", p.names[i], n.Value())
		}
		p.params[i] = optim.Param{Name: p.names[i], Value: v, Grad: g}
	}
	return p.params, nil
}

// Graph returns the program's expression graph (for g.ToDot()).
func (p *Program) Graph() *G.ExprGraph { return p.g }

// Close releases the tape machine.
func (p *Program) Close() error { return p.vm.Close() }
