package graph

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Predictor serves a model to many goroutines at once with a fixed budget:
// workers sets of inference programs, compiled up front and all bound to
// the model's parameters (no copies), each set of batch sizes 1, 2, 4, …
// up to batch. Calls that find every set busy wait in line, and the
// requests of several calls smaller than the batch run together, in the
// smallest program they fit: eight goroutines predicting one example each
// make one run of a program of batch 8, which reads the weights once
// rather than eight times, and a waiting goroutine sleeps rather than
// competing for a core. A call alone runs in the program of its size.
// Before it runs a batch, the goroutine that holds a program set yields its
// processor, so that callers that are ready to run but have not yet queued
// their requests can queue them and join the batch (see gather). Each call still gets exactly the
// outputs it would get alone: every row of a batch is computed as it would
// be in a batch of one (no batch statistics in inference, and package
// blas's products give a row the same bits whatever the rows beside it).
// Model.Predict is safe for concurrent use too, but compiles programs as it
// needs them; a Predictor never compiles after NewPredictor returns.
//
// The model's parameters must not change while predictions run.
type Predictor struct {
	m     *Model
	batch int

	mu sync.Mutex
	// free holds the program sets no call is running; queue the requests
	// waiting for one, oldest first.
	free  []programSet
	queue []*request
	reqs  sync.Pool // of *request

	runs, examples atomic.Int64
}

// PredictorStats counts a Predictor's work since it was made.
type PredictorStats struct {
	// Runs is the number of program runs, Examples the examples they
	// predicted: Examples/Runs is the mean batch the requests made.
	Runs, Examples int64
}

// Stats returns the counts of p's work so far. It is safe to call while
// predictions run.
func (p *Predictor) Stats() PredictorStats {
	return PredictorStats{Runs: p.runs.Load(), Examples: p.examples.Load()}
}

// A programSet is one worker's programs, by batch size, smallest first;
// the last has the Predictor's batch.
type programSet []*Program

// fit returns the smallest program of at least rows examples, or the
// largest.
func (s programSet) fit(rows int) *Program {
	for _, p := range s {
		if p.Batch >= rows {
			return p
		}
	}
	return s[len(s)-1]
}

// A request is one call's examples on their way through a Predictor.
type request struct {
	xs  [][]float32
	n   int
	out []float64
	err error
	// set and batch, when set, hand the goroutine that made the request a
	// program set and the requests it is to run with it, its own first.
	set   programSet
	batch []*request
	done  chan struct{} // buffered: served, or handed a program
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
	p := &Predictor{m: m, batch: batch}
	for i := 0; i < workers; i++ {
		var set programSet
		for b := 1; ; b = min(2*b, batch) {
			prog, err := compile(m, b, Infer, nil)
			if err != nil {
				return nil, errors.Wrap(err, "predictor")
			}
			set = append(set, prog)
			if b == batch {
				break
			}
		}
		p.free = append(p.free, set)
	}
	return p, nil
}

// Model returns the model p serves.
func (p *Predictor) Model() *Model { return p.m }

// Predict returns the raw outputs, [n, out...] row-major, for the n examples
// in x (n·InSize(0) values). A last partial batch is padded with zeros:
// inference has no batch statistics, so padding does not change the other
// rows.
func (p *Predictor) Predict(x []float32) ([]float64, error) {
	return p.PredictN([][]float32{x})
}

// PredictN is Predict for a model of several inputs.
//
// A call queues its request; if a program is free, it takes it and runs
// the requests at the head of the queue that fit in one batch (its own
// among them), then hands the program to the oldest request still waiting,
// whose goroutine runs the next batch. So every goroutine runs at most one
// batch, the one holding its request, and none waits for more than the
// batches queued before it.
func (p *Predictor) PredictN(xs [][]float32) ([]float64, error) {
	n, err := countExamples(p.m, xs)
	if err != nil {
		return nil, err
	}
	r, _ := p.reqs.Get().(*request)
	if r == nil {
		r = &request{done: make(chan struct{}, 1)}
	}
	r.xs, r.n = xs, n
	p.mu.Lock()
	p.queue = append(p.queue, r)
	var set programSet
	var batch []*request
	if k := len(p.free); k > 0 {
		set, p.free = p.free[k-1], p.free[:k-1]
		batch = p.takeLocked()
	}
	p.mu.Unlock()
	if set != nil {
		p.run(set, batch)
	}
	for {
		<-r.done
		if r.set == nil {
			break
		}
		set, batch := r.set, r.batch
		r.set, r.batch = nil, nil
		p.run(set, batch)
	}
	out, err := r.out, r.err
	*r = request{done: r.done}
	p.reqs.Put(r)
	return out, err
}

// takeLocked removes from the head of the queue the requests of the next
// batch: the oldest, and those after it while their examples fit in one
// batch with it. A request of a batch or more runs alone.
func (p *Predictor) takeLocked() []*request {
	rows, k := 0, 0
	for k < len(p.queue) && (k == 0 || rows+p.queue[k].n <= p.batch) {
		rows += p.queue[k].n
		k++
		if rows >= p.batch {
			break
		}
	}
	batch := append([]*request(nil), p.queue[:k]...)
	p.queue = p.queue[:copy(p.queue, p.queue[k:])]
	return batch
}

