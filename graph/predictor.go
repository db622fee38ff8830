package graph

import (
	"github.com/pkg/errors"
)

// Predictor classifies inputs with a model and is safe for concurrent use by
// many goroutines: it keeps a pool of inference programs for one batch size,
// all bound to the model's parameters (no copies), and each call borrows one
// program per batch it runs. A Program itself is not safe for concurrent
// use; the pool is what makes sharing safe.
//
// The model's parameters must not change while predictions run.
type Predictor struct {
	m     *Model
	batch int
	pool  chan *Program
}

// NewPredictor returns a predictor that runs batches of up to batch examples
// in at most workers programs at once.
func NewPredictor(m *Model, batch, workers int) (*Predictor, error) {
	if batch < 1 || workers < 1 {
		return nil, errors.Errorf("predictor: batch %d and workers %d must be at least 1", batch, workers)
	}
	// Every program is compiled here, before any prediction runs:
	// Gorgonia's NewTapeMachine writes the engine field of every value it
	// binds, the shared parameter tensors included (vm_tape.go:74), so a
	// compile during another program's run would race with it.
	p := &Predictor{m: m, batch: batch, pool: make(chan *Program, workers)}
	for i := 0; i < workers; i++ {
		prog, err := compile(m, batch, false, nil)
		if err != nil {
			return nil, errors.Wrap(err, "predictor")
		}
		p.pool <- prog
	}
	return p, nil
}

// Predict returns class probabilities, [n, classes] row-major, for the n
// examples in x (n·InSize values). A last partial batch is padded with
// zeros: inference has no batch statistics, so padding does not change the
// other rows.
func (p *Predictor) Predict(x []float32) ([]float64, error) {
	in := p.m.InSize()
	if len(x) == 0 || len(x)%in != 0 {
		return nil, errors.Errorf("predict: %d values is not a whole number of %d-value examples", len(x), in)
	}
	n := len(x) / in
	classes := p.m.Arch.Classes
	out := make([]float64, 0, n*classes)
	prog := <-p.pool
	defer func() { p.pool <- prog }()
	for lo := 0; lo < n; lo += p.batch {
		hi := min(lo+p.batch, n)
		xs := prog.X.Data().([]float32)
		copy(xs, x[lo*in:hi*in])
		clear(xs[(hi-lo)*in:])
		if err := prog.Run(); err != nil {
			return nil, errors.Wrap(err, "predict")
		}
		probs := Softmax(prog.Logits())
		out = append(out, probs[:(hi-lo)*classes]...)
	}
	return out, nil
}
