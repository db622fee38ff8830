package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A Layer is a small piece of a network: it declares its parameters, says
// what shape it produces, and adds its nodes to a graph. Shapes exclude the
// batch dimension.
type Layer interface {
	// Params declares the parameters the layer owns (none for most).
	Params() []ParamSpec
	// OutShape returns the shape of one example's output for an input of
	// shape in, or an error saying why the input does not fit.
	OutShape(in []int) ([]int, error)
	// Forward adds the layer's nodes to b's graph. x: [batch, in...].
	Forward(b *Builder, x *G.Node) (*G.Node, error)
}

// Builder carries what a layer needs while it adds nodes to one graph: the
// graph, the parameter store, and whether the graph trains or infers.
type Builder struct {
	G        *G.ExprGraph
	Params   *Params
	Training bool
	Batch    int

	nodes map[string]*G.Node
	noise []noise
	// noiseNames are the names of every node made through the Builder
	// (inputs, parameters, noise inputs, constants), to keep them apart:
	// an input named "y" would otherwise merge with the targets, and one
	// named "fc.weight" with that parameter.
	noiseNames map[string]bool
	// inputs are the nodes made by Input: data, which needs no gradient.
	inputs map[*G.Node]bool
}

// noise is a graph input refilled from the program's rng before each run,
// such as a dropout mask.
type noise struct {
	name string
	t    *tensor.Dense
	fill func(rng *rand.Rand, t *tensor.Dense)
}

// NewBuilder starts a graph over params for batches of the given size.
func NewBuilder(params *Params, batch int, training bool) *Builder {
	return &Builder{G: G.NewGraph(), Params: params, Training: training, Batch: batch,
		nodes: map[string]*G.Node{}, inputs: map[*G.Node]bool{}}
}

// Dtype returns the element type of the graph.
func (b *Builder) Dtype() tensor.Dtype { return b.Params.Dtype() }

// Param returns the node bound to the named parameter's tensor, creating it
// on first use. The node shares memory with the store (WithValue does not
// copy: docs/GORGONIA.md), so updates to the store are seen by this graph.
func (b *Builder) Param(name string) (*G.Node, error) {
	if n, ok := b.nodes[name]; ok {
		return n, nil
	}
	t := b.Params.Get(name)
	if t == nil {
		return nil, errors.Errorf("no parameter %q in the store", name)
	}
	n := G.NewTensor(b.G, b.Dtype(), t.Dims(), G.WithShape(t.Shape()...), G.WithName(b.uniqueName(name)), G.WithValue(t))
	b.nodes[name] = n
	return n, nil
}

// ParamView returns a node bound to the named parameter's memory but seen
// with another shape of the same size: a bias stored as [N] is used as
// [1, N] for broadcasting. The view shares the backing slice.
func (b *Builder) ParamView(name string, shape ...int) (*G.Node, error) {
	if n, ok := b.nodes[name]; ok {
		return n, nil
	}
	t := b.Params.Get(name)
	if t == nil {
		return nil, errors.Errorf("no parameter %q in the store", name)
	}
	if tensor.Shape(shape).TotalSize() != t.Shape().TotalSize() {
		return nil, errors.Errorf("parameter %s: view %v does not fit shape %v", name, shape, t.Shape())
	}
	v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(t.Data()))
	n := G.NewTensor(b.G, b.Dtype(), len(shape), G.WithShape(shape...), G.WithName(b.uniqueName(name)), G.WithValue(v))
	b.nodes[name] = n
	return n, nil
}

