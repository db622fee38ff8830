package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// MaxPool2D takes the maximum of each Kernel window of each channel:
//
//	x: [batch, C, H, W] → y: [batch, C, H', W'],  H' = (H + 2·Pad[0] − Kernel[0])/Stride[0] + 1
//
// Padding never wins (it counts as −∞), as in PyTorch's nn.MaxPool2d, and
// may be at most half the kernel. The gradient goes to the maximum of each
// window.
type MaxPool2D struct {
	Kernel [2]int
	// Stride is the step between windows. If Stride is zero, Kernel is used
	// (windows do not overlap), as in PyTorch.
	Stride [2]int
	// Pad is the padding on each side of the height and width.
	Pad [2]int
}

// AvgPool2D averages each Kernel window of each channel, padded zeros
// included: the divisor is always Kernel[0]·Kernel[1], PyTorch's default
// (count_include_pad=True). Shapes and fields are as for MaxPool2D.
type AvgPool2D struct {
	Kernel, Stride, Pad [2]int
}

// Params implements Layer.
func (MaxPool2D) Params() []ParamSpec { return nil }

// Params implements Layer.
func (AvgPool2D) Params() []ParamSpec { return nil }

// OutShape implements Layer.
func (p MaxPool2D) OutShape(in []int) ([]int, error) {
	return poolOutShape("max pool", p.Kernel, p.Stride, p.Pad, in)
}

// OutShape implements Layer.
func (p AvgPool2D) OutShape(in []int) ([]int, error) {
	return poolOutShape("avg pool", p.Kernel, p.Stride, p.Pad, in)
}

// Forward implements Layer. The layer is our own op (ops.MaxPool2D).
func (p MaxPool2D) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	cfg, err := poolConfig("max pool", p.Kernel, p.Stride, p.Pad, x)
	if err != nil {
		return nil, err
	}
	y, err := ops.MaxPool2D(x, cfg)
	return y, errors.Wrap(err, "max pool")
}

// Forward implements Layer. The layer is our own op (ops.AvgPool2D).
func (p AvgPool2D) Forward(_ *Builder, x *G.Node) (*G.Node, error) {
	cfg, err := poolConfig("avg pool", p.Kernel, p.Stride, p.Pad, x)
	if err != nil {
		return nil, err
	}
	y, err := ops.AvgPool2D(x, cfg)
	return y, errors.Wrap(err, "avg pool")
}

func poolStride(kernel, stride [2]int) [2]int {
	if stride == [2]int{} {
		return kernel
	}
	return stride
}

func poolOutShape(what string, kernel, stride, pad [2]int, in []int) ([]int, error) {
	s := poolStride(kernel, stride)
	switch {
	case kernel[0] < 1 || kernel[1] < 1:
		return nil, errors.Errorf("%s: kernel %d×%d must be positive", what, kernel[0], kernel[1])
	case s[0] < 1 || s[1] < 1:
		return nil, errors.Errorf("%s %d×%d: stride %d×%d must be positive", what, kernel[0], kernel[1], s[0], s[1])
	case pad[0] < 0 || pad[1] < 0 || 2*pad[0] > kernel[0] || 2*pad[1] > kernel[1]:
		return nil, errors.Errorf("%s %d×%d: padding %d×%d must be between 0 and half the kernel", what, kernel[0], kernel[1], pad[0], pad[1])
	case len(in) != 3:
		return nil, errors.Errorf("%s %d×%d expects input [C, H, W], got %v", what, kernel[0], kernel[1], in)
	}
	h, w := in[1]+2*pad[0], in[2]+2*pad[1]
	if h < kernel[0] || w < kernel[1] {
		return nil, errors.Errorf("%s: %s input (padded to %d×%d) is smaller than the %d×%d window",
			what, dimsString(in), h, w, kernel[0], kernel[1])
	}
	return []int{in[0], (h-kernel[0])/s[0] + 1, (w-kernel[1])/s[1] + 1}, nil
}

// poolConfig checks a pooling layer against its input x and returns the
// config of its op.
func poolConfig(what string, kernel, stride, pad [2]int, x *G.Node) (ops.PoolConfig, error) {
	xs := x.Shape()
	if xs.Dims() != 4 {
		return ops.PoolConfig{}, errors.Errorf("%s: input %v is not [batch, C, H, W]", what, xs)
	}
	if _, err := poolOutShape(what, kernel, stride, pad, xs[1:]); err != nil {
		return ops.PoolConfig{}, err
	}
	return ops.PoolConfig{Kernel: kernel, Stride: poolStride(kernel, stride), Pad: pad}, nil
}
