package graph

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/optim"
)

// Mode is what a program computes.
type Mode int

const (
	// Infer computes the outputs, with dropout off and batch norm on its
	// running statistics.
	Infer Mode = iota
	// Eval computes the outputs and the loss against targets, as Infer
	// does: validation.
	Eval
	// Training computes the outputs, the loss and the gradient of every
	// trainable parameter, with dropout on and batch norm on the batch's
	// statistics.
	Training
)

func (m Mode) String() string {
	switch m {
	case Infer:
		return "inference"
	case Eval:
		return "evaluation"
	}
	return "training"
}

// A Program is one compiled static graph and the tape machine that runs it,
// for a fixed batch size and mode.
//
// Fill the inputs (and the targets, for Eval and Training) in place, then
// call Run. A Program is not safe for concurrent use; Model.Predict and
// Predictor are.
type Program struct {
	Batch int
	Mode  Mode
	// Inputs are the network's inputs, one per Arch input, each [Batch,
	// shape...]; X is Inputs[0]. Y holds the targets, [Batch, out...] (the
	// one-hot rows of labels for a loss that takes labels); nil in an Infer
	// program. All are bound to the graph: write into them.
	Inputs []*tensor.Dense
	X, Y   *tensor.Dense

	model   *Model
	g       *G.ExprGraph
	vm      G.VM
	outputV G.Value
	lossV   G.Value
	names   []string
	nodes   []*G.Node
	params  []optim.Param
	noise   []noise
	rng     *rand.Rand
	// tape is the *tapeMachine inside vm, for runTape; nil if vm is some
	// other machine. errc and done receive the end of its loop, made once.
	tape unsafe.Pointer
	errc chan error
	done chan struct{}
}

// tapeRunall is the loop of Gorgonia's tape machine that RunAll runs
// (vm_tape.go:251): it executes every instruction from the machine's
// program counter, then sends on done, or sends the first error on errc.
// RunAll runs it on a goroutine of its own, after locking the caller to
// its OS thread, and waits for it on two channels made at every call: a
// thread handoff in and out of every run (runtime.futex was 12% of the
// profile of a batch-1 prediction), and goroutines locked to threads that
// the scheduler must hand each other's processors to. A Program calls the
// same loop on its own goroutine instead (runTape). The signature is the method's with
// the receiver first; the pointer is the *tapeMachine inside the G.VM.
//
//go:linkname tapeRunall gorgonia.org/gorgonia.(*tapeMachine).runall
func tapeRunall(m unsafe.Pointer, errc chan error, done chan struct{})

// compileMu serializes compiles: NewTapeMachine writes the engine field of
// every value it binds, shared parameter tensors included
// (docs/GORGONIA.md#newtapemachine-writes-every-bound-value).
var compileMu sync.Mutex

