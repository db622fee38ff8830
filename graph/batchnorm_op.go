package graph

import (
	"fmt"
	"hash"
	"math"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bnShapes is a batch norm's configuration and the shapes of its tensors,
// made once so that checking the values at every run allocates nothing. The
// input is seen as [B, C, S]: S = H·W for images, 1 for [B, C] features.
type bnShapes struct {
	name           string
	training       bool
	momentum, eps  float64
	b, c, s        int
	xShape, cShape []int
	parts          int
	wg             sync.WaitGroup
}

func newBNShapes(name string, xShape []int, training bool, momentum, eps float64) bnShapes {
	s := 1
	for _, d := range xShape[2:] {
		s *= d
	}
	return bnShapes{name: name, training: training, momentum: momentum, eps: eps,
		b: xShape[0], c: xShape[1], s: s,
		xShape: append([]int(nil), xShape...), cShape: []int{xShape[1]},
		parts: opParts(xShape[1])}
}

func (p *bnShapes) ReturnsPtr() bool     { return false }
func (p *bnShapes) CallsExtern() bool    { return false }
func (p *bnShapes) OverwritesInput() int { return -1 }

func (p *bnShapes) describe(what string) string {
	mode := "inference"
	if p.training {
		mode = "training"
	}
	return fmt.Sprintf("BatchNorm %s%s %v %s momentum=%v eps=%v", p.name, what, p.xShape, mode, p.momentum, p.eps)
}

// n is the number of values each channel's statistics are taken over.
func (p *bnShapes) n() int { return p.b * p.s }

// at returns where channel c of image b lies in x: [lo, hi).
func (p *bnShapes) at(c, b int) (lo, hi int) {
	lo = (b*p.c + c) * p.s
	return lo, lo + p.s
}

// batchNormOp normalizes each channel (dimension 1) of x, then scales and
// shifts it:
//
//	y = γ·(x − μ)/√(σ² + ε) + β,   x: [B, C] or [B, C, H, W], γ, β: [C]
//
// In training, μ and σ² are the batch's mean and biased variance over every
// axis but the channel, and the running statistics (tensors of the parameter
// store, updated in place) move towards the batch's, with the unbiased
// variance for the running variance, as PyTorch does:
//
//	running = (1 − momentum)·running + momentum·batch
//
// That update is part of the forward run, so it happens once per training
// step. In inference, μ and σ² are the running statistics. The mode is fixed
// when the op is built and is part of its hash; Gorgonia's own BatchNormOp
// switches mode on the shared op and resets its statistics when a machine is
// made (GORGONIA.md items 8 and 12).
type batchNormOp[T opFloat] struct {
	bnShapes
	runMean, runVar []T // the store's running_mean and running_var

	// mean and invStd are this run's statistics, for the backward ops.
	mean, invStd []float64

	x, gamma, beta, yd []T
	y                  *tensor.Dense
}

func newBatchNormOp[T opFloat](name string, xShape []int, training bool, momentum, eps float64, runMean, runVar *tensor.Dense) *batchNormOp[T] {
	op := &batchNormOp[T]{bnShapes: newBNShapes(name, xShape, training, momentum, eps),
		runMean: elems[T](runMean), runVar: elems[T](runVar)}
	op.mean = make([]float64, op.c)
	op.invStd = make([]float64, op.c)
	return op
}

// Arity implements gorgonia.Op.
func (op *batchNormOp[T]) Arity() int { return 3 }

// Type implements gorgonia.Op.
func (op *batchNormOp[T]) Type() hm.Type {
	t, v := opTensorType(len(op.xShape)), opTensorType(1)
	return hm.NewFnType(t, v, v, t)
}

// InferShape implements gorgonia.Op.
func (op *batchNormOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.xShape).Clone(), nil
}

// WriteHash implements gorgonia.Op.
func (op *batchNormOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }

// Hashcode implements gorgonia.Op.
func (op *batchNormOp[T]) Hashcode() uint32 { return opHash(op) }
func (op *batchNormOp[T]) String() string   { return op.describe("") }

// Do implements gorgonia.Op.
func (op *batchNormOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("%v: %d inputs, want 3", op, len(inputs))
	}
	var err error
	if op.x, err = opInput[T](op, inputs[0], "input", op.xShape...); err != nil {
		return nil, err
	}
	if op.gamma, err = opInput[T](op, inputs[1], "weight", op.cShape...); err != nil {
		return nil, err
	}
	if op.beta, err = opInput[T](op, inputs[2], "bias", op.cShape...); err != nil {
		return nil, err
	}
	op.yd = opOutput[T](&op.y, op.xShape...)
	runOpJob(op, op.c, op.parts, &op.wg)
	op.x, op.gamma, op.beta = nil, nil, nil
	return op.y, nil
}

