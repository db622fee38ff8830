package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"

	G "gorgonia.org/gorgonia"
)

// BenchmarkMLPTrainStep times one training step (forward, backward, Adam
// update) of the default MLP (784-512-512-10, ReLU, dropout 0.2) at batch
// 128 in float32 with tapestry's SGEMM installed: the figure of the "Speed"
// issue, where PyTorch runs the same step at ~22,800 samples/s on 2 cores.
func BenchmarkMLPTrainStep(b *testing.B) {
	prev := blas.Install()
	defer G.Use(prev)
	const batch = 128
	arch, err := mlp.New(mlp.Config{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	opt, err := optim.New(optim.Config{Name: "adam"})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := graph.NewTrainer(m, opt, 1e-3, batch, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Program().Close()
	p := tr.Program()
	rng := rand.New(rand.NewPCG(1, 3))
	x, y := p.X.Float32s(), p.Y.Float32s()
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	classes := len(y) / batch
	labels := make([]int, batch)
	clear(y)
	for i := range labels {
		labels[i] = rng.IntN(classes)
		y[i*classes+labels[i]] = 1
	}
	// The first step allocates the gradients and Adam's moments.
	if _, _, err := tr.Step(labels, 1e-3); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tr.Step(labels, 1e-3); err != nil {
			b.Fatal(err)
		}
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(batch*b.N)/s, "samples/s")
	}
}