func compile(m *Model, batch int, mode Mode, rng *rand.Rand) (*Program, error) {
	if batch < 1 {
		return nil, errors.Errorf("batch size %d must be at least 1", batch)
	}
	if mode == Training && rng == nil {
		return nil, errors.New("a training program needs a *rand.Rand for its dropout masks")
	}
	if mode != Infer && m.Arch.Loss == nil {
		return nil, errors.Errorf("the %s program needs a loss, and the model's Arch.Loss is nil (NewModel fills in CrossEntropy: was it cleared after?)", mode)
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	// No program of the model may run while one compiles (see compileMu).
	m.running.Lock()
	defer m.running.Unlock()
	b := NewBuilder(m.Params, batch, mode == Training)
	p := &Program{Batch: batch, Mode: mode, model: m, g: b.G, rng: rng}
	var xs []*G.Node
	for _, in := range m.Arch.Inputs {
		n, t := b.Input(in.Name, in.Shape)
		xs = append(xs, n)
		p.Inputs = append(p.Inputs, t)
	}
	p.X = p.Inputs[0]
	out, err := forward(m.Arch.Net, b, xs)
	if err != nil {
		return nil, err
	}
	G.Read(out, &p.outputV)
	if mode != Infer {
		if err := p.addLoss(m, b, out); err != nil {
			return nil, err
		}
	}
	// No BindDualValues: with it the machine adds every run's gradient into
	// a stored one (docs/GORGONIA.md#gradients-accumulate-across-runs), an
	// extra pass over every parameter per step; Params reads the gradient
	// nodes' values instead.
	p.vm = G.NewTapeMachine(b.G)
	dropFinalizer(p.vm)
	p.noise = b.noise
	if syncTape(p.vm) {
		// The data word of the interface is the machine's pointer.
		p.tape = (*[2]unsafe.Pointer)(unsafe.Pointer(&p.vm))[1]
		p.errc, p.done = make(chan error, 1), make(chan struct{}, 1)
	}
	return p, nil
}

// dropFinalizer removes the finalizer Gorgonia sets on a tape machine
// (gorgonia vm_tape.go:81). The machine sits in a cycle of its own, and the
// runtime never collects a cycle that holds an object with a finalizer, so
// every compiled program, its graph and its tensors would stay in memory for
// good. The finalizer is empty without the cuda build tag
// (vm_tape_nocuda.go:10); Close is still the way to release a machine.
func dropFinalizer(vm G.VM) { runtime.SetFinalizer(vm, nil) }

// forward adds the network to b's graph: a Layer on one input, a
// MultiLayer on several.
func forward(net Layer, b *Builder, xs []*G.Node) (*G.Node, error) {
	if len(xs) == 1 {
		return net.Forward(b, xs[0])
	}
	ml, ok := net.(MultiLayer)
	if !ok {
		return nil, errors.Errorf("%d inputs, but the network (%T) takes one", len(xs), net)
	}
	return ml.ForwardN(b, xs)
}

// addLoss adds the targets input and the loss, and in a training program
// the gradients.
func (p *Program) addLoss(m *Model, b *Builder, out *G.Node) error {
	shape := m.out
	if m.Arch.Loss.Labels() {
		shape = []int{m.out[0]} // one-hot rows of the classes
	}
	y, yt := b.Input("y", shape)
	p.Y = yt
	loss, err := m.Arch.Loss.Build(out, y)
	if err != nil {
		return err
	}
	G.Read(loss, &p.lossV)
	if p.Mode != Training {
		return nil
	}
	p.names, p.nodes = b.ParamNodes()
	if len(p.nodes) > 0 {
		if _, err := G.Grad(loss, p.nodes...); err != nil {
			return errors.Wrap(err, "differentiating the loss")
		}
	}
	return nil
}

// Run refills the program's noise inputs (dropout masks), runs the graph once
// and resets the machine for the next run.
func (p *Program) Run() error {
	for _, n := range p.noise {
		n.fill(p.rng, n.t)
	}
	p.model.running.RLock()
	err := p.runTape()
	p.vm.Reset()
	p.model.running.RUnlock()
	return errors.Wrap(err, "running the graph")
}

// syncTape reports whether runTape can run vm's loop on the caller: vm is
// the tape machine of a build without CUDA, with no batched extern calls
// (no work channel), so that no instruction waits for RunAll's select loop
// to do work for it.
func syncTape(vm G.VM) bool {
	ext, ok := vm.(interface {
		DoWork() error
		WorkAvailable() <-chan bool
	})
	return ok && !G.CUDA && ext.WorkAvailable() == nil && fmt.Sprintf("%T", vm) == "*gorgonia.tapeMachine"
}

// runTape does what the tape machine's RunAll does for a graph of CPU ops
// without batched extern calls, on the calling goroutine: the machine's own
// instruction loop (tapeRunall), then DoWork, which flushes batched cgo
// calls (there are none without the cuda tag or a batched BLAS). RunAll's
// other work runs closures that only a machine binding dual values queues
// (compile binds none). The channels are buffered, so that the loop's one
// send does not block, and each run empties the one it sent on.
func (p *Program) runTape() error {
	if p.tape == nil {
		return p.vm.RunAll()
	}
	tapeRunall(p.tape, p.errc, p.done)
	select {
	case err := <-p.errc:
		return err
	case <-p.done:
	}
	return p.vm.(interface{ DoWork() error }).DoWork()
}

// Loss returns the loss computed by the last Run of an Eval or Training
// program.
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

// Output returns the network's output from the last Run, [Batch, out...].
// It is overwritten by the next Run.
func (p *Program) Output() *tensor.Dense {
	t, _ := p.outputV.(*tensor.Dense)
	return t
}

// Params returns the trainable parameters and their gradients from the last
// Run, for an optimizer. The returned slice is reused by the next call.
func (p *Program) Params() ([]optim.Param, error) {
	if p.Mode != Training {
		return nil, errors.Errorf("an %s program has no gradients", p.Mode)
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
