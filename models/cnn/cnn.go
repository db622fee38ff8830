package cnn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
)

// Kind is the architecture name recorded in checkpoints.
const Kind = "cnn"

// Block is one convolution block: a convolution, then an optional batch
// norm, the activation, an optional pooling and an optional dropout.
type Block struct {
	// Out is the number of output channels.
	Out int `json:"out"`
	// Kernel is the side of the square convolution kernel. If Kernel is 0,
	// 3 is used.
	Kernel int `json:"kernel,omitempty"`
	// Stride is the convolution's step. If Stride is 0, 1 is used.
	Stride int `json:"stride,omitempty"`
	// Pad is the number of zeros added on each side; 0 is none.
	Pad int `json:"pad,omitempty"`
	// Activation is one of graph.Activations. If Activation is "", "relu"
	// is used.
	Activation string `json:"activation,omitempty"`
	// BatchNorm adds a batch norm between the convolution and the
	// activation; the convolution then has no bias, which the batch norm's
	// shift makes redundant.
	BatchNorm bool `json:"batch_norm,omitempty"`
	// Pool is "" (none), "max" or "avg": a PoolSize×PoolSize window moved by
	// its own size.
	Pool string `json:"pool,omitempty"`
	// PoolSize is the pooling window's side. If PoolSize is 0 and Pool is
	// set, 2 is used.
	PoolSize int `json:"pool_size,omitempty"`
	// Dropout is the rate of a dropout after the block, in [0, 1); 0 is
	// none.
	Dropout float64 `json:"dropout,omitempty"`
}

// Config describes a CNN: convolution blocks, a flatten, then dense layers.
type Config struct {
	// InShape is one image's [channels, height, width]. If InShape is zero,
	// [1, 28, 28] (MNIST) is used.
	InShape [3]int `json:"in_shape"`
	// Blocks are the convolution blocks, at least one. Block i (from 1)
	// names its layers conv<i> and bn<i>.
	Blocks []Block `json:"blocks"`
	// Dense lists the sizes of the hidden dense layers after the flatten;
	// nil is none. The dense layers, the classifier last, are fc1, fc2, ….
	Dense []int `json:"dense"`
	// DenseDropout is the rate of a dropout after each hidden dense layer,
	// in [0, 1); 0 is none.
	DenseDropout float64 `json:"dense_dropout,omitempty"`
	// DenseActivation follows each hidden dense layer: one of
	// graph.Activations. If DenseActivation is "", "relu" is used.
	DenseActivation string `json:"dense_activation,omitempty"`
	// Outputs is the number of outputs: the classes of a classifier. If
	// Outputs is 0, 10 is used.
	Outputs int `json:"outputs"`
	// Loss is the training objective. If Loss is nil, graph.CrossEntropy is
	// used (Outputs classes).
	Loss graph.Loss `json:"-"`
}

// Defaults returns cfg with every zero value replaced by its default.
func (cfg Config) Defaults() Config {
	if cfg.InShape == [3]int{} {
		cfg.InShape = [3]int{1, 28, 28}
	}
	blocks := make([]Block, len(cfg.Blocks))
	for i, b := range cfg.Blocks {
		if b.Kernel == 0 {
			b.Kernel = 3
		}
		if b.Stride == 0 {
			b.Stride = 1
		}
		if b.Activation == "" {
			b.Activation = "relu"
		}
		if b.Pool != "" && b.PoolSize == 0 {
			b.PoolSize = 2
		}
		blocks[i] = b
	}
	cfg.Blocks = blocks
	cfg.Dense = append([]int(nil), cfg.Dense...)
	if cfg.DenseActivation == "" {
		cfg.DenseActivation = "relu"
	}
	if cfg.Outputs == 0 {
		cfg.Outputs = 10
	}
	return cfg
}

// Validate reports the first thing wrong with cfg (after defaults). A block
// that does not fit its input is named with the shapes, as in "cnn: block 3:
// 64×3×3 input is smaller than the 5×5 kernel".
func (cfg Config) Validate() error {
	_, err := cfg.Defaults().flatSize()
	return err
}

// flatSize checks c, which has its defaults, and returns the size of the
// flattened output of the last block.
func (c Config) flatSize() (int, error) {
	shape := c.InShape
	if shape[0] < 1 || shape[1] < 1 || shape[2] < 1 {
		return 0, errors.Errorf("cnn: input shape %s must be positive", dims(shape[:]))
	}
	if len(c.Blocks) == 0 {
		return 0, errors.New("cnn: no convolution blocks")
	}
	for i, b := range c.Blocks {
		next, err := b.outShape(shape)
		if err != nil {
			return 0, errors.Wrapf(err, "cnn: block %d", i+1)
		}
		shape = next
	}
	for i, h := range c.Dense {
		if h < 1 {
			return 0, errors.Errorf("cnn: dense layer %d has size %d, must be at least 1", i+1, h)
		}
	}
	if _, err := graph.Activation(c.DenseActivation); err != nil {
		return 0, errors.Wrap(err, "cnn: dense activation")
	}
	if !(c.DenseDropout >= 0 && c.DenseDropout < 1) {
		return 0, errors.Errorf("cnn: dense dropout %v must be in [0, 1)", c.DenseDropout)
	}
	if c.Outputs < 1 {
		return 0, errors.Errorf("cnn: outputs %d must be at least 1", c.Outputs)
	}
	return shape[0] * shape[1] * shape[2], nil
}

