package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNormConfig configures BatchNorm.
type BatchNormConfig struct {
	// Name tells apart, in the op's hash, batch norms of the same shape
	// (docs/GORGONIA.md#identical-nodes-merge).
	Name string
	// Training selects the batch's statistics, and moves the running ones
	// towards them at every run; otherwise the running statistics are used
	// and left alone.
	Training bool
	// Momentum, in (0, 1], is how far the running statistics move towards
	// each batch's: running = (1 − Momentum)·running + Momentum·batch.
	Momentum float64
	// Eps, positive, is added to the variance.
	Eps float64
	// RunningMean and RunningVar are the running statistics, C elements of
	// the input's dtype each, read and (in training) updated in place.
	RunningMean, RunningVar *tensor.Dense
}

// BatchNorm normalizes each channel (dimension 1) of x, then scales and
// shifts it (Ioffe & Szegedy 2015):
//
//	y = weight·(x − μ)/√(σ² + Eps) + bias,   x: [B, C] or [B, C, H, W], weight, bias: [C]
//
// In training, μ and σ² are the batch's mean and biased variance over every
// axis but the channel, and the running statistics move towards the
// batch's, with the unbiased variance for the running variance, as PyTorch
// does. That update is part of the forward run, so it happens once per
// training step. In inference, μ and σ² are the running statistics. The
// mode is fixed when the op is built and is part of its hash; Gorgonia's
// own BatchNormOp switches mode on the shared op and resets its statistics
// when a machine is made
// (docs/GORGONIA.md#train-and-eval-mode-live-on-the-shared-op), and gives
// its scale and bias the whole input's shape
// (docs/GORGONIA.md#batchnorms-default-scale-and-bias-have-the-full-input-shape).
// The channels are split over the workers of internal/pool.
func BatchNorm(x, weight, bias *G.Node, cfg BatchNormConfig) (*G.Node, error) {
	s, err := newBNShapes(x, cfg)
	if err != nil {
		return nil, errors.Wrapf(err, "ops.BatchNorm %s", cfg.Name)
	}
	for _, n := range []*G.Node{weight, bias} {
		if !hasShape(n, s.cShape) {
			return nil, errors.Errorf("ops.BatchNorm %s: %s has shape %v, want %v", cfg.Name, n.Name(), n.Shape(), s.cShape)
		}
	}
	return apply("ops.BatchNorm", x.Dtype(),
		func() G.Op { return newBatchNormOp[float32](s, cfg) }, func() G.Op { return newBatchNormOp[float64](s, cfg) },
		x, weight, bias)
}

// bnShapes is a batch norm's configuration and the shapes of its tensors,
// made once so that checking the values at every run allocates nothing. The
// input is seen as [B, C, S]: S = H·W for images, 1 for [B, C] features.
type bnShapes struct {
	name           string
	training       bool
	momentum, eps  float64
	b, c, s        int
	xShape, cShape []int
}

func newBNShapes(x *G.Node, cfg BatchNormConfig) (bnShapes, error) {
	xs := x.Shape()
	if xs.Dims() < 2 {
		return bnShapes{}, errors.Errorf("input %v has no channel dimension", xs)
	}
	s := bnShapes{name: cfg.Name, training: cfg.Training, momentum: cfg.Momentum, eps: cfg.Eps,
		b: xs[0], c: xs[1], s: 1, xShape: []int(xs.Clone()), cShape: []int{xs[1]}}
	for _, d := range xs[2:] {
		s.s *= d
	}
	switch {
	case !(s.momentum > 0 && s.momentum <= 1):
		return s, errors.Errorf("momentum %v not in (0, 1]", s.momentum)
	case !(s.eps > 0) || math.IsInf(s.eps, 1):
		return s, errors.Errorf("eps %v must be positive and finite", s.eps)
	case s.training && s.n() < 2:
		return s, errors.Errorf("training needs more than one value per channel, input is %v", xs)
	}
	for _, t := range []*tensor.Dense{cfg.RunningMean, cfg.RunningVar} {
		if t == nil || t.Dtype() != x.Dtype() || t.Shape().TotalSize() != s.c || t.RequiresIterator() {
			return s, errors.Errorf("running statistics must be contiguous %v tensors of %d elements", x.Dtype(), s.c)
		}
	}
	return s, nil
}

// base returns the Base of the forward op (what "") or of one of its
// backward ops.
func (p *bnShapes) base(what string, dt tensor.Dtype, out []int, inRanks ...int) Base {
	mode := "inference"
	if p.training {
		mode = "training"
	}
	desc := fmt.Sprintf("BatchNorm %s%s %v %s momentum=%v eps=%v", p.name, what, p.xShape, mode, p.momentum, p.eps)
	return NewBase(desc, dt, out, inRanks...)
}

