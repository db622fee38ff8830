package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// Dense is a fully connected layer: y = x·W + b.
//
//	x: [batch, In] → y: [batch, Out]
//
// Its parameters are Name+".weight" of shape [In, Out] and Name+".bias" of
// shape [Out]. (PyTorch's nn.Linear stores the weight as [Out, In]; the
// interop code transposes.)
type Dense struct {
	Name    string
	In, Out int
	// NoBias drops the bias term.
	NoBias bool
	// WeightInit initializes the weight. If WeightInit is nil, GlorotUniform
	// is used (Keras's default); the bias starts at zero.
	WeightInit Initializer `json:"-"`
}

// Params implements Layer.
func (d Dense) Params() []ParamSpec {
	init := d.WeightInit
	if init == nil {
		init = GlorotUniform{}
	}
	ps := []ParamSpec{{Name: d.Name + ".weight", Shape: []int{d.In, d.Out}, Init: init, TorchTransposed: true}}
	if !d.NoBias {
		ps = append(ps, ParamSpec{Name: d.Name + ".bias", Shape: []int{d.Out}, Init: Zeros{}})
	}
	return ps
}

// OutShape implements Layer.
func (d Dense) OutShape(in []int) ([]int, error) {
	if d.In < 1 || d.Out < 1 {
		return nil, errors.Errorf("dense %s: sizes in=%d out=%d must be positive", d.Name, d.In, d.Out)
	}
	if len(in) != 1 || in[0] != d.In {
		return nil, errors.Errorf("dense %s expects input [%d], got %v", d.Name, d.In, in)
	}
	return []int{d.Out}, nil
}

// Forward implements Layer. The layer is one op of ours (ops.Dense) rather
// than Gorgonia's Mul and BroadcastAdd, which allocate their outputs at
// every run and materialize a repeat of the bias.
func (d Dense) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	w, err := b.Param(d.Name + ".weight")
	if err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) != 2 || s[1] != d.In {
		return nil, errors.Errorf("dense %s expects input [batch, %d], got %v", d.Name, d.In, s)
	}
	if ws := w.Shape(); !ws.Eq(tensor.Shape{d.In, d.Out}) {
		return nil, errors.Errorf("dense %s: weight has shape %v, want [%d %d]", d.Name, ws, d.In, d.Out)
	}
	var bias *G.Node
	if !d.NoBias {
		if bias, err = b.ParamView(d.Name+".bias", 1, d.Out); err != nil {
			return nil, err
		}
	}
	y, err := ops.Dense(x, w, bias, ops.DenseConfig{Name: d.Name, NoInputGrad: b.IsInput(x)})
	return y, errors.Wrapf(err, "dense %s", d.Name)
}
