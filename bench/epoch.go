package bench

import (
	"context"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// epochVal is the number of training images cmd/train holds out for
// validation by default; an Epoch workload trains on the rest.
const epochVal = 5000

// epochSet returns the images an Epoch workload trains on: data without
// its last epochVal images, as cmd/train splits it (a tenth held out of a
// set too small for that, such as a test's).
func epochSet(data *mnist.Dataset) (*mnist.Dataset, error) {
	val := epochVal
	if data.Len() <= 2*epochVal {
		val = data.Len() / 10
	}
	rest, _, err := data.Split(val)
	return rest, err
}

// epochMeasurement is one repeat of an Epoch workload.
type epochMeasurement struct {
	samplesPerSec float64
	stepSeconds   []float64
	allocsPerStep float64
	bytesPerStep  float64
}

// measureEpoch builds a fresh model and trainer and trains one epoch of
// data in whole batches through train.Trainer.Fit, as cmd/train does
// (without its validation pass, which is not training). samplesPerSec is
// the trainer's own figure for the epoch (train.EpochStats), which counts
// every step, the first included; each step's duration is taken between
// the OnStep calls.
func measureEpoch(ctx context.Context, arch graph.Arch, oc optim.Config, batch int, data *mnist.Dataset, seed uint64) (epochMeasurement, error) {
	var m epochMeasurement
	debug.FreeOSMemory()
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return m, err
	}
	opt, err := optim.New(oc)
	if err != nil {
		return m, err
	}
	tr, err := train.New(model, opt, train.Config{Batch: batch, Epochs: 1, Seed: seed})
	if err != nil {
		return m, err
	}
	defer tr.Close()
	batches, err := mnist.NewBatches(data, batch, true)
	if err != nil {
		return m, err
	}
	m.stepSeconds = make([]float64, 0, batches.Len())
	last := time.Now()
	tr.OnStep = func(train.StepInfo) {
		now := time.Now()
		m.stepSeconds = append(m.stepSeconds, now.Sub(last).Seconds())
		last = now
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	last = time.Now()
	if err := tr.Fit(ctx, batches, nil); err != nil {
		return m, err
	}
	runtime.ReadMemStats(&after)
	steps := float64(batches.Len())
	m.samplesPerSec = tr.History()[0].SamplesPerSec
	m.allocsPerStep = float64(after.Mallocs-before.Mallocs) / steps
	m.bytesPerStep = float64(after.TotalAlloc-before.TotalAlloc) / steps
	return m, nil
}
