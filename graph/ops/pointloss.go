package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PointLossConfig selects a loss that is the mean over every element of a
// function of one output x and its target y.
type PointLossConfig struct {
	// Kind is one of:
	//
	//	"mse"      (x − y)²
	//	"mae"      |x − y|
	//	"huber"    ½(x − y)² where |x − y| ≤ Delta, else Delta·(|x − y| − ½Delta)
	//	"sigmoid"  the cross-entropy of sigmoid(x) against y: max(x, 0) − x·y + log1p(e^−|x|)
	//
	// each as PyTorch's MSELoss, L1Loss, HuberLoss and BCEWithLogitsLoss
	// with reduction "mean". The sigmoid form never takes the log of a
	// probability, so logits of ±1000 give a finite loss and gradient.
	Kind string
	// Delta is Huber's threshold, > 0; unused by the others (must be 0).
	Delta float64
}

// PointLoss is the mean over every element of the loss cfg names, as one
// op: one pass forward, one backward, sums in float64. Its gradient with
// respect to x is, before the 1/N of the mean:
//
//	mse: 2(x − y)   mae: sign(x − y) (0 at 0)   huber: x − y clipped to ±Delta
//	sigmoid: σ(x) − y
//
// The targets are data and get no gradient.
//
//	x, y: [d0, d1, …] → scalar
func PointLoss(x, y *G.Node, cfg PointLossConfig) (*G.Node, error) {
	switch {
	case cfg.Kind != "mse" && cfg.Kind != "mae" && cfg.Kind != "huber" && cfg.Kind != "sigmoid":
		return nil, errors.Errorf("ops.PointLoss: kind %.20q, want mse, mae, huber or sigmoid", cfg.Kind)
	case cfg.Kind == "huber" && !(cfg.Delta > 0 && !math.IsInf(cfg.Delta, 1)):
		return nil, errors.Errorf("ops.PointLoss: huber delta %v must be a positive number", cfg.Delta)
	case cfg.Kind != "huber" && cfg.Delta != 0:
		return nil, errors.Errorf("ops.PointLoss: %s does not use delta (got %v)", cfg.Kind, cfg.Delta)
	case !hasShape(y, x.Shape()):
		return nil, errors.Errorf("ops.PointLoss: outputs %v and targets %v differ in shape", x.Shape(), y.Shape())
	}
	shape := []int(x.Shape().Clone())
	return apply("ops.PointLoss", x.Dtype(),
		func() G.Op { return newPointLossOp[float32](cfg, shape) },
		func() G.Op { return newPointLossOp[float64](cfg, shape) }, x, y)
}

// pointLossOp is the forward op of PointLoss.
type pointLossOp[T Float] struct {
	Base
	cfg   PointLossConfig
	shape []int
	x, y  []T // the inputs of the Do under way
	f32   G.F32
	f64   G.F64
}

func newPointLossOp[T Float](cfg PointLossConfig, shape []int) *pointLossOp[T] {
	rank := len(shape)
	return &pointLossOp[T]{Base: NewBase(pointLossDesc(cfg, shape, ""), dtypeOf[T](), nil, rank, rank), cfg: cfg, shape: shape}
}

func pointLossDesc(cfg PointLossConfig, shape []int, what string) string {
	return fmt.Sprintf("PointLoss %s delta=%v%s %v", cfg.Kind, cfg.Delta, what, shape)
}

// Do implements gorgonia.Op. The scalar it returns is the op's own.
func (op *pointLossOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if err := readInputs(op, inputs, input(&op.x, "outputs", op.shape), input(&op.y, "targets", op.shape)); err != nil {
		return nil, err
	}
	x, y := op.x, op.y
	op.x, op.y = nil, nil
	total := 0.0
	for i, v := range x {
		total += pointValue(op.cfg, float64(v), float64(y[i]))
	}
	loss := total / float64(len(x))
	if dtypeOf[T]() == tensor.Float32 {
		op.f32 = G.F32(loss)
		return &op.f32, nil
	}
	op.f64 = G.F64(loss)
	return &op.f64, nil
}

// pointValue is one element's loss.
func pointValue(cfg PointLossConfig, x, y float64) float64 {
	d := x - y
	switch cfg.Kind {
	case "mse":
		return d * d
	case "mae":
		return math.Abs(d)
	case "huber":
		if a := math.Abs(d); a > cfg.Delta {
			return cfg.Delta * (a - cfg.Delta/2)
		}
		return d * d / 2
	}
	return math.Max(x, 0) - x*y + math.Log1p(math.Exp(-math.Abs(x)))
}

// pointSlope is one element's ∂loss/∂x.
func pointSlope(cfg PointLossConfig, x, y float64) float64 {
	d := x - y
	switch cfg.Kind {
	case "mse":
		return 2 * d
	case "mae":
		switch {
		case d > 0:
			return 1
		case d < 0:
			return -1
		}
		return 0
	case "huber":
		return math.Max(-cfg.Delta, math.Min(cfg.Delta, d))
	}
	return sigmoid(x) - y
}

// DiffWRT implements gorgonia.SDOp: the targets are not differentiated.
func (op *pointLossOp[T]) DiffWRT(int) []bool { return []bool{true, false} }

// SymDiff implements gorgonia.SDOp.
func (op *pointLossOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	rank := len(op.shape)
	dxOp := &pointLossGradOp[T]{Base: NewBase(pointLossDesc(op.cfg, op.shape, " dx"), dtypeOf[T](), op.shape, rank, rank, 0),
		cfg: op.cfg, shape: op.shape}
	dx, err := applyGrad(op, "outputs gradient", dxOp, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}

// pointLossGradOp computes g/N · ∂loss/∂x for each element.
//
//	x, y: [d0, d1, …], g: scalar → dx: same shape
type pointLossGradOp[T Float] struct {
	Base
	cfg   PointLossConfig
	shape []int
	x, y  []T
	dx    *tensor.Dense
}

func (op *pointLossGradOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	if err := readInputs(op, inputs, input(&op.x, "outputs", op.shape), input(&op.y, "targets", op.shape)); err != nil {
		return nil, err
	}
	x, y := op.x, op.y
	op.x, op.y = nil, nil
	g, err := scalarInput[float64](op, inputs[2], "loss gradient")
	if err != nil {
		return nil, err
	}
	d := Output[T](&op.dx, op.shape...)
	scale := g / float64(len(x))
	for i, v := range x {
		d[i] = T(scale * pointSlope(op.cfg, float64(v), float64(y[i])))
	}
	return op.dx, nil
}

var (
	_ G.SDOp = (*pointLossOp[float32])(nil)
	_ G.Op   = (*pointLossGradOp[float64])(nil)
)
