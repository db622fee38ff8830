// Command residual trains a network that is not a chain: residual blocks of
// LayerNorm → Dense → GELU → Dense with a skip connection around each, on
// points inside or outside a circle (a boundary no linear model draws).
//
//	go run ./examples/residual
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

func main() {
	if err := run(os.Stdout, 40); err != nil {
		log.Fatal(err)
	}
}

// block is one residual block of width w: x + Dense(GELU(Dense(LayerNorm(x)))).
func block(name string, w int) graph.Layer {
	return graph.Residual{Body: graph.NewSequential(
		graph.LayerNorm{Name: name + ".norm", Features: w},
		graph.Dense{Name: name + ".fc1", In: w, Out: 2 * w}, graph.GELU{},
		graph.Dense{Name: name + ".fc2", In: 2 * w, Out: w})}
}

// circle returns n points of [−1, 1]², labelled 1 inside the circle of
// radius 0.7.
func circle(rng *rand.Rand, n int) (*datasets.Dataset, error) {
	x, labels := make([]float32, 2*n), make([]int, n)
	for i := range labels {
		a, b := 2*rng.Float64()-1, 2*rng.Float64()-1
		x[2*i], x[2*i+1] = float32(a), float32(b)
		if a*a+b*b < 0.49 {
			labels[i] = 1
		}
	}
	return datasets.New(x, []int{2}, labels)
}

func run(w io.Writer, epochs int) error {
	net := graph.NewSequential(
		graph.Dense{Name: "in", In: 2, Out: 16},
		block("block1", 16), block("block2", 16),
		graph.Dense{Name: "out", In: 16, Out: 2})
	model, err := graph.NewModel(graph.Arch{Net: net, InShape: []int{2}}, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return err
	}
	opt, err := optim.New(optim.Config{Name: "adamw", LR: 3e-3})
	if err != nil {
		return err
	}
	sched, err := optim.NewSchedule(optim.ScheduleConfig{Name: "cosine", Epochs: epochs, WarmupSteps: 50})
	if err != nil {
		return err
	}
	trainer, err := train.New(model, opt, train.Config{Batch: 64, Epochs: epochs, Seed: 1, Schedule: sched})
	if err != nil {
		return err
	}
	defer trainer.Close()
	rng := rand.New(rand.NewPCG(3, 0))
	trainSet, err := circle(rng, 2000)
	if err != nil {
		return err
	}
	valSet, err := circle(rng, 500)
	if err != nil {
		return err
	}
	batches, err := trainSet.Batches(64, false)
	if err != nil {
		return err
	}
	val, err := valSet.Batches(250, false)
	if err != nil {
		return err
	}
	if err := trainer.Fit(context.Background(), batches, val); err != nil {
		return err
	}
	h := trainer.History()
	fmt.Fprintf(w, "%d parameters; validation accuracy %.2f%% after %d epochs\n", model.Params.Count(), 100*h[len(h)-1].Val["accuracy"], len(h))
	return nil
}
