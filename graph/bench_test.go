package graph_test

import (
	"flag"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/graph"
)

// benchBLAS picks the matrix multiply of the benchmarks: tapestry's (the
// default, as cmd/train) or gonum's, Gorgonia's own
// (go test -bench . ./graph/ -args -bench.blas=gonum).
var benchBLAS = flag.String("bench.blas", "tapestry", "BLAS of the benchmarks: tapestry or gonum")

func useBenchBLAS(b *testing.B) {
	if err := blas.Use(*benchBLAS); err != nil {
		b.Fatal(err)
	}
}

// Each layer's forward and backward pass at a fixed size. The sizes are the
// layers of the default MLP (Dense 784→512, ReLU and Dropout on 512 units,
// the loss over 10 classes, batch 128) and of the CNN's second block
// (Conv2D 32→64 3×3 on 26×26, then 64 channels of 24×24, batch 64).
func BenchmarkDense784x512(b *testing.B) {
	layerBench(b, 128, []int{784}, 2*128*784*512, graph.Dense{Name: "fc", In: 784, Out: 512})
}
func BenchmarkReLU512(b *testing.B) { layerBench(b, 128, []int{512}, 0, graph.ReLU{}) }
func BenchmarkDropout512(b *testing.B) {
	layerBench(b, 128, []int{512}, 0, graph.Dropout{Name: "drop", P: 0.2})
}
func BenchmarkCrossEntropy10(b *testing.B) { lossBench(b, 128, 10, graph.CrossEntropy{}) }
func BenchmarkConv2D32x64(b *testing.B) {
	layerBench(b, 64, []int{32, 26, 26}, 2*64*64*24*24*32*3*3,
		graph.Conv2D{Name: "conv", In: 32, Out: 64, Kernel: [2]int{3, 3}}, graph.Flatten{})
}
func BenchmarkMaxPool2D64(b *testing.B) {
	layerBench(b, 64, []int{64, 24, 24}, 0, graph.MaxPool2D{Kernel: [2]int{2, 2}}, graph.Flatten{})
}
func BenchmarkBatchNorm2D64(b *testing.B) {
	layerBench(b, 64, []int{64, 24, 24}, 0, graph.BatchNorm{Name: "bn", Features: 64}, graph.Flatten{})
}

// probeName is the parameter that stands in for a benchmarked layer's input.
const probeName = "bench.input"

// probe replaces the network's input by a trainable parameter of the same
// shape, [batch, shape...], so that the symbolic backward pass computes the
// gradient of the layers after it with respect to their input, as it does
// for every layer but the first of a real network. The batch input x is left
// unconnected.
type probe struct {
	batch int
	shape []int
}

func (p probe) Params() []graph.ParamSpec {
	return []graph.ParamSpec{{Name: probeName, Shape: append([]int{p.batch}, p.shape...),
		Init: graph.Uniform{Low: -1, High: 1}}}
}

func (p probe) OutShape(in []int) ([]int, error) { return in, nil }

func (p probe) Forward(b *graph.Builder, _ *G.Node) (*G.Node, error) { return b.Param(probeName) }

// sumLoss is the sum of the outputs: the cheapest scalar to differentiate
// (one reduction forward, one fill of ones backward), so that a layer's own
// cost dominates its benchmark.
type sumLoss struct{}

func (sumLoss) Build(out, _ *G.Node) (*G.Node, error) { return G.Sum(out) }
func (sumLoss) Labels() bool                          { return false }
func (sumLoss) Check([]int) error                     { return nil }

// layerBench times forward and backward of layers applied to a [batch,
// in...] input through a training program, so that Program.Run refills
// dropout masks and runs BatchNorm's statistics update as in training. The
// gradients are not applied (no optimizer). flops, if not zero, is the
// forward pass's floating-point operations; the backward pass of a matrix
// multiply is counted as twice that (dX and dW).
func layerBench(b *testing.B, batch int, in []int, flops float64, layers ...graph.Layer) {
	net := graph.NewSequential(append([]graph.Layer{probe{batch: batch, shape: in}}, layers...)...)
	runBench(b, graph.Arch{Net: net, InShape: in, Loss: sumLoss{}}, batch, flops*3)
}

// lossBench times a loss and its gradient with respect to [batch, classes]
// logits.
func lossBench(b *testing.B, batch, classes int, loss graph.Loss) {
	net := graph.NewSequential(probe{batch: batch, shape: []int{classes}})
	runBench(b, graph.Arch{Net: net, InShape: []int{classes}, Loss: loss}, batch, 0)
}

