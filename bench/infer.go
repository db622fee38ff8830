package bench

import (
	"context"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
)

// inferExamples is how many training images the inference workloads cycle
// through: more than one batch of 256, few enough to normalize at once.
const inferExamples = 2048

// inferInputs returns the first inferExamples images of data (all of them
// if fewer), normalized as training normalizes them, one after the other.
func inferInputs(data *mnist.Dataset) []float32 {
	n := min(inferExamples, data.Len())
	x := make([]float32, n*mnist.Pixels)
	for i := range n {
		data.Normalized(i, x[i*mnist.Pixels:(i+1)*mnist.Pixels])
	}
	return x
}

// inferWarmup is the number of untimed calls each caller makes before its
// timed ones: they compile Model.Predict's program and fill the caches.
func inferWarmup(calls int) int { return max(20, calls/10) }

// inferMeasurement is one repeat of an inference workload.
type inferMeasurement struct {
	// callSeconds holds every timed call of every caller.
	callSeconds   []float64
	samplesPerSec float64
	allocsPerCall float64
	bytesPerCall  float64
	// examplesPerRun is, for several callers, the examples their shared
	// Predictor ran per program run over the timed calls.
	examplesPerRun float64
}

// measureInfer builds a fresh model of arch and times calls predictions of
// batch examples by each of callers goroutines at once, after their
// untimed warm-up calls. One caller calls Model.Predict (the model's pooled
// program); several share one graph.Predictor of predictorBatch examples a
// run with a program per processor, compiled before the clock starts. Every caller starts its timed calls at
// the same moment; samplesPerSec is all their examples over the wall time
// from that moment to the last one's end. Each call is timed alone, from
// the call to its return: copying the input in, running the graph, and the
// output converted to the []float64 Predict returns.
func measureInfer(ctx context.Context, arch graph.Arch, batch, callers, predictorBatch, calls int, inputs []float32, seed uint64) (inferMeasurement, error) {
	var m inferMeasurement
	debug.FreeOSMemory()
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return m, err
	}
	in := model.InSize(0)
	examples := len(inputs) / in
	if batch > examples {
		return m, errors.Errorf("batch %d is more than the %d images to predict", batch, examples)
	}
	predict := model.Predict
	var p *graph.Predictor
	if callers > 1 {
		if p, err = graph.NewPredictor(model, max(batch, predictorBatch), runtime.GOMAXPROCS(0)); err != nil {
			return m, err
		}
		predict = p.Predict
	}
	warmup := inferWarmup(calls)
	lat := make([][]float64, callers)
	errs := make([]error, callers)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(callers)
	done.Add(callers)
	for c := range callers {
		lat[c] = make([]float64, calls)
		go func() {
			defer done.Done()
			errs[c] = predictLoop(ctx, predict, inputs, in, batch, c*(warmup+calls), warmup, lat[c], &ready, start)
		}()
	}
	ready.Wait()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var first graph.PredictorStats
	if p != nil {
		first = p.Stats()
	}
	began := time.Now()
	close(start)
	done.Wait()
	wall := time.Since(began).Seconds()
	runtime.ReadMemStats(&after)
	for _, err := range errs {
		if err != nil {
			return m, err
		}
	}
	total := float64(callers * calls)
	for _, l := range lat {
		m.callSeconds = append(m.callSeconds, l...)
	}
	m.samplesPerSec = total * float64(batch) / wall
	m.allocsPerCall = float64(after.Mallocs-before.Mallocs) / total
	m.bytesPerCall = float64(after.TotalAlloc-before.TotalAlloc) / total
	if p != nil {
		last := p.Stats()
		m.examplesPerRun = float64(last.Examples-first.Examples) / float64(last.Runs-first.Runs)
	}
	return m, nil
}

// predictLoop is one caller: warmup untimed calls, then it signals ready,
// waits for start and times len(lat) calls into lat. Call i predicts the
// batch of examples that starts at example (first+i)·batch, wrapping
// around the inputs.
func predictLoop(ctx context.Context, predict func([]float32) ([]float64, error), inputs []float32, in, batch, first, warmup int,
	lat []float64, ready *sync.WaitGroup, start <-chan struct{}) error {
	examples := len(inputs) / in
	call := func(i int) error {
		lo := ((first + i) * batch) % (examples - batch + 1)
		_, err := predict(inputs[lo*in : (lo+batch)*in])
		return err
	}
	var err error
	for i := 0; i < warmup && err == nil; i++ {
		err = call(i)
	}
	ready.Done()
	<-start
	if err != nil {
		return errors.Wrap(err, "warm-up call")
	}
	for i := range lat {
		if i%64 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		t := time.Now()
		if err := call(warmup + i); err != nil {
			return errors.Wrapf(err, "timed call %d", i+1)
		}
		lat[i] = time.Since(t).Seconds()
	}
	return nil
}
