package bench

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
)

// FLOPs returns the floating-point operations of one training step of arch
// on a batch, counting only matrix multiplies and convolutions, which
// dominate (docs/DESIGN.md, "Decisions", item 8):
//
//	Dense  [B, In] → [B, Out]:            3 · 2·B·In·Out
//	Conv2D [B, In, H, W] → [B, Out, H', W']: 3 · 2·B·Out·H'·W'·In·kH·kW
//
// The factor 3 is the forward product and the two of the backward pass (the
// input's gradient and the weight's); a layer applied to the data itself
// (the network's first) builds no input gradient (ops.DenseConfig and
// ops.Conv2DConfig NoInputGrad, as PyTorch skips it), so it counts 2.
// Elementwise layers, pooling, normalization,
// biases, the loss and the optimizer count 0. skipped names the layers of
// types FLOPs does not know, which count 0 as well.
func FLOPs(arch graph.Arch, batch int) (flops int64, skipped []string, err error) {
	if batch < 1 {
		return 0, nil, errors.Errorf("counting FLOPs: batch %d must be at least 1", batch)
	}
	_, err = countLayer(arch.Net, arch.InShape, true, true, int64(batch), &flops, &skipped)
	return flops, skipped, errors.Wrap(err, "counting FLOPs")
}

// ForwardFLOPs is FLOPs for a prediction: the forward products only,
// 2·B·In·Out a Dense layer.
func ForwardFLOPs(arch graph.Arch, batch int) (flops int64, skipped []string, err error) {
	if batch < 1 {
		return 0, nil, errors.Errorf("counting FLOPs: batch %d must be at least 1", batch)
	}
	_, err = countLayer(arch.Net, arch.InShape, false, true, int64(batch), &flops, &skipped)
	return flops, skipped, errors.Wrap(err, "counting FLOPs")
}

// countLayer adds l's FLOPs for one example of shape in to *flops and
// returns l's output shape: a training step's (train) or a prediction's;
// data says that l's input is the data.
func countLayer(l graph.Layer, in []int, train, data bool, batch int64, flops *int64, skipped *[]string) ([]int, error) {
	if l == nil {
		return nil, errors.New("no network")
	}
	if s, ok := l.(graph.Sequential); ok {
		shape := in
		for i, c := range s.Layers {
			out, err := countLayer(c, shape, train, data && i == 0, batch, flops, skipped)
			if err != nil {
				return nil, errors.Wrapf(err, "layer %d", i)
			}
			shape = out
		}
		return shape, nil
	}
	out, err := l.OutShape(in)
	if err != nil {
		return nil, err
	}
	products := int64(3)
	switch {
	case !train:
		products = 1
	case data:
		products = 2
	}
	switch v := l.(type) {
	case graph.Dense:
		*flops += products * 2 * batch * int64(v.In) * int64(v.Out)
	case graph.Conv2D:
		*flops += products * 2 * batch * int64(v.Out) * int64(out[1]) * int64(out[2]) *
			int64(v.In) * int64(v.Kernel[0]) * int64(v.Kernel[1])
	case graph.ReLU, graph.LeakyReLU, graph.Sigmoid, graph.Tanh, graph.Dropout,
		graph.MaxPool2D, graph.AvgPool2D, graph.BatchNorm, graph.Flatten, graph.Reshape:
		// Elementwise or memory-bound: counted 0.
	default:
		// A layer type added after this function: counted 0, and said so.
		*skipped = append(*skipped, fmt.Sprintf("%T", l))
	}
	return out, nil
}