func runBench(b *testing.B, arch graph.Arch, batch int, flops float64) {
	useBenchBLAS(b)
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	p, err := m.Train(batch, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	fillBatch(p, rand.New(rand.NewPCG(1, 3)))
	if err := p.Run(); err != nil { // the first run allocates the gradients
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Run(); err != nil {
			b.Fatal(err)
		}
	}
	report(b, batch, flops)
}

func report(b *testing.B, batch int, flops float64) {
	s := b.Elapsed().Seconds()
	if s <= 0 {
		return
	}
	b.ReportMetric(float64(batch*b.N)/s, "samples/s")
	if flops > 0 {
		b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
	}
}

// fillBatch fills a float32 training program's X with standard normal
// values and Y with one-hot rows of random classes, and returns the classes.
func fillBatch(p *graph.Program, rng *rand.Rand) []int {
	x, y := p.X.Data().([]float32), p.Y.Data().([]float32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	classes := len(y) / p.Batch
	labels := make([]int, p.Batch)
	clear(y)
	for i := range labels {
		labels[i] = rng.IntN(classes)
		y[i*classes+labels[i]] = 1
	}
	return labels
}

// mlpArch is the default MLP (models.Preset("mlp"): 784-512-512-10, ReLU,
// dropout 0.2), built here because models imports graph.
func mlpArch() graph.Arch {
	net := graph.NewSequential(
		graph.Dense{Name: "fc1", In: 784, Out: 512}, graph.ReLU{}, graph.Dropout{Name: "drop1", P: 0.2},
		graph.Dense{Name: "fc2", In: 512, Out: 512}, graph.ReLU{}, graph.Dropout{Name: "drop2", P: 0.2},
		graph.Dense{Name: "fc3", In: 512, Out: 10})
	return graph.Arch{Net: net, InShape: []int{784}}
}

// mlpFLOPs is the forward pass of the default MLP per example.
const mlpFLOPs = 2 * (784*512 + 512*512 + 512*10)

// Predictions of the default MLP through Model.Predict: one example at a
// time (latency) and 256 (throughput), and one example at a time from 8
// goroutines on one Predictor of batch 8 with a program per processor,
// which runs the waiting requests together
// (go test -bench 'PredictMLP|PredictorMLP' ./graph/; cmd/bench's
// mlp-infer-1, mlp-infer-256 and mlp-serve-8 time the same on MNIST).
func BenchmarkPredictMLP1(b *testing.B)   { predictBench(b, 1) }
func BenchmarkPredictMLP256(b *testing.B) { predictBench(b, 256) }

func predictBench(b *testing.B, batch int) {
	m := benchMLP(b)
	x := normalInputs(batch*784, rand.New(rand.NewPCG(1, 3)))
	if _, err := m.Predict(x); err != nil { // compiles the program
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	report(b, batch, mlpFLOPs*float64(batch))
}

func BenchmarkPredictorMLP1x8(b *testing.B) {
	m := benchMLP(b)
	p, err := graph.NewPredictor(m, callers1x8, runtime.GOMAXPROCS(0))
	if err != nil {
		b.Fatal(err)
	}
	predict1x8(b, p.Predict)
	st := p.Stats()
	b.ReportMetric(float64(st.Examples)/float64(st.Runs), "examples/run")
}

// BenchmarkPredictorMLP1 is BenchmarkPredictMLP1 through a Predictor with
// one caller: what the Predictor's yields cost a caller alone.
func BenchmarkPredictorMLP1(b *testing.B) {
	m := benchMLP(b)
	p, err := graph.NewPredictor(m, callers1x8, runtime.GOMAXPROCS(0))
	if err != nil {
		b.Fatal(err)
	}
	x := normalInputs(784, rand.New(rand.NewPCG(1, 3)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	report(b, 1, mlpFLOPs)
}

// BenchmarkModelPredictMLP1x8 is BenchmarkPredictorMLP1x8 with the 8
// goroutines calling Model.Predict, each call on a pooled program of its
// own: the figure a Predictor's batching is to beat.
func BenchmarkModelPredictMLP1x8(b *testing.B) { predict1x8(b, benchMLP(b).Predict) }

// callers1x8 is the goroutines of the 1x8 benchmarks.
const callers1x8 = 8

// benchMLP is the default MLP with package blas installed.
func benchMLP(b *testing.B) *graph.Model {
	useBenchBLAS(b)
	m, err := graph.NewModel(mlpArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// predict1x8 times predict called with one example at a time by
// callers1x8 goroutines at once.
func predict1x8(b *testing.B, predict func([]float32) ([]float64, error)) {
	x := normalInputs(784, rand.New(rand.NewPCG(1, 3)))
	b.ReportAllocs()
	b.SetParallelism((callers1x8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := predict(x); err != nil {
				b.Error(err)
				return
			}
		}
	})
	report(b, 1, mlpFLOPs)
}

func normalInputs(n int, rng *rand.Rand) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}
