package graph

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalizes each example over its features, then scales and
// shifts each feature (Ba et al. 2016), as PyTorch's nn.LayerNorm over the
// last dimension:
//
//	y = weight·(x − μ)/√(σ² + Eps) + bias,  μ, σ² the mean and biased variance of the example's features
//	x: [batch, Features] → y: same shape
//
// Unlike BatchNorm it uses no batch statistics, so training and inference
// compute the same function. Its parameters are PyTorch's: Name+".weight"
// (ones) and Name+".bias" (zeros), [Features].
//
// It is built from Gorgonia's elementary ops, with Builder.Scale and
// Builder.AddBias for the per-feature parameters: an example of writing a
// layer from Gorgonia nodes (docs/GORGONIA.md#broadcasting-needs-equal-rank
// is why the reductions are reshaped to [batch, 1] before they broadcast).
type LayerNorm struct {
	Name     string
	Features int
	// Eps is added to the variance. If Eps is zero, 1e-5 is used (PyTorch's
	// default).
	Eps float64
}

func (n LayerNorm) eps() float64 {
	if n.Eps == 0 {
		return 1e-5
	}
	return n.Eps
}

// Params implements Layer.
func (n LayerNorm) Params() []ParamSpec {
	f := []int{n.Features}
	return []ParamSpec{
		{Name: n.Name + ".weight", Shape: f, Init: Constant{V: 1}},
		{Name: n.Name + ".bias", Shape: f, Init: Zeros{}},
	}
}

// OutShape implements Layer.
func (n LayerNorm) OutShape(in []int) ([]int, error) {
	switch e := n.eps(); {
	case n.Features < 1:
		return nil, errors.Errorf("layer norm %s: %d features must be positive", n.Name, n.Features)
	case !(e > 0) || math.IsInf(e, 1):
		return nil, errors.Errorf("layer norm %s: eps %v must be positive", n.Name, n.Eps)
	case len(in) != 1 || in[0] != n.Features:
		return nil, errors.Errorf("layer norm %s expects input [%d], got %v", n.Name, n.Features, in)
	}
	return in, nil
}

// Forward implements Layer.
func (n LayerNorm) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 2 {
		return nil, errors.Errorf("layer norm %s: input %v is not [batch, features]", n.Name, s)
	}
	if _, err := n.OutShape(s[1:]); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return errors.Wrapf(err, "layer norm %s", n.Name) }
	col := tensor.Shape{s[0], 1}
	mean, err := rowMean(x, col)
	if err != nil {
		return nil, wrap(err)
	}
	centred, err := G.BroadcastSub(x, mean, nil, []byte{1})
	if err != nil {
		return nil, wrap(err)
	}
	sq, err := G.Square(centred)
	if err != nil {
		return nil, wrap(err)
	}
	variance, err := rowMean(sq, col)
	if err != nil {
		return nil, wrap(err)
	}
	std, err := G.Add(variance, b.Scalar(n.eps()))
	if err == nil {
		std, err = G.Sqrt(std)
	}
	if err != nil {
		return nil, wrap(err)
	}
	norm, err := G.BroadcastHadamardDiv(centred, std, nil, []byte{1})
	if err != nil {
		return nil, wrap(err)
	}
	if norm, err = b.Scale(norm, n.Name+".weight"); err != nil {
		return nil, wrap(err)
	}
	y, err := b.AddBias(norm, n.Name+".bias")
	return y, wrap(err)
}

// rowMean returns the mean of each row of a [batch, n] node, as [batch, 1].
func rowMean(x *G.Node, col tensor.Shape) (*G.Node, error) {
	m, err := G.Mean(x, 1)
	if err != nil {
		return nil, err
	}
	return G.Reshape(m, col)
}
