package cnn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
)

// gradTol is graph's tolerance for gradient checks in float64 (see
// graph/gradcheck_test.go for why 1e-6).
const gradTol = 1e-6

func TestPresets(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		params int
		names  string
		flat   int
	}{
		// conv1 32·1·3·3+32 = 320, conv2 64·32·3·3+64 = 18,496,
		// fc1 9216·128+128 = 1,179,776, fc2 128·10+10 = 1,290:
		// 1,199,882, as PyTorch counts pytorch/examples' mnist Net.
		{"default", Default(), 1199882,
			"conv1.weight conv1.bias conv2.weight conv2.bias fc1.weight fc1.bias fc2.weight fc2.bias", 9216},
		// conv1 6·1·5·5+6 = 156, conv2 16·6·5·5+16 = 2,416,
		// fc1 400·120+120 = 48,120, fc2 120·84+84 = 10,164,
		// fc3 84·10+10 = 850: 61,706.
		{"lenet5", LeNet5(), 61706,
			"conv1.weight conv1.bias conv2.weight conv2.bias fc1.weight fc1.bias fc2.weight fc2.bias fc3.weight fc3.bias", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			arch, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if n := model.Params.Count(); n != c.params {
				t.Errorf("%d parameters, want %d", n, c.params)
			}
			if got := strings.Join(model.Params.Names(), " "); got != c.names {
				t.Errorf("parameters %q, want %q", got, c.names)
			}
			var fc1 graph.Dense
			for _, l := range arch.Net.(graph.Sequential).Layers {
				if d, ok := l.(graph.Dense); ok && d.Name == "fc1" {
					fc1 = d
				}
			}
			if fc1.In != c.flat {
				t.Errorf("fc1 takes %d inputs, want the flattened %d", fc1.In, c.flat)
			}
			if out, _ := arch.OutShape(); len(arch.InShape) != 3 || arch.InShape[0] != 1 || arch.InShape[1] != 28 || len(out) != 1 || out[0] != 10 {
				t.Errorf("arch %v → %v, want [1 28 28] → [10]", arch.InShape, out)
			}
		})
	}
}