// n is the number of values each channel's statistics are taken over.
func (p *bnShapes) n() int { return p.b * p.s }

// at returns where channel c of image b lies in x: [lo, hi).
func (p *bnShapes) at(c, b int) (lo, hi int) {
	lo = (b*p.c + c) * p.s
	return lo, lo + p.s
}

// bnOp is what a batch norm op and its backward ops share: the shapes and
// the split of the channels over the workers.
type bnOp struct {
	Base
	bnShapes
	par split
}

// init sets up the op what of s, of output shape out.
func (op *bnOp) init(s bnShapes, what string, dt tensor.Dtype, out []int, inRanks ...int) {
	op.Base, op.bnShapes = s.base(what, dt, out, inRanks...), s
	op.par.init(s.c, 1)
}

// batchNormOp is the forward op of BatchNorm.
type batchNormOp[T Float] struct {
	bnOp
	runMean, runVar []T // the running statistics' elements

	// mean and invStd are this run's statistics, for the backward ops.
	mean, invStd []float64

	x, gamma, beta, yd []T
	y                  *tensor.Dense
}

func newBatchNormOp[T Float](s bnShapes, cfg BatchNormConfig) *batchNormOp[T] {
	op := &batchNormOp[T]{runMean: elems[T](cfg.RunningMean), runVar: elems[T](cfg.RunningVar),
		mean: make([]float64, s.c), invStd: make([]float64, s.c)}
	r := len(s.xShape)
	op.init(s, "", dtypeOf[T](), s.xShape, r, 1, 1)
	return op
}

// Do implements gorgonia.Op.
func (op *batchNormOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	return doParts(op, &op.par, op, inputs, &op.y, &op.yd, op.xShape,
		input(&op.x, "input", op.xShape), input(&op.gamma, "weight", op.cShape), input(&op.beta, "bias", op.cShape))
}

// RunPart implements pool.Job: the channels of part k.
func (op *batchNormOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	n := float64(op.n())
	for c := lo; c < hi; c++ {
		var mean, variance float64
		if op.training {
			for b := 0; b < op.b; b++ {
				i, j := op.at(c, b)
				for _, v := range op.x[i:j] {
					mean += float64(v)
				}
			}
			mean /= n
			// Two passes: Σ(x − μ)² does not cancel as Σx² − nμ² does.
			for b := 0; b < op.b; b++ {
				i, j := op.at(c, b)
				for _, v := range op.x[i:j] {
					d := float64(v) - mean
					variance += d * d
				}
			}
			variance /= n
			m := op.momentum
			op.runMean[c] = T((1-m)*float64(op.runMean[c]) + m*mean)
			op.runVar[c] = T((1-m)*float64(op.runVar[c]) + m*variance*n/(n-1))
		} else {
			mean, variance = float64(op.runMean[c]), float64(op.runVar[c])
		}
		inv := 1 / math.Sqrt(variance+op.eps)
		op.mean[c], op.invStd[c] = mean, inv
		scale := float64(op.gamma[c]) * inv
		shift := float64(op.beta[c]) - mean*scale
		for b := 0; b < op.b; b++ {
			i, j := op.at(c, b)
			y := op.yd[i:j]
			for k, v := range op.x[i:j] {
				y[k] = T(float64(v)*scale + shift)
			}
		}
	}
}

// DiffWRT implements gorgonia.SDOp.
func (op *batchNormOp[T]) DiffWRT(int) []bool { return []bool{true, true, true} }

// SymDiff implements gorgonia.SDOp: dx from (x, γ, dy), dγ from (x, dy), dβ
// from dy. The backward ops read this op's mean and 1/σ of the same run,
// which are current because dy depends on this op's output.
func (op *batchNormOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	x, gamma := inputs[0], inputs[1]
	dt, r := dtypeOf[T](), len(op.xShape)
	dxOp := &bnInputGradOp[T]{fwd: op}
	dxOp.init(op.bnShapes, " dx", dt, op.xShape, r, 1, r)
	dx, err := applyGrad(op, "input gradient", dxOp, x, gamma, grad)
	if err != nil {
		return nil, err
	}
	dgOp := &bnWeightGradOp[T]{fwd: op}
	dgOp.init(op.bnShapes, " dweight", dt, op.cShape, r, r)
	dgamma, err := applyGrad(op, "weight gradient", dgOp, x, grad)
	if err != nil {
		return nil, err
	}
	dbOp := new(bnBiasGradOp[T])
	dbOp.init(op.bnShapes, " dbias", dt, op.cShape, r)
	dbeta, err := applyGrad(op, "bias gradient", dbOp, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dgamma, dbeta}, nil
}

