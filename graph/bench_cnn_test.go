package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/cnn"
	"github.com/tapestry-ml/tapestry/optim"

	G "gorgonia.org/gorgonia"
)

// BenchmarkCNNTrainStep times one training step (forward, backward, Adam
// update) of cnn.Default, the pytorch/examples MNIST network, at batch 64 in
// float32 with tapestry's SGEMM installed: PyTorch runs the same step at
// ~1,600 samples/s on 2 cores.
func BenchmarkCNNTrainStep(b *testing.B) {
	prev := blas.Install()
	defer G.Use(prev)
	const batch = 64
	arch, err := cnn.New(cnn.Default())
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
		x[i] = rng.Float32()
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
