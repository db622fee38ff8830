package graph

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// A Loss turns a batch of network outputs and targets into a scalar to
// minimize, averaged over the batch. It also says what the outputs mean:
// how targets are given (Labels), which output shapes it can train (Check),
// and, for a classifier, how outputs become probabilities (Classifier).
//
//	outputs, targets: [batch, out...] → scalar
type Loss interface {
	// Build adds the loss of outputs against targets to the graph. For a
	// loss that takes labels, targets holds their one-hot rows.
	Build(outputs, targets *G.Node) (*G.Node, error)
	// Labels reports whether the targets are class labels, one per
	// example (the trainer makes their one-hot rows), rather than values of
	// the output's shape.
	Labels() bool
	// Check says why the loss cannot train a network whose output for one
	// example has this shape, or nil.
	Check(out []int) error
}

// A TargetRanger is a loss whose targets must lie in a closed range, such
// as the probabilities of SigmoidCrossEntropy: the trainer refuses a batch
// with a target outside it, which would otherwise train on a loss that
// means nothing (a label 2 fed to a one-output binary classifier).
type TargetRanger interface {
	Loss
	// TargetRange is the smallest and largest target the loss accepts.
	TargetRange() (lo, hi float64)
}

// A Classifier is a loss whose outputs are the logits of probabilities.
type Classifier interface {
	Loss
	// Probabilities maps rows of outputs (row-major, cols each) to
	// probabilities in place.
	Probabilities(out []float64, cols int)
}

// CrossEntropy is the softmax cross-entropy of logits against target class
// probabilities (one-hot rows for labels), averaged over the batch:
// −(1/B) Σ_b Σ_c y_bc · log softmax(x_b)_c. It never forms log(softmax(x))
// nor calls Gorgonia's SoftMax, LogSoftMax or LogSumExp: see LogSoftmax.
type CrossEntropy struct{}

// MSE is the mean squared error over every output element, (1/N) Σ (x − y)²,
// as PyTorch's MSELoss with reduction "mean".
type MSE struct{}

// Labels implements Loss: the targets are class labels.
func (CrossEntropy) Labels() bool { return true }

// Check implements Loss: the output is one score per class, at least two.
func (CrossEntropy) Check(out []int) error {
	if len(out) != 1 || out[0] < 2 {
		return errors.Errorf("cross-entropy wants one score per class, [classes] with at least 2 classes, not %v", out)
	}
	return nil
}

// Probabilities implements Classifier: the softmax of each row, with the
// row's own maximum subtracted so that no exponent is positive.
func (CrossEntropy) Probabilities(out []float64, cols int) {
	for r := 0; r+cols <= len(out); r += cols {
		row := out[r : r+cols]
		mx := math.Inf(-1)
		for _, x := range row {
			mx = math.Max(mx, x)
		}
		sum := 0.0
		for i, x := range row {
			row[i] = math.Exp(x - mx)
			sum += row[i]
		}
		for i := range row {
			row[i] /= sum
		}
	}
}

// Labels implements Loss: the targets are values.
func (MSE) Labels() bool { return false }

// Check implements Loss: any output shape.
func (MSE) Check([]int) error { return nil }

// Build implements Loss. The loss is one op of ours
// (ops.SoftmaxCrossEntropy) with the same log-sum-exp arithmetic as
// LogSoftmax, forward and backward in one pass each over the logits, instead
// of a chain of elementary ops that allocate their outputs at every run.
func (CrossEntropy) Build(logits, targets *G.Node) (*G.Node, error) {
	s := logits.Shape()
	if !s.Eq(targets.Shape()) || logits.Dims() != 2 {
		return nil, errors.Errorf("cross-entropy: logits %v and targets %v must be equal [batch, classes]", logits.Shape(), targets.Shape())
	}
	loss, err := ops.SoftmaxCrossEntropy(logits, targets)
	return loss, errors.Wrap(err, "cross-entropy")
}

// Build implements Loss: ops.PointLoss.
func (MSE) Build(out, targets *G.Node) (*G.Node, error) {
	return pointLoss("mse", out, targets, ops.PointLossConfig{Kind: "mse"})
}

// MAE is the mean absolute error (1/N) Σ |x − y|, as PyTorch's L1Loss.
type MAE struct{}

// Huber is the mean Huber loss with threshold Delta, as PyTorch's
// HuberLoss: ½(x − y)² near the target, Delta·(|x − y| − ½Delta) beyond
// Delta, so that outliers pull linearly. If Delta is 0, 1 is used.
type Huber struct{ Delta float64 }

// SigmoidCrossEntropy is the binary cross-entropy of sigmoid(x) against
// targets in [0, 1], each output an independent yes/no (binary or
// multi-label classification), averaged over every output, as PyTorch's
// BCEWithLogitsLoss: computed from the logits as max(x, 0) − x·y +
// log1p(e^−|x|), so that it never takes the log of 0.
type SigmoidCrossEntropy struct{}

