package bench

import (
	"context"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// measurement is one repeat of a workload.
type measurement struct {
	samplesPerSec float64
	// stepSeconds holds the duration of each timed step.
	stepSeconds   []float64
	allocsPerStep float64
	bytesPerStep  float64
}

// measure builds a fresh model of arch and its training program, takes one
// step to allocate the gradients and the optimizer's state, warmup more
// steps, then times steps steps. A step is what train.Trainer.Fit does per
// batch (Trainer.TrainBatch): write the next MNIST batch into the program's
// X and Y, run the graph, and step the optimizer. Allocations are the
// runtime.MemStats deltas over the timed steps, after a garbage collection.
func measure(ctx context.Context, arch graph.Arch, oc optim.Config, batch int, data *mnist.Dataset, seed uint64, warmup, steps int) (measurement, error) {
	var m measurement
	// The previous repeat's model is garbage now: return its memory, so
	// that the peak RSS is one model's, not the sum of the repeats'.
	debug.FreeOSMemory()
	// One seed, three streams, as cmd/train draws them (Determinism in docs/DESIGN.md).
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return m, err
	}
	opt, err := optim.New(oc)
	if err != nil {
		return m, err
	}
	lr := opt.Config().LR
	// Seed's streams (seed, 2) and (seed, 3) order the examples and draw
	// the dropout masks, as in cmd/train.
	tr, err := train.New(model, opt, train.Config{Batch: batch, Seed: seed})
	if err != nil {
		return m, err
	}
	defer tr.Close()
	batches, err := mnist.NewBatches(data, batch, true)
	if err != nil {
		return m, err
	}
	shuffle := rand.New(rand.NewPCG(seed, 2))
	next := 0
	batches.Shuffle(shuffle)
	step := func() error {
		if next == batches.Len() {
			batches.Shuffle(shuffle)
			next = 0
		}
		_, err := tr.TrainBatch(batches, next, lr)
		next++
		return err
	}

	for i := 0; i < 1+warmup; i++ {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		if err := step(); err != nil {
			return m, errors.Wrapf(err, "warm-up step %d", i+1)
		}
	}
	m.stepSeconds = make([]float64, steps)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	began := time.Now()
	for i := range steps {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		t := time.Now()
		if err := step(); err != nil {
			return m, errors.Wrapf(err, "timed step %d", i+1)
		}
		m.stepSeconds[i] = time.Since(t).Seconds()
	}
	wall := time.Since(began).Seconds()
	runtime.ReadMemStats(&after)
	m.samplesPerSec = float64(steps*batch) / wall
	m.allocsPerStep = float64(after.Mallocs-before.Mallocs) / float64(steps)
	m.bytesPerStep = float64(after.TotalAlloc-before.TotalAlloc) / float64(steps)
	return m, nil
}