func (op *batchNormOp[T]) runPart(_, lo, hi int) {
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
	if len(inputs) != 3 {
		return nil, errors.Errorf("%v: %d inputs, want 3", op, len(inputs))
	}
	x, gamma := inputs[0], inputs[1]
	g := func() bnShapes { return newBNShapes(op.name, op.xShape, op.training, op.momentum, op.eps) }
	dx, err := G.ApplyOp(&bnInputGradOp[T]{bnShapes: g(), fwd: op}, x, gamma, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: input gradient", op)
	}
	dgamma, err := G.ApplyOp(&bnWeightGradOp[T]{bnShapes: g(), fwd: op}, x, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: weight gradient", op)
	}
	dbeta, err := G.ApplyOp(&bnBiasGradOp[T]{bnShapes: g()}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%v: bias gradient", op)
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
type bnInputGradOp[T opFloat] struct {
	bnShapes
	fwd              *batchNormOp[T]
	x, gamma, dy, dx []T
	out              *tensor.Dense
}

func (op *bnInputGradOp[T]) Arity() int { return 3 }
func (op *bnInputGradOp[T]) Type() hm.Type {
	t := opTensorType(len(op.xShape))
	return hm.NewFnType(t, opTensorType(1), t, t)
}
func (op *bnInputGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.xShape).Clone(), nil
}
func (op *bnInputGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *bnInputGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *bnInputGradOp[T]) String() string        { return op.describe(" dx") }

func (op *bnInputGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("%v: %d inputs, want 3", op, len(inputs))
	}
	var err error
	if op.x, err = opInput[T](op, inputs[0], "input", op.xShape...); err != nil {
		return nil, err
	}
	if op.gamma, err = opInput[T](op, inputs[1], "weight", op.cShape...); err != nil {
		return nil, err
	}
	if op.dy, err = opInput[T](op, inputs[2], "output gradient", op.xShape...); err != nil {
		return nil, err
	}
	op.dx = opOutput[T](&op.out, op.xShape...)
	runOpJob(op, op.c, op.parts, &op.wg)
	op.x, op.gamma, op.dy = nil, nil, nil
	return op.out, nil
}

func (op *bnInputGradOp[T]) runPart(_, lo, hi int) {
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
type bnWeightGradOp[T opFloat] struct {
	bnShapes
	fwd       *batchNormOp[T]
	x, dy, dg []T
	out       *tensor.Dense
}

func (op *bnWeightGradOp[T]) Arity() int { return 2 }
func (op *bnWeightGradOp[T]) Type() hm.Type {
	t := opTensorType(len(op.xShape))
	return hm.NewFnType(t, t, opTensorType(1))
}
func (op *bnWeightGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.cShape).Clone(), nil
}
func (op *bnWeightGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *bnWeightGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *bnWeightGradOp[T]) String() string        { return op.describe(" dweight") }

func (op *bnWeightGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%v: %d inputs, want 2", op, len(inputs))
	}
	var err error
	if op.x, err = opInput[T](op, inputs[0], "input", op.xShape...); err != nil {
		return nil, err
	}
	if op.dy, err = opInput[T](op, inputs[1], "output gradient", op.xShape...); err != nil {
		return nil, err
	}
	op.dg = opOutput[T](&op.out, op.cShape...)
	runOpJob(op, op.c, op.parts, &op.wg)
	op.x, op.dy = nil, nil
	return op.out, nil
}

func (op *bnWeightGradOp[T]) runPart(_, lo, hi int) {
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
type bnBiasGradOp[T opFloat] struct {
	bnShapes
	dy, db []T
	out    *tensor.Dense
}

func (op *bnBiasGradOp[T]) Arity() int { return 1 }
func (op *bnBiasGradOp[T]) Type() hm.Type {
	return hm.NewFnType(opTensorType(len(op.xShape)), opTensorType(1))
}
func (op *bnBiasGradOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.cShape).Clone(), nil
}
func (op *bnBiasGradOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v %v", op, opDtype[T]()) }
func (op *bnBiasGradOp[T]) Hashcode() uint32      { return opHash(op) }
func (op *bnBiasGradOp[T]) String() string        { return op.describe(" dbias") }

func (op *bnBiasGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs, want 1", op, len(inputs))
	}
	var err error
	if op.dy, err = opInput[T](op, inputs[0], "output gradient", op.xShape...); err != nil {
		return nil, err
	}
	op.db = opOutput[T](&op.out, op.cShape...)
	runOpJob(op, op.c, op.parts, &op.wg)
	op.dy = nil
	return op.out, nil
}

func (op *bnBiasGradOp[T]) runPart(_, lo, hi int) {
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