// Build implements Loss: ops.PointLoss.
func (MAE) Build(out, targets *G.Node) (*G.Node, error) {
	return pointLoss("mae", out, targets, ops.PointLossConfig{Kind: "mae"})
}

func (h Huber) delta() float64 {
	if h.Delta == 0 {
		return 1
	}
	return h.Delta
}

// Build implements Loss: ops.PointLoss.
func (h Huber) Build(out, targets *G.Node) (*G.Node, error) {
	return pointLoss("huber", out, targets, ops.PointLossConfig{Kind: "huber", Delta: h.delta()})
}

// Build implements Loss: ops.PointLoss.
func (SigmoidCrossEntropy) Build(out, targets *G.Node) (*G.Node, error) {
	return pointLoss("sigmoid cross-entropy", out, targets, ops.PointLossConfig{Kind: "sigmoid"})
}

func pointLoss(what string, out, targets *G.Node, cfg ops.PointLossConfig) (*G.Node, error) {
	if !out.Shape().Eq(targets.Shape()) {
		return nil, errors.Errorf("%s: outputs %v and targets %v differ in shape", what, out.Shape(), targets.Shape())
	}
	loss, err := ops.PointLoss(out, targets, cfg)
	return loss, errors.Wrap(err, what)
}

// Labels implements Loss: the targets are values.
func (MAE) Labels() bool { return false }

// Labels implements Loss: the targets are values.
func (Huber) Labels() bool { return false }

// Labels implements Loss: the targets are values in [0, 1], one per
// output (a one-output model can be fed 0/1 labels by its source).
func (SigmoidCrossEntropy) Labels() bool { return false }

// Check implements Loss: any output shape.
func (MAE) Check([]int) error { return nil }

// Check implements Loss: any output shape, and a positive Delta.
func (h Huber) Check([]int) error {
	if d := h.delta(); !(d > 0) || math.IsInf(d, 1) {
		return errors.Errorf("huber: delta %v must be a positive number", h.Delta)
	}
	return nil
}

// Check implements Loss: any output shape.
func (SigmoidCrossEntropy) Check([]int) error { return nil }

// TargetRange implements TargetRanger: probabilities, 0 to 1.
func (SigmoidCrossEntropy) TargetRange() (lo, hi float64) { return 0, 1 }

// Probabilities implements Classifier: each output's sigmoid.
func (SigmoidCrossEntropy) Probabilities(out []float64, _ int) {
	for i, x := range out {
		if x >= 0 {
			out[i] = 1 / (1 + math.Exp(-x))
		} else {
			e := math.Exp(x)
			out[i] = e / (1 + e)
		}
	}
}

// LogSoftmax returns log softmax(x) along the last axis of a [batch, n]
// node, computed as (x − m) − log Σ exp(x − m) with m the row's maximum, so
// that no exponent is positive and logits of ±1000 stay finite.
//
// Gorgonia's SoftMax/LogSoftMax take each row's max from the first element
// of the whole tensor and overflow (docs/GORGONIA.md#softmax-overflows), its
// LogSumExp is wrong (docs/GORGONIA.md#logsumexp-is-wrong), and
// Log(SoftMax(x)) is rewritten behind the caller's back
// (docs/GORGONIA.md#log-of-softmax-is-rewritten-in-place, gorgonia#569), so
// this is built from elementary ops.
func LogSoftmax(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 {
		return nil, errors.Errorf("log-softmax wants [batch, n], got %v", s)
	}
	b := s[0]
	m, err := G.Max(x, 1)
	if err != nil {
		return nil, errors.Wrap(err, "log-softmax max")
	}
	if m, err = G.Reshape(m, tensor.Shape{b, 1}); err != nil {
		return nil, errors.Wrap(err, "log-softmax")
	}
	shifted, err := G.BroadcastSub(x, m, nil, []byte{1})
	if err != nil {
		return nil, errors.Wrap(err, "log-softmax")
	}
	e, err := G.Exp(shifted)
	if err != nil {
		return nil, errors.Wrap(err, "log-softmax")
	}
	sum, err := G.Sum(e, 1)
	if err != nil {
		return nil, errors.Wrap(err, "log-softmax")
	}
	lse, err := G.Log(sum)
	if err != nil {
		return nil, errors.Wrap(err, "log-softmax")
	}
	if lse, err = G.Reshape(lse, tensor.Shape{b, 1}); err != nil {
		return nil, errors.Wrap(err, "log-softmax")
	}
	out, err := G.BroadcastSub(shifted, lse, nil, []byte{1})
	return out, errors.Wrap(err, "log-softmax")
}
