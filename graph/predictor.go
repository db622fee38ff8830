package graph

import (
	"github.com/pkg/errors"
)

// Predictor serves a model to many goroutines at once with a fixed budget:
// a pool of inference programs of one batch size, compiled up front and all
// bound to the model's parameters (no copies); each call borrows one
// program for the batches it runs, waiting when all are busy.
// Model.Predict is safe for concurrent use too, but compiles programs as it
// needs them; a Predictor never compiles after NewPredictor returns.
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
	// Every program is compiled here, before any prediction runs: a compile
	// waits for the model's runs to finish
	// (docs/GORGONIA.md#newtapemachine-writes-every-bound-value), which a
	// server should not do under load.
	p := &Predictor{m: m, batch: batch, pool: make(chan *Program, workers)}
	for i := 0; i < workers; i++ {
		prog, err := compile(m, batch, Infer, nil)
		if err != nil {
			return nil, errors.Wrap(err, "predictor")
		}
		p.pool <- prog
	}
	return p, nil
}

// Predict returns the raw outputs, [n, out...] row-major, for the n examples
// in x (n·InSize(0) values). A last partial batch is padded with zeros:
// inference has no batch statistics, so padding does not change the other
// rows.
func (p *Predictor) Predict(x []float32) ([]float64, error) {
	return p.PredictN([][]float32{x})
}

// PredictN is Predict for a model of several inputs.
func (p *Predictor) PredictN(xs [][]float32) ([]float64, error) {
	n, err := countExamples(p.m, xs)
	if err != nil {
		return nil, err
	}
	prog := <-p.pool
	defer func() { p.pool <- prog }()
	return runPadded(prog, xs, n)
}

// Probabilities returns class probabilities as Model.Probabilities does.
func (p *Predictor) Probabilities(x []float32) ([]float64, error) {
	c, ok := p.m.Arch.Loss.(Classifier)
	if !ok {
		return nil, errors.Errorf("probabilities: a model trained with %T is not a classifier; Predict gives its outputs", p.m.Arch.Loss)
	}
	out, err := p.Predict(x)
	if err != nil {
		return nil, err
	}
	c.Probabilities(out, p.m.OutSize())
	return out, nil
}
