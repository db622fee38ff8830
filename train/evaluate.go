package train

import (
	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
)

// Report is what Evaluate measured over a source.
type Report struct {
	// N is the number of examples, each counted once.
	N int
	// Loss is the mean loss, with the model in inference mode.
	Loss float64
	// Metrics are the task's: "accuracy" for a classifier, "mse", "mae"
	// and "r2" for a regression (see EpochStats).
	Metrics map[string]float64
	// Predicted and Labels hold each example's predicted class (the
	// largest output) and its label, for a model whose loss takes labels;
	// nil otherwise. They feed a confusion matrix.
	Predicted, Labels []int

	// outputsRight counts a sigmoid classifier's outputs on the right side
	// of 0.5, and sigmoid says the model is one.
	outputsRight int
	sigmoid      bool
}

// Correct is the number of examples a classifier got right: the label is
// the largest output (a loss that takes labels), or, for a sigmoid
// classifier (SigmoidCrossEntropy), the outputs whose probability is on the
// target's side of 0.5 — the examples, for a model of one output; what
// Metrics["accuracy"] divides by the outputs seen. It is 0 for a
// regression.
func (r *Report) Correct() int {
	if r.sigmoid {
		return r.outputsRight
	}
	n := 0
	for i, p := range r.Predicted {
		if p == r.Labels[i] {
			n++
		}
	}
	return n
}

// Evaluate runs the model's evaluation programs over every example of src
// exactly once (a last partial batch runs in a program of its own size) and
// returns the mean loss, the task's metrics, and a classifier's predictions.
// It is safe to call while other goroutines predict with the model.
func Evaluate(m *graph.Model, src datasets.Source) (*Report, error) {
	return evaluate(m, src, 0, true)
}

// EvaluateTopK is Evaluate with a classifier's top-k accuracy as well
// (Metrics "topK_accuracy", K the number given: an example counts if its
// label is among the k largest outputs), as Config.TopK reports it for
// Fit. k must be at least 1 and the model a classifier.
func EvaluateTopK(m *graph.Model, src datasets.Source, k int) (*Report, error) {
	if k < 1 {
		return nil, errors.Errorf("evaluate: top-k %d must be at least 1", k)
	}
	if m.Arch.Loss == nil {
		return nil, errors.New("evaluate: the model's Arch.Loss is nil (NewModel fills in CrossEntropy: was it cleared after?)")
	}
	if err := checkTopK(m, k); err != nil {
		return nil, errors.Wrap(err, "evaluate")
	}
	return evaluate(m, src, k, true)
}

// checkTopK refuses a top-k accuracy (k > 0) that would mean nothing: for a
// loss that takes no labels, or k at or above the number of classes.
func checkTopK(m *graph.Model, k int) error {
	switch {
	case !m.Arch.Loss.Labels():
		return errors.Errorf("top-%d accuracy needs a classifier of labels, and %T takes none", k, m.Arch.Loss)
	case k >= m.OutSize():
		return errors.Errorf("top-%d accuracy of %d classes is always 100%%: want fewer than %d", k, m.OutSize(), m.OutSize())
	}
	return nil
}

func evaluate(m *graph.Model, src datasets.Source, topK int, keep bool) (*Report, error) {
	if m.Arch.Loss == nil {
		return nil, errors.New("evaluate: the model's Arch.Loss is nil (NewModel fills in CrossEntropy: was it cleared after?)")
	}
	nb := src.Len()
	if nb == 0 {
		return nil, errors.New("evaluate: the source has no batches")
	}
	k := taskOf(m.Arch.Loss)
	var s sums
	r := &Report{}
	feeds := map[int]*feed{}
	defer func() {
		for _, f := range feeds {
			m.Release(f.prog)
		}
	}()
	for i := 0; i < nb; i++ {
		n := src.Size(i)
		f, ok := feeds[n]
		if !ok {
			p, err := m.Eval(n)
			if err != nil {
				return nil, err
			}
			f = newFeed(m, p)
			feeds[n] = f
		}
		if err := f.fill(src, i); err != nil {
			return nil, errors.Wrap(err, "evaluate")
		}
		if err := f.prog.Run(); err != nil {
			return nil, errors.Wrapf(err, "evaluating batch %d", i)
		}
		s.add(k, topK, f.output(), f, n, f.prog.Loss())
		if keep && k == classify {
			pred := make([]int, n)
			graph.Argmax(f.output(), pred)
			r.Predicted = append(r.Predicted, pred...)
			r.Labels = append(r.Labels, f.labels...)
		}
	}
	r.N, r.Loss, r.Metrics = s.Seen, s.LossSum/float64(s.Seen), s.metrics(k, topK)
	if k == binary {
		r.sigmoid, r.outputsRight = true, s.Correct
	}
	return r, nil
}
