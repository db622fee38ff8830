package train_test

import (
	"flag"
	"math/rand/v2"
	"testing"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// benchBLAS picks the matrix multiply of the benchmarks: tapestry's (the
// default, as cmd/train) or gonum's, Gorgonia's own
// (go test -bench TrainStep ./train/ -args -bench.blas=gonum).
var benchBLAS = flag.String("bench.blas", "tapestry", "BLAS of the benchmarks: tapestry or gonum")

// One training step (Trainer.TrainBatch: fill, run, optimizer step) of each
// preset with the optimizer and batch size it trains with, on synthetic
// data: a step's cost does not depend on the values (cmd/bench measures on
// MNIST).
func BenchmarkTrainStepMLP(b *testing.B) {
	trainStepBench(b, "mlp", 128, optim.Config{Name: "adam", LR: 1e-3})
}
func BenchmarkTrainStepCNN(b *testing.B) {
	trainStepBench(b, "cnn", 64, optim.Config{Name: "adadelta", LR: 1})
}
func BenchmarkTrainStepLeNet5(b *testing.B) {
	trainStepBench(b, "lenet5", 64, optim.Config{Name: "adam", LR: 1e-3})
}

func trainStepBench(b *testing.B, preset string, batch int, oc optim.Config) {
	if err := blas.Use(*benchBLAS); err != nil {
		b.Fatal(err)
	}
	arch, err := models.Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	opt, err := optim.New(oc)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := train.New(m, opt, train.Config{Batch: batch, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	out, err := arch.OutShape()
	if err != nil {
		b.Fatal(err)
	}
	src := newRandomSource(rand.New(rand.NewPCG(1, 3)), batch, m.InSize(0), out[0])
	// The first step allocates the gradients and the optimizer's state.
	if _, err := tr.TrainBatch(src, 0, oc.LR); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.TrainBatch(src, 0, oc.LR); err != nil {
			b.Fatal(err)
		}
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(batch*b.N)/s, "samples/s")
	}
}