// bnInputGradOp is the gradient with respect to x. With x̂ = (x − μ)/σ and
// sums over a channel's N values, in training (μ and σ depend on x):
//
//	dx = γ/σ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N)
//
// and in inference (μ and σ are constants) dx = γ/σ · dy (Ioffe & Szegedy
// 2015, section 3).
//
//	x: [B, C, …], γ: [C], dy: [B, C, …] → dx: [B, C, …]
type bnInputGradOp[T Float] struct {
	bnOp
	fwd              *batchNormOp[T]
	x, gamma, dy, dx []T
	out              *tensor.Dense
}

func (op *bnInputGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	return doParts(op, &op.par, op, inputs, &op.out, &op.dx, op.xShape,
		input(&op.x, "input", op.xShape), input(&op.gamma, "weight", op.cShape), input(&op.dy, "output gradient", op.xShape))
}

// RunPart implements pool.Job: the channels of part k.
func (op *bnInputGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	n := float64(op.n())
	for c := lo; c < hi; c++ {
		mean, inv := op.fwd.mean[c], op.fwd.invStd[c]
		scale := float64(op.gamma[c]) * inv
		if !op.training {
			for b := 0; b < op.b; b++ {
				i, j := op.at(c, b)
				dx := op.dx[i:j]
				for k, d := range op.dy[i:j] {
					dx[k] = T(float64(d) * scale)
				}
			}
			continue
		}
		var sdy, sdyx float64
		for b := 0; b < op.b; b++ {
			i, j := op.at(c, b)
			x := op.x[i:j]
			for k, d := range op.dy[i:j] {
				sdy += float64(d)
				sdyx += float64(d) * (float64(x[k]) - mean) * inv
			}
		}
		sdy /= n
		sdyx /= n
		for b := 0; b < op.b; b++ {
			i, j := op.at(c, b)
			x, dx := op.x[i:j], op.dx[i:j]
			for k, d := range op.dy[i:j] {
				xh := (float64(x[k]) - mean) * inv
				dx[k] = T(scale * (float64(d) - sdy - xh*sdyx))
			}
		}
	}
}

// bnWeightGradOp is dγ = Σ dy·x̂ over each channel.
//
//	x: [B, C, …], dy: [B, C, …] → dγ: [C]
type bnWeightGradOp[T Float] struct {
	bnOp
	fwd       *batchNormOp[T]
	x, dy, dg []T
	out       *tensor.Dense
}

func (op *bnWeightGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	return doParts(op, &op.par, op, inputs, &op.out, &op.dg, op.cShape,
		input(&op.x, "input", op.xShape), input(&op.dy, "output gradient", op.xShape))
}

// RunPart implements pool.Job: the channels of part k.
func (op *bnWeightGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	for c := lo; c < hi; c++ {
		mean, inv := op.fwd.mean[c], op.fwd.invStd[c]
		var s float64
		for b := 0; b < op.b; b++ {
			i, j := op.at(c, b)
			x := op.x[i:j]
			for k, d := range op.dy[i:j] {
				s += float64(d) * (float64(x[k]) - mean) * inv
			}
		}
		op.dg[c] = T(s)
	}
}

// bnBiasGradOp is dβ = Σ dy over each channel.
//
//	dy: [B, C, …] → dβ: [C]
type bnBiasGradOp[T Float] struct {
	bnOp
	dy, db []T
	out    *tensor.Dense
}

func (op *bnBiasGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	return doParts(op, &op.par, op, inputs, &op.out, &op.db, op.cShape, input(&op.dy, "output gradient", op.xShape))
}

// RunPart implements pool.Job: the channels of part k.
func (op *bnBiasGradOp[T]) RunPart(k int) {
	lo, hi := op.par.part(k)
	for c := lo; c < hi; c++ {
		var s float64
		for b := 0; b < op.b; b++ {
			i, j := op.at(c, b)
			for _, d := range op.dy[i:j] {
				s += float64(d)
			}
		}
		op.db[c] = T(s)
	}
}

var (
	_ G.SDOp = (*batchNormOp[float32])(nil)
	_ G.Op   = (*bnInputGradOp[float32])(nil)
	_ G.Op   = (*bnWeightGradOp[float64])(nil)
	_ G.Op   = (*bnBiasGradOp[float64])(nil)
)
