package bench

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
)

// TestTorchComputesTheSameOutputs exports each preset's weights with
// checkpoint.ExportTorch, loads them into the PyTorch peer's module of the
// same architecture and compares the outputs on 100 real test images: the
// interop's layouts and names, and every op's forward pass, against
// PyTorch's. Every parameter is drawn at random first (biases included,
// which start at zero) so that a transposed or misplaced tensor shows.
// It is skipped where PyTorch is not installed (bench/peers/README.md).
func TestTorchComputesTheSameOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the PyTorch peer")
	}
	ctx := context.Background()
	dir, err := mnist.Locate("")
	if err != nil {
		t.Skip(err)
	}
	peer, err := newTorchPeer(ctx, Config{}.withDefaults(), dir)
	if errors.Is(err, errNoTorch) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	test, err := mnist.Load(dir, "t10k")
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	x := make([]float32, n*mnist.Pixels)
	for i := range n {
		test.Normalized(i, x[i*mnist.Pixels:(i+1)*mnist.Pixels])
	}
	for _, preset := range []string{"mlp", "cnn"} {
		t.Run(preset, func(t *testing.T) {
			arch, err := models.Preset(preset)
			if err != nil {
				t.Fatal(err)
			}
			m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(7, 1)))
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 2))
			for _, name := range m.Params.Names() {
				v := m.Params.Float64s(name)
				scale := 1 / math.Sqrt(float64(len(v)/max(1, m.Params.Get(name).Shape()[0])))
				for i := range v {
					v[i] = rng.NormFloat64() * scale
				}
				if err := m.Params.Set(name, v); err != nil {
					t.Fatal(err)
				}
			}
			weights := filepath.Join(t.TempDir(), preset+".safetensors")
			if err := checkpoint.ExportTorch(m, weights); err != nil {
				t.Fatal(err)
			}
			want, err := peer.outputs(ctx, preset, weights, n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			classes := len(got) / n
			worst, scale := 0.0, 0.0
			for i := range n {
				row := got[i*classes : (i+1)*classes]
				if preset == "cnn" { // the peer's net ends in log_softmax
					row = logSoftmax(row)
				}
				if len(want[i]) != classes {
					t.Fatalf("row %d: PyTorch gave %d outputs, tapestry %d", i, len(want[i]), classes)
				}
				for j, v := range row {
					worst = max(worst, math.Abs(v-want[i][j]))
					scale = max(scale, math.Abs(want[i][j]))
				}
			}
			t.Logf("%s: largest |tapestry − PyTorch| over %d×%d outputs: %.3g (largest |output| %.3g)", preset, n, classes, worst, scale)
			if worst > 1e-4*max(1, scale) {
				t.Errorf("%s: outputs differ from PyTorch's by up to %.3g", preset, worst)
			}
		})
	}
}

// logSoftmax returns the log-probabilities of the logits z, in float64.
func logSoftmax(z []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(v - m)
	}
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = v - m - math.Log(s)
	}
	return out
}
