package graph

import (
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// Conv2D is a 2-D convolution over NCHW images (a cross-correlation, as in
// PyTorch's nn.Conv2d):
//
//	x: [batch, In, H, W] → y: [batch, Out, H', W'],  H' = (H + 2·Pad[0] − Kernel[0])/Stride[0] + 1
//
// Its parameters are Name+".weight" of shape [Out, In, Kernel[0], Kernel[1]]
// and Name+".bias" of shape [Out], PyTorch's layout and names, so weights
// map one to one. It runs as our own op (ops.Conv2D), not Gorgonia's
// Conv2d.
type Conv2D struct {
	Name    string
	In, Out int
	// Kernel is the window's height and width.
	Kernel [2]int
	// Stride is the step between windows. If Stride is zero, {1, 1} is used.
	Stride [2]int
	// Pad is the number of zeros added on each side of the height and width.
	Pad [2]int
	// NoBias drops the bias term (useful before a BatchNorm, whose shift
	// makes it redundant).
	NoBias bool
	// WeightInit initializes the weight. If WeightInit is nil, the weight is
	// drawn from U(−1/√fanIn, 1/√fanIn) with fanIn = In·Kernel[0]·Kernel[1]:
	// PyTorch's default (kaiming_uniform with a = √5 gives exactly that
	// bound). The bias is always drawn from that same distribution, as
	// PyTorch does.
	WeightInit Initializer `json:"-"`
}

func (c Conv2D) stride() [2]int {
	if c.Stride == [2]int{} {
		return [2]int{1, 1}
	}
	return c.Stride
}

func (c Conv2D) fanIn() int { return c.In * c.Kernel[0] * c.Kernel[1] }

// Params implements Layer.
func (c Conv2D) Params() []ParamSpec {
	bound := 1 / math.Sqrt(float64(max(1, c.fanIn())))
	def := Uniform{Low: -bound, High: bound}
	init := c.WeightInit
	if init == nil {
		init = def
	}
	ps := []ParamSpec{{Name: c.Name + ".weight", Shape: []int{c.Out, c.In, c.Kernel[0], c.Kernel[1]}, Init: init}}
	if !c.NoBias {
		ps = append(ps, ParamSpec{Name: c.Name + ".bias", Shape: []int{c.Out}, Init: def})
	}
	return ps
}

// OutShape implements Layer.
func (c Conv2D) OutShape(in []int) ([]int, error) {
	s := c.stride()
	switch {
	case c.In < 1 || c.Out < 1:
		return nil, errors.Errorf("conv2d %s: channels in=%d out=%d must be positive", c.Name, c.In, c.Out)
	case c.Kernel[0] < 1 || c.Kernel[1] < 1:
		return nil, errors.Errorf("conv2d %s: kernel %d×%d must be positive", c.Name, c.Kernel[0], c.Kernel[1])
	case s[0] < 1 || s[1] < 1:
		return nil, errors.Errorf("conv2d %s: stride %d×%d must be positive", c.Name, s[0], s[1])
	case c.Pad[0] < 0 || c.Pad[1] < 0:
		return nil, errors.Errorf("conv2d %s: padding %d×%d must not be negative", c.Name, c.Pad[0], c.Pad[1])
	case len(in) != 3 || in[0] != c.In:
		return nil, errors.Errorf("conv2d %s expects input [%d, H, W], got %v", c.Name, c.In, in)
	}
	h, w := in[1]+2*c.Pad[0], in[2]+2*c.Pad[1]
	if h < c.Kernel[0] || w < c.Kernel[1] {
		return nil, errors.Errorf("conv2d %s: %s input (padded to %d×%d) is smaller than the %d×%d kernel",
			c.Name, dimsString(in), h, w, c.Kernel[0], c.Kernel[1])
	}
	return []int{c.Out, (h-c.Kernel[0])/s[0] + 1, (w-c.Kernel[1])/s[1] + 1}, nil
}

// Forward implements Layer.
func (c Conv2D) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 4 {
		return nil, errors.Errorf("conv2d %s: input %v is not [batch, C, H, W]", c.Name, xs)
	}
	if _, err := c.OutShape(xs[1:]); err != nil {
		return nil, err
	}
	w, err := b.Param(c.Name + ".weight")
	if err != nil {
		return nil, err
	}
	var bias *G.Node
	if !c.NoBias {
		if bias, err = b.Param(c.Name + ".bias"); err != nil {
			return nil, err
		}
	}
	y, err := ops.Conv2D(x, w, bias, ops.Conv2DConfig{Name: c.Name, Stride: c.stride(), Pad: c.Pad, NoInputGrad: b.IsInput(x)})
	return y, errors.Wrapf(err, "conv2d %s", c.Name)
}

// dimsString writes a shape as "64×3×3".
func dimsString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "×")
}
