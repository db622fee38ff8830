package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// A Loss turns a batch of network outputs and targets into a scalar to
// minimize, averaged over the batch.
//
//	logits, targets: [batch, classes] → scalar
type Loss interface {
	Build(logits, targets *G.Node) (*G.Node, error)
}

// CrossEntropy is the softmax cross-entropy of logits against target class
// probabilities (one-hot rows for labels), averaged over the batch:
// −(1/B) Σ_b Σ_c y_bc · log softmax(x_b)_c. It never forms log(softmax(x))
// nor calls Gorgonia's SoftMax, LogSoftMax or LogSumExp: see LogSoftmax.
type CrossEntropy struct{}

// MSE is the mean squared error (1/(B·C)) Σ (x − y)², as PyTorch's MSELoss
// with reduction "mean".
type MSE struct{}

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

// Build implements Loss.
func (MSE) Build(out, targets *G.Node) (*G.Node, error) {
	if !out.Shape().Eq(targets.Shape()) {
		return nil, errors.Errorf("mse: outputs %v and targets %v differ in shape", out.Shape(), targets.Shape())
	}
	diff, err := G.Sub(out, targets)
	if err != nil {
		return nil, errors.Wrap(err, "mse")
	}
	sq, err := G.Square(diff)
	if err != nil {
		return nil, errors.Wrap(err, "mse")
	}
	loss, err := G.Mean(sq)
	return loss, errors.Wrap(err, "mse")
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