// TestDefaultLayers checks the layer order of pytorch/examples' Net.
func TestDefaultLayers(t *testing.T) {
	arch, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range arch.Net.(graph.Sequential).Layers {
		switch v := l.(type) {
		case graph.Conv2D:
			got = append(got, v.Name)
		case graph.Dense:
			got = append(got, v.Name)
		case graph.Dropout:
			got = append(got, fmt.Sprintf("%s(%v)", v.Name, v.P))
		case graph.MaxPool2D:
			got = append(got, fmt.Sprintf("maxpool%d", v.Kernel[0]))
		default:
			got = append(got, fmt.Sprintf("%T", l))
		}
	}
	want := "conv1 graph.ReLU conv2 graph.ReLU maxpool2 dropout1(0.25) graph.Flatten fc1 graph.ReLU dropout2(0.5) fc2"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("layers\n%s\nwant\n%s", s, want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		// 28 → 26 → pool 13 → 11 → pool 5 → 3, then a 5×5 kernel.
		{Config{Blocks: []Block{{Out: 32, Pool: "max"}, {Out: 64, Pool: "max"}, {Out: 64, Kernel: 3}, {Out: 64, Kernel: 5}}},
			"cnn: block 4: 64×3×3 input is smaller than the 5×5 kernel"},
		{Config{InShape: [3]int{1, 4, 4}, Blocks: []Block{{Out: 8, Kernel: 7, Pad: 1}}},
			"cnn: block 1: 1×4×4 input padded by 1 is smaller than the 7×7 kernel"},
		{Config{InShape: [3]int{3, 5, 5}, Blocks: []Block{{Out: 8, Pool: "max", PoolSize: 4}}},
			"cnn: block 1: the convolution's 8×3×3 output is smaller than the 4×4 max pool"},
		{Config{Blocks: []Block{{Out: 8}, {Out: 0}}}, "cnn: block 2: 0 output channels"},
		{Config{Blocks: []Block{{Out: 8, Pool: "min"}}}, `cnn: block 1: pool "min"`},
		{Config{Blocks: []Block{{Out: 8, Activation: "mish"}}}, `cnn: block 1: unknown activation "mish"`},
		{Config{Blocks: []Block{{Out: 8, Dropout: 1}}}, "cnn: block 1: dropout 1 must be in [0, 1)"},
		{Config{Blocks: []Block{{Out: 8, Stride: -1}}}, "cnn: block 1: kernel 3, stride -1"},
		{Config{}, "cnn: no convolution blocks"},
		{Config{Blocks: []Block{{Out: 8}}, Dense: []int{0}}, "cnn: dense layer 1 has size 0"},
		{Config{Blocks: []Block{{Out: 8}}, DenseDropout: -0.5}, "cnn: dense dropout -0.5"},
		{Config{Blocks: []Block{{Out: 8}}, Outputs: 1}, "at least 2 classes"},
		{Config{InShape: [3]int{0, 28, 28}, Blocks: []Block{{Out: 8}}}, "cnn: input shape 0×28×28"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
}

// TestGradientsEndToEnd checks the gradient of a tiny CNN with every kind of
// layer: convolution with padding, batch norm in training mode, ReLU and
// tanh, max and average pooling, dropout, flatten and dense.
func TestGradientsEndToEnd(t *testing.T) {
	cfg := Config{
		InShape: [3]int{2, 7, 7},
		Blocks: []Block{
			// 2×7×7 → conv pad 1 → 3×7×7 → max pool 2 → 3×3×3
			{Out: 3, Pad: 1, BatchNorm: true, Pool: "max", Dropout: 0.25},
			// → conv 2×2 → 2×2×2 → avg pool 2 → 2×1×1
			{Out: 2, Kernel: 2, Activation: "tanh", Pool: "avg"},
		},
		Dense:   []int{4},
		Outputs: 3,
	}
	arch, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := graph.CheckLayer(arch.Net, arch.InShape, 2, true, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > gradTol || res.Checked == 0 {
		t.Errorf("gradient mismatch %.3g > %g at %s (%d checked)", res.MaxRelErr, gradTol, res.Worst, res.Checked)
	}
}

// TestSameSeedSameLosses trains a small CNN for a few Adam steps twice from
// the same seeds and requires the same losses to the bit; a third run from
// another seed must differ.
func TestSameSeedSameLosses(t *testing.T) {
	cfg := Config{
		InShape: [3]int{1, 10, 10},
		Blocks: []Block{
			{Out: 4, BatchNorm: true, Pool: "max", Dropout: 0.25},
			{Out: 6, Pool: "avg"},
		},
		Dense: []int{8}, DenseDropout: 0.5, Outputs: 3,
	}
	a := trainLosses(t, cfg, 1)
	b := trainLosses(t, cfg, 1)
	c := trainLosses(t, cfg, 2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: losses %v and %v from the same seed", i, a, b)
		}
	}
	if a[0] == c[0] {
		t.Errorf("seeds 1 and 2 gave the same first loss %v", a[0])
	}
	// Steps on one fixed batch bring its loss down.
	if a[len(a)-1] >= a[0] {
		t.Errorf("losses %v did not decrease", a)
	}
}

func trainLosses(t *testing.T, cfg Config, seed uint64) []float64 {
	t.Helper()
	arch, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const batch = 8
	prog, err := model.Train(batch, rand.New(rand.NewPCG(seed, 2)))
	if err != nil {
		t.Fatal(err)
	}
	fillRandomBatch(prog.X, prog.Y, rand.New(rand.NewPCG(seed, 3)))
	opt, err := optim.New(optim.Config{Name: "adam"})
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	for step := range 4 {
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		losses = append(losses, prog.Loss())
		params, err := prog.Params()
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			if err := opt.Init(params); err != nil {
				t.Fatal(err)
			}
		}
		if err := opt.Step(params, 1e-3); err != nil {
			t.Fatal(err)
		}
	}
	return losses
}

// fillRandomBatch writes uniform [0, 1) pixels into x and one-hot random
// labels into y.
func fillRandomBatch(x, y *tensor.Dense, rng *rand.Rand) {
	xs := x.Data().([]float32)
	for i := range xs {
		xs[i] = rng.Float32()
	}
	ys := y.Data().([]float32)
	clear(ys)
	classes := y.Shape()[1]
	for i := 0; i < y.Shape()[0]; i++ {
		ys[i*classes+rng.IntN(classes)] = 1
	}
}

// LeNet-5's layers and parameter count.
func ExampleNew() {
	arch, err := New(LeNet5())
	if err != nil {
		panic(err)
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	out, _ := arch.Net.OutShape(arch.InShape)
	fmt.Println(model.Params.Count(), out)
	// Output: 61706 [10]
}
