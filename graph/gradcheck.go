package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradCheckResult reports the largest disagreement between symbolic and
// finite-difference gradients.
type GradCheckResult struct {
	// MaxRelErr is max |a−n| / max(1, |a|, |n|) over every element checked:
	// an absolute error for small gradients, a relative one for large.
	MaxRelErr float64
	// Worst names the tensor and element where MaxRelErr was found.
	Worst string
	// Checked is the number of elements compared.
	Checked int
}

// GradCheck compares the symbolic gradients of a scalar with central finite
// differences, (f(x+h) − f(x−h)) / 2h with h = 1e-6, for every element of
// every tensor in wrt. The tensors must be float64. build adds the graph to g
// given nodes bound to wrt (in order) and returns the scalar; it may add
// other nodes of its own.
func GradCheck(wrt []*tensor.Dense, names []string, build func(g *G.ExprGraph, in []*G.Node) (*G.Node, error)) (GradCheckResult, error) {
	var res GradCheckResult
	if len(names) != len(wrt) {
		return res, errors.New("gradcheck: one name per tensor")
	}
	g := G.NewGraph()
	nodes := make([]*G.Node, len(wrt))
	for i, t := range wrt {
		if t.Dtype() != tensor.Float64 {
			return res, errors.Errorf("gradcheck: %s is %v, want float64", names[i], t.Dtype())
		}
		nodes[i] = G.NewTensor(g, tensor.Float64, t.Dims(), G.WithShape(t.Shape()...), G.WithName(names[i]), G.WithValue(t))
	}
	cost, err := build(g, nodes)
	if err != nil {
		return res, err
	}
	return checkGraph(g, cost, nodes, names)
}

// checkGraph compares the gradients of cost with respect to nodes, which
// must be bound to float64 tensors, with central differences.
func checkGraph(g *G.ExprGraph, cost *G.Node, nodes []*G.Node, names []string) (GradCheckResult, error) {
	var res GradCheckResult
	if !cost.IsScalar() {
		return res, errors.Errorf("gradcheck: cost has shape %v, want a scalar", cost.Shape())
	}
	var cv G.Value
	G.Read(cost, &cv)
	if _, err := G.Grad(cost, nodes...); err != nil {
		return res, errors.Wrap(err, "gradcheck: differentiating")
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(nodes...))
	dropFinalizer(vm)
	defer vm.Close()
	run := func() (float64, error) {
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		vm.Reset()
		return scalarOf(cv)
	}
	if _, err := run(); err != nil {
		return res, errors.Wrap(err, "gradcheck: running")
	}
	// Copy the symbolic gradients before the finite-difference runs add
	// to them (Gorgonia accumulates:
	// docs/GORGONIA.md#gradients-accumulate-across-runs).
	sym := make([][]float64, len(nodes))
	for i, n := range nodes {
		gv, err := n.Grad()
		if err != nil {
			return res, errors.Wrapf(err, "gradcheck: gradient of %s", names[i])
		}
		sym[i] = append([]float64(nil), gv.Data().([]float64)...)
	}
	const h = 1e-6
	for i, n := range nodes {
		data := n.Value().Data().([]float64)
		for j := range data {
			orig := data[j]
			data[j] = orig + h
			fp, err := run()
			if err != nil {
				return res, err
			}
			data[j] = orig - h
			fm, err := run()
			if err != nil {
				return res, err
			}
			data[j] = orig
			num := (fp - fm) / (2 * h)
			a := sym[i][j]
			e := math.Abs(a-num) / math.Max(1, math.Max(math.Abs(a), math.Abs(num)))
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			res.Checked++
			if e > res.MaxRelErr || res.Worst == "" {
				res.MaxRelErr = e
				res.Worst = fmt.Sprintf("%s[%d]: symbolic %.9g, numeric %.9g", names[i], j, a, num)
			}
		}
	}
	return res, nil
}

// CheckLayer runs GradCheck on a layer in float64: random input of shape
// [batch, inShape...] and random parameters from rng, cost Σ out ⊙ R for a
// fixed random R (so that every output element gets its own weight), with
// the gradients taken with respect to the input and every trainable
// parameter. With training set, noise inputs (dropout masks) are drawn once
// and held fixed.
func CheckLayer(l Layer, inShape []int, batch int, training bool, rng *rand.Rand) (GradCheckResult, error) {
	return checkLayer(l.Params(), [][]int{inShape}, batch, training, rng, func(b *Builder, xs []*G.Node) (*G.Node, error) {
		return l.Forward(b, xs[0])
	})
}

// CheckLayerN is CheckLayer for a layer of several inputs (a Merge), with
// the gradients taken with respect to every input.
func CheckLayerN(l MultiLayer, inShapes [][]int, batch int, training bool, rng *rand.Rand) (GradCheckResult, error) {
	return checkLayer(l.Params(), inShapes, batch, training, rng, l.ForwardN)
}

func checkLayer(specs []ParamSpec, inShapes [][]int, batch int, training bool, rng *rand.Rand,
	forward func(b *Builder, xs []*G.Node) (*G.Node, error)) (GradCheckResult, error) {
	params := NewParams(tensor.Float64)
	for _, spec := range specs {
		t, err := params.Add(spec, rng)
		if err != nil {
			return GradCheckResult{}, err
		}
		// Random values even where the layer starts at zeros or ones,
		// so that biases and scales are checked away from special points.
		if spec.Kind == Trainable {
			_ = Uniform{Low: -1, High: 1}.Fill(rng, t, 0, 0)
		}
	}
	b := NewBuilder(params, batch, training)
	var xs []*G.Node
	var names []string
	for k, shape := range inShapes {
		x := tensor.New(tensor.WithShape(append([]int{batch}, shape...)...), tensor.Of(tensor.Float64))
		_ = Uniform{Low: -1, High: 1}.Fill(rng, x, 0, 0)
		name := "input"
		if len(inShapes) > 1 {
			name = fmt.Sprintf("input%d", k)
		}
		xs = append(xs, G.NewTensor(b.G, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithName(name), G.WithValue(x)))
		names = append(names, name)
	}
	out, err := forward(b, xs)
	if err != nil {
		return GradCheckResult{}, err
	}
	r := tensor.New(tensor.WithShape(out.Shape()...), tensor.Of(tensor.Float64))
	_ = Uniform{Low: -1, High: 1}.Fill(rng, r, 0, 0)
	rn := G.NewTensor(b.G, tensor.Float64, r.Dims(), G.WithShape(r.Shape()...), G.WithName("gradcheck.R"), G.WithValue(r))
	for _, nz := range b.noise {
		nz.fill(rng, nz.t)
	}
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		return GradCheckResult{}, err
	}
	cost, err := G.Sum(prod)
	if err != nil {
		return GradCheckResult{}, err
	}
	pnames, pnodes := b.ParamNodes()
	return checkGraph(b.G, cost, append(xs, pnodes...), append(names, pnames...))
}

func scalarOf(v G.Value) (float64, error) {
	switch x := v.(type) {
	case *G.F64:
		return float64(*x), nil
	case *G.F32:
		return float64(*x), nil
	case tensor.Tensor:
		switch d := x.Data().(type) {
		case float64:
			return d, nil
		case []float64:
			return d[0], nil
		case float32:
			return float64(d), nil
		}
	}
	return 0, errors.Errorf("value %v is not a scalar", v)
}