// run runs a batch of requests, with those gather adds, in the smallest
// program of set they fit in, then hands set to the next batch or frees
// it, and lets the requests' goroutines go.
func (p *Predictor) run(set programSet, batch []*request) {
	batch, rows := p.gather(batch)
	p.runs.Add(1)
	p.examples.Add(int64(rows))
	if len(batch) == 1 {
		r := batch[0]
		r.out, r.err = runPadded(set.fit(rows), r.xs, r.n)
	} else {
		runTogether(set.fit(rows), batch)
	}
	p.mu.Lock()
	var next []*request
	if len(p.queue) > 0 {
		next = p.takeLocked()
		next[0].set, next[0].batch = set, next
	} else {
		p.free = append(p.free, set)
	}
	p.mu.Unlock()
	if next != nil {
		next[0].done <- struct{}{}
	}
	for _, r := range batch {
		r.done <- struct{}{}
	}
	// Yield to the goroutines just woken. The runtime puts a goroutine
	// woken by a channel send in the sender's processor's next slot, where
	// it inherits the sender's time slice, and a sender that queues its
	// next request at once keeps its processor: with 8 callers on 2
	// processors, some waited out whole 10 ms slices (mlp-serve-8: max
	// 15–25 ms, p50 250 µs for the favoured callers). Yielding serves the
	// callers in turn: max ~2 ms, p50 430 µs (8 callers' fair share), 11%
	// fewer predictions a second.
	runtime.Gosched()
}

// gather adds to batch the requests that queue while its goroutine yields
// its processor, oldest first while they fit, and returns it with its
// examples' count. The goroutines that a finished batch lets go, or that
// a client's request has just woken, are ready to run but cannot queue
// while the batch before theirs keeps both cores busy; without the yield
// each batch held the one or two requests that had queued, and 8 callers
// on 2 cores made batches of 1.1 examples on average (mlp-serve-8: 15,000
// predictions a second; with it, ~3 examples a run and 30,000). It yields
// again while the queue keeps growing, at most once per example the batch
// lacks. A goroutine alone yields once here and once after its run, and
// the pool's worker, polling, is ready to run then: a batch-1 prediction
// of the default MLP took 88–96 µs through a Predictor with one caller,
// 83–88 through Model.Predict, on a quiet machine (go test -run '^$'
// -bench 'PredictMLP1$|PredictorMLP1$' ./graph/).
func (p *Predictor) gather(batch []*request) ([]*request, int) {
	rows := 0
	for _, r := range batch {
		rows += r.n
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// A request left in the queue did not fit, and the queue is served in
	// order.
	for tries := p.batch - rows; tries > 0 && rows < p.batch && len(p.queue) == 0; tries-- {
		p.mu.Unlock()
		runtime.Gosched()
		p.mu.Lock()
		k := 0
		for k < len(p.queue) && rows+p.queue[k].n <= p.batch {
			rows += p.queue[k].n
			batch = append(batch, p.queue[k])
			k++
		}
		if k == 0 {
			break
		}
		p.queue = p.queue[:copy(p.queue, p.queue[k:])]
	}
	return batch, rows
}

// runTogether runs requests whose examples fit in one batch of prog in one
// run, each request's rows after the previous one's, and gives each its
// outputs.
func runTogether(prog *Program, batch []*request) {
	m := prog.model
	outSize := m.OutSize()
	for k, t := range prog.Inputs {
		in := m.InSize(k)
		at := 0
		for i, r := range batch {
			if err := setRowsAt(t, at, r.xs[k][:r.n*in], i == len(batch)-1); err != nil {
				for _, r := range batch {
					r.err = err
				}
				return
			}
			at += r.n * in
		}
	}
	if err := prog.Run(); err != nil {
		for _, r := range batch {
			r.err = errors.Wrap(err, "predict")
		}
		return
	}
	y := prog.Output()
	row := 0
	for _, r := range batch {
		r.out = make([]float64, r.n*outSize)
		if y.Dtype() == tensor.Float32 {
			for i, v := range y.Float32s()[row*outSize : (row+r.n)*outSize] {
				r.out[i] = float64(v)
			}
		} else {
			copy(r.out, y.Float64s()[row*outSize:])
		}
		row += r.n
	}
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

// setRowsAt copies src into t (float32 or float64) from element at on, and
// with last set zeroes what follows. (Float32s and Float64s do not
// allocate, as t.Data() does.)
func setRowsAt(t *tensor.Dense, at int, src []float32, last bool) error {
	switch t.Dtype() {
	case tensor.Float32:
		d := t.Float32s()[at:]
		copy(d, src)
		if last {
			clear(d[len(src):])
		}
	case tensor.Float64:
		d := t.Float64s()[at:]
		for i, v := range src {
			d[i] = float64(v)
		}
		if last {
			clear(d[len(src):])
		}
	default:
		return errors.Errorf("unsupported dtype %v", t.Dtype())
	}
	return nil
}