// Noise adds an input node that the program refills before every run by
// calling fill with its rng. Dropout masks are made this way so that they
// come from the run's seed (Gorgonia's Dropout is seeded from the clock and
// has a wrong gradient: docs/GORGONIA.md#dropout-is-wrong).
//
// Each call makes a node of its own: a name used before in this graph gets
// a suffix ("drop.mask#2"), since Gorgonia would merge two inputs of one
// name and shape into one (docs/GORGONIA.md#identical-nodes-merge) and two
// dropouts would share a mask.
func (b *Builder) Noise(name string, shape []int, fill func(rng *rand.Rand, t *tensor.Dense)) *G.Node {
	name = b.uniqueName(name)
	t := tensor.New(tensor.Of(b.Dtype()), tensor.WithShape(shape...))
	n := G.NewTensor(b.G, b.Dtype(), len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	b.noise = append(b.noise, noise{name: name, t: t, fill: fill})
	return n
}

// uniqueName returns name, or name#2, name#3, … if the graph has a node of
// that name made through the Builder already
// (docs/GORGONIA.md#identical-nodes-merge).
func (b *Builder) uniqueName(name string) string {
	if b.noiseNames == nil {
		b.noiseNames = map[string]bool{}
	}
	for k, base := 2, name; b.noiseNames[name]; k++ {
		name = fmt.Sprintf("%s#%d", base, k)
	}
	b.noiseNames[name] = true
	return name
}

// Const adds a node bound to t that no run changes and no gradient is taken
// for: a constant tensor of the graph (Gorgonia's broadcasting ops want
// their operands in the graph, which G.NewConstant's nodes are not). t must
// hold the graph's element type.
func (b *Builder) Const(name string, t *tensor.Dense) *G.Node {
	return G.NewTensor(b.G, t.Dtype(), t.Dims(), G.WithShape(t.Shape()...), G.WithName(b.uniqueName(name)), G.WithValue(t))
}

// ParamNodes returns the nodes of the trainable parameters used by the graph,
// in the store's declaration order.
func (b *Builder) ParamNodes() (names []string, nodes []*G.Node) {
	for _, name := range b.Params.Trainable() {
		if n, ok := b.nodes[name]; ok {
			names = append(names, name)
			nodes = append(nodes, n)
		}
	}
	return names, nodes
}

// Input adds an input node of shape [Batch, shape...] bound to a new tensor
// that the caller fills in place before each run.
func (b *Builder) Input(name string, shape []int) (*G.Node, *tensor.Dense) {
	full := append([]int{b.Batch}, shape...)
	t := tensor.New(tensor.Of(b.Dtype()), tensor.WithShape(full...))
	n := G.NewTensor(b.G, b.Dtype(), len(full), G.WithShape(full...), G.WithName(b.uniqueName(name)), G.WithValue(t))
	b.inputs[n] = true
	return n, t
}

// IsInput reports whether n is a data input made by Input. Gorgonia runs
// every node of the backward graph, wanted or not, so an op applied to an
// input should not build the gradient with respect to it: for the first
// Dense layer of an MLP that gradient is a fifth of all the GEMM work.
func (b *Builder) IsInput(n *G.Node) bool { return b.inputs[n] }

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Scalar returns a constant of the graph's element type, for arithmetic with
// nodes: Gorgonia refuses to mix float32 and float64 operands.
func (b *Builder) Scalar(v float64) *G.Node {
	if b.Dtype() == Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// AddBias returns x plus the named parameter, a vector of x's dimension 1
// (the features of [batch, F] or the channels of [batch, C, H, W]),
// broadcast over the other dimensions. Gorgonia broadcasts only between
// operands of equal rank (docs/GORGONIA.md#broadcasting-needs-equal-rank),
// so the parameter is bound as [1, F] or [1, C, 1, 1], without a copy.
func (b *Builder) AddBias(x *G.Node, name string) (*G.Node, error) {
	v, pattern, err := b.featureView(x, name)
	if err != nil {
		return nil, err
	}
	y, err := G.BroadcastAdd(x, v, nil, pattern)
	return y, errors.Wrapf(err, "adding %s", name)
}

// Scale returns x times the named parameter, broadcast as in AddBias.
func (b *Builder) Scale(x *G.Node, name string) (*G.Node, error) {
	v, pattern, err := b.featureView(x, name)
	if err != nil {
		return nil, err
	}
	y, err := G.BroadcastHadamardProd(x, v, nil, pattern)
	return y, errors.Wrapf(err, "scaling by %s", name)
}

// featureView binds the named [F] parameter with x's rank, F on dimension 1
// and 1 elsewhere, and returns the axes along which it is broadcast.
func (b *Builder) featureView(x *G.Node, name string) (*G.Node, []byte, error) {
	s := x.Shape()
	if s.Dims() < 2 {
		return nil, nil, errors.Errorf("%s: input %v has no feature dimension", name, s)
	}
	view := make([]int, s.Dims())
	var pattern []byte
	for i := range view {
		view[i] = 1
		if i != 1 {
			pattern = append(pattern, byte(i))
		}
	}
	view[1] = s[1]
	v, err := b.ParamView(name, view...)
	return v, pattern, err
}