// outShape checks b, which has its defaults, against its input [C, H, W]
// and returns its output shape.
func (b Block) outShape(in [3]int) ([3]int, error) {
	switch {
	case b.Out < 1:
		return in, errors.Errorf("%d output channels, must be at least 1", b.Out)
	case b.Kernel < 1 || b.Stride < 1 || b.Pad < 0:
		return in, errors.Errorf("kernel %d, stride %d and padding %d: kernel and stride must be at least 1, padding at least 0", b.Kernel, b.Stride, b.Pad)
	case !(b.Dropout >= 0 && b.Dropout < 1):
		return in, errors.Errorf("dropout %v must be in [0, 1)", b.Dropout)
	}
	if _, err := graph.Activation(b.Activation); err != nil {
		return in, err
	}
	h, w := in[1]+2*b.Pad, in[2]+2*b.Pad
	if h < b.Kernel || w < b.Kernel {
		padded := ""
		if b.Pad > 0 {
			padded = fmt.Sprintf(" padded by %d", b.Pad)
		}
		return in, errors.Errorf("%s input%s is smaller than the %d×%d kernel", dims(in[:]), padded, b.Kernel, b.Kernel)
	}
	out := [3]int{b.Out, (h-b.Kernel)/b.Stride + 1, (w-b.Kernel)/b.Stride + 1}
	switch b.Pool {
	case "":
		return out, nil
	case "max", "avg":
	default:
		return in, errors.Errorf("pool %q, want \"\", \"max\" or \"avg\"", b.Pool)
	}
	if b.PoolSize < 1 {
		return in, errors.Errorf("pool size %d must be at least 1", b.PoolSize)
	}
	if out[1] < b.PoolSize || out[2] < b.PoolSize {
		return in, errors.Errorf("the convolution's %s output is smaller than the %d×%d %s pool", dims(out[:]), b.PoolSize, b.PoolSize, b.Pool)
	}
	return [3]int{out[0], out[1] / b.PoolSize, out[2] / b.PoolSize}, nil
}

// New returns the architecture cfg describes.
func New(cfg Config) (graph.Arch, error) {
	c := cfg.Defaults()
	flat, err := c.flatSize()
	if err != nil {
		return graph.Arch{}, err
	}
	var layers []graph.Layer
	drops := 0
	dropout := func(p float64) {
		if p > 0 {
			drops++
			layers = append(layers, graph.Dropout{Name: fmt.Sprintf("dropout%d", drops), P: p})
		}
	}
	in := c.InShape[0]
	for i, b := range c.Blocks {
		n := i + 1
		layers = append(layers, graph.Conv2D{Name: fmt.Sprintf("conv%d", n), In: in, Out: b.Out,
			Kernel: [2]int{b.Kernel, b.Kernel}, Stride: [2]int{b.Stride, b.Stride}, Pad: [2]int{b.Pad, b.Pad},
			NoBias: b.BatchNorm})
		if b.BatchNorm {
			layers = append(layers, graph.BatchNorm{Name: fmt.Sprintf("bn%d", n), Features: b.Out})
		}
		if act, _ := graph.Activation(b.Activation); act != (graph.Identity{}) {
			layers = append(layers, act)
		}
		k := [2]int{b.PoolSize, b.PoolSize}
		switch b.Pool {
		case "max":
			layers = append(layers, graph.MaxPool2D{Kernel: k})
		case "avg":
			layers = append(layers, graph.AvgPool2D{Kernel: k})
		}
		dropout(b.Dropout)
		in = b.Out
	}
	layers = append(layers, graph.Flatten{})
	act, _ := graph.Activation(c.DenseActivation)
	for i, h := range c.Dense {
		layers = append(layers, graph.Dense{Name: fmt.Sprintf("fc%d", i+1), In: flat, Out: h})
		if act != (graph.Identity{}) {
			layers = append(layers, act)
		}
		dropout(c.DenseDropout)
		flat = h
	}
	layers = append(layers, graph.Dense{Name: fmt.Sprintf("fc%d", len(c.Dense)+1), In: flat, Out: c.Outputs})
	arch := graph.Arch{Net: graph.NewSequential(layers...), InShape: c.InShape[:], Loss: c.Loss}
	return arch, errors.Wrap(arch.Validate(), "cnn")
}

// dims writes a shape as "64×3×3".
func dims(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "×")
}
