package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// GELU is x·Φ(x) elementwise, Φ the standard normal distribution function:
// the exact form, PyTorch's nn.GELU default (not its tanh approximation).
// Gorgonia has no erf, so it is an op of its own.
//
//	x: [d0, d1, …] → y: same shape
func GELU(x *G.Node) (*G.Node, error) { return smooth("GELU", elemGELU, elemGELUGrad, x) }

// SiLU is x·σ(x) elementwise (the swish of Ramachandran et al. with β = 1,
// PyTorch's nn.SiLU).
func SiLU(x *G.Node) (*G.Node, error) { return smooth("SiLU", elemSiLU, elemSiLUGrad, x) }

// Softplus is log(1 + eˣ) elementwise, computed as max(x, 0) + log1p(e^−|x|)
// so that it neither overflows for large x nor loses the small values of
// very negative ones.
func Softplus(x *G.Node) (*G.Node, error) {
	return smooth("Softplus", elemSoftplus, elemSoftplusGrad, x)
}

func smooth(name string, fwd, bwd elemKernel, x *G.Node) (*G.Node, error) {
	shape := []int(x.Shape().Clone())
	return apply("ops."+name, x.Dtype(),
		func() G.Op { return newSmoothOp[float32](name, fwd, bwd, shape) },
		func() G.Op { return newSmoothOp[float64](name, fwd, bwd, shape) }, x)
}

// smoothOp is the forward op of GELU, SiLU and Softplus; its backward op
// reads the input x, as ReLU's does.
type smoothOp[T Float] struct {
	elemOp[T]
	name string
	bwd  elemKernel
}

func newSmoothOp[T Float](name string, fwd, bwd elemKernel, shape []int) *smoothOp[T] {
	return &smoothOp[T]{newElemOp[T](fmt.Sprintf("%s %v", name, shape), fwd, shape, "input"), name, bwd}
}

// DiffWRT implements gorgonia.SDOp.
func (op *smoothOp[T]) DiffWRT(int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: dx = dy·f'(x).
func (op *smoothOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	dxOp := newElemOp[T](fmt.Sprintf("%s dx %v", op.name, op.shape), op.bwd, op.shape, "input", "output gradient")
	dx, err := applyGrad(op, "input gradient", &dxOp, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// Each element is computed in float64, whatever T: erf and exp in float32
// would lose digits the gradient check sees, and these activations are not
// where a network spends its time.

func smoothForward[T Float](kernel elemKernel, dst, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = T(smoothValue(kernel, float64(v)))
	}
}

func smoothBackward[T Float](kernel elemKernel, dst, x, dy []T) {
	x, dy = x[:len(dst)], dy[:len(dst)]
	for i, v := range x {
		dst[i] = T(float64(dy[i]) * smoothSlope(kernel, float64(v)))
	}
}

// smoothValue is f(x) of a forward kernel.
func smoothValue(kernel elemKernel, x float64) float64 {
	switch kernel {
	case elemGELU:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case elemSiLU:
		return x * sigmoid(x)
	default: // elemSoftplus
		return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
	}
}

// smoothSlope is f'(x) of a backward kernel:
//
//	GELU:     Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
//	SiLU:     σ(x)·(1 + x·(1 − σ(x)))
//	Softplus: σ(x)
func smoothSlope(kernel elemKernel, x float64) float64 {
	switch kernel {
	case elemGELUGrad:
		return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
	case elemSiLUGrad:
		s := sigmoid(x)
		return s * (1 + x*(1-s))
	default: // elemSoftplusGrad
		return sigmoid(x)
	}
}

// sigmoid is 1/(1 + e^−x), computed without overflow on either side.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

var _ G.SDOp = (*smoothOp[float32])(nil)
