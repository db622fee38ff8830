package graph

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// BatchNorm normalizes each feature (dimension 1) over the batch, then
// scales and shifts it (Ioffe & Szegedy 2015), as PyTorch's BatchNorm1d for
// [batch, Features] and BatchNorm2d for [batch, Features, H, W]:
//
//	y = weight·(x − μ)/√(σ² + Eps) + bias
//
// A training program uses the batch's mean and biased variance and moves the
// running statistics towards them once per run; an inference program uses
// the running statistics and changes nothing. Its parameters are PyTorch's:
// Name+".weight" (ones) and Name+".bias" (zeros), trainable, and the buffers
// Name+".running_mean" (zeros) and Name+".running_var" (ones), all [Features].
// (PyTorch also saves a num_batches_tracked counter, which only matters
// when its momentum is None.)
type BatchNorm struct {
	Name     string
	Features int
	// Momentum is how far the running statistics move towards each batch's:
	// running = (1 − Momentum)·running + Momentum·batch, with the unbiased
	// variance. If Momentum is zero, 0.1 is used (PyTorch's default).
	Momentum float64
	// Eps is added to the variance. If Eps is zero, 1e-5 is used (PyTorch's
	// default).
	Eps float64
}

func (n BatchNorm) momentum() float64 {
	if n.Momentum == 0 {
		return 0.1
	}
	return n.Momentum
}

func (n BatchNorm) eps() float64 {
	if n.Eps == 0 {
		return 1e-5
	}
	return n.Eps
}

// Params implements Layer.
func (n BatchNorm) Params() []ParamSpec {
	f := []int{n.Features}
	return []ParamSpec{
		{Name: n.Name + ".weight", Shape: f, Init: Constant{V: 1}},
		{Name: n.Name + ".bias", Shape: f, Init: Zeros{}},
		{Name: n.Name + ".running_mean", Shape: f, Init: Zeros{}, Kind: Buffer},
		{Name: n.Name + ".running_var", Shape: f, Init: Constant{V: 1}, Kind: Buffer},
	}
}

// OutShape implements Layer.
func (n BatchNorm) OutShape(in []int) ([]int, error) {
	m, e := n.momentum(), n.eps()
	switch {
	case n.Features < 1:
		return nil, errors.Errorf("batch norm %s: %d features must be positive", n.Name, n.Features)
	case !(m > 0 && m <= 1):
		return nil, errors.Errorf("batch norm %s: momentum %v not in (0, 1]", n.Name, n.Momentum)
	case !(e > 0) || math.IsInf(e, 1):
		return nil, errors.Errorf("batch norm %s: eps %v must be positive", n.Name, n.Eps)
	case (len(in) != 1 && len(in) != 3) || in[0] != n.Features:
		return nil, errors.Errorf("batch norm %s expects input [%d] or [%d, H, W], got %v", n.Name, n.Features, n.Features, in)
	}
	return in, nil
}

// Forward implements Layer.
func (n BatchNorm) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	xs := x.Shape()
	if xs.Dims() < 2 {
		return nil, errors.Errorf("batch norm %s: input %v has no feature dimension", n.Name, xs)
	}
	if _, err := n.OutShape(xs[1:]); err != nil {
		return nil, err
	}
	if per := xs.TotalSize() / xs[1]; b.Training && per < 2 {
		return nil, errors.Errorf("batch norm %s: training needs more than one value per feature, input is %v", n.Name, xs)
	}
	weight, err := b.Param(n.Name + ".weight")
	if err != nil {
		return nil, err
	}
	bias, err := b.Param(n.Name + ".bias")
	if err != nil {
		return nil, err
	}
	mean, variance := b.Params.Get(n.Name+".running_mean"), b.Params.Get(n.Name+".running_var")
	if mean == nil || variance == nil {
		return nil, errors.Errorf("batch norm %s: no running statistics in the store", n.Name)
	}
	if mean.Shape().TotalSize() != n.Features || variance.Shape().TotalSize() != n.Features {
		return nil, errors.Errorf("batch norm %s: running statistics %v and %v, want [%d]", n.Name, mean.Shape(), variance.Shape(), n.Features)
	}
	y, err := ops.BatchNorm(x, weight, bias, ops.BatchNormConfig{Name: n.Name, Training: b.Training,
		Momentum: n.momentum(), Eps: n.eps(), RunningMean: mean, RunningVar: variance})
	return y, errors.Wrapf(err, "batch norm %s", n.Name)
}
