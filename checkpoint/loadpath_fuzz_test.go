package checkpoint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// fuzzFixture is a small model the fuzz target can take to the end of the
// load path: its architecture, a trainer config and data it takes.
type fuzzFixture struct {
	arch graph.Arch
	cfg  train.Config
	src  datasets.Source
	spec string
}

func fuzzFixtures(tb testing.TB) []fuzzFixture {
	rng := rand.New(rand.NewPCG(4, 4))
	source := func(size int) datasets.Source {
		x := make([]float32, 40*size)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		labels := make([]int, 40)
		for i := range labels {
			labels[i] = i % 3
		}
		d, err := datasets.New(x, []int{size}, labels)
		if err != nil {
			tb.Fatal(err)
		}
		b, err := d.Batches(10, false)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	mlp := graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 6, Out: 8}, graph.ReLU{}, graph.Dropout{Name: "d", P: 0.2},
		graph.Dense{Name: "fc2", In: 8, Out: 3}), InShape: []int{6}}
	conv := graph.Arch{Net: graph.NewSequential(graph.Reshape{Shape: []int{1, 6, 6}},
		graph.Conv2D{Name: "c", In: 1, Out: 2, Kernel: [2]int{3, 3}}, graph.ReLU{}, graph.Flatten{},
		graph.Dense{Name: "fc", In: 32, Out: 3}), InShape: []int{36}}
	var out []fuzzFixture
	for _, f := range []fuzzFixture{{arch: mlp, src: source(6)}, {arch: conv, src: source(36)}} {
		f.cfg = train.Config{Batch: 10, Epochs: 3, Seed: 2}
		b, err := json.Marshal(f.arch)
		if err != nil {
			tb.Fatal(err)
		}
		f.spec = string(b)
		out = append(out, f)
	}
	return out
}

// interruptedCheckpoint trains f for a step and a half of epochs and
// returns the bytes of the checkpoint taken inside its second epoch.
func interruptedCheckpoint(tb testing.TB, f fuzzFixture) []byte {
	m, err := graph.NewModel(f.arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		tb.Fatal(err)
	}
	opt, _ := optim.New(optim.Config{Name: "adam"})
	tr, err := train.New(m, opt, f.cfg)
	if err != nil {
		tb.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr.OnStep = func(s train.StepInfo) {
		if s.Epoch == 2 && s.Batch == 2 {
			cancel()
		}
	}
	_ = tr.Fit(ctx, f.src, nil)
	path := filepath.Join(tb.TempDir(), "ck.safetensors")
	if err := tr.Save(path); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzLoadPath takes arbitrary bytes through the whole load path of a
// checkpoint: decode and check (checkpoint.Decode), build the model
// (models.FromCheckpoint), and, for the architecture of one of its
// fixtures, make the trainer, Restore, and take the first step of Fit. It
// must never panic; an error must name the file and be short; and decoding
// and building must allocate no more than a small multiple of the input,
// whatever sizes it declares: its architecture is checked against its
// tensors before anything is allocated for it.
func FuzzLoadPath(f *testing.F) {
	fixtures := fuzzFixtures(f)
	for _, fx := range fixtures {
		good := interruptedCheckpoint(f, fx)
		f.Add(good)
		f.Add(good[:len(good)-3])
	}
	if v1, err := os.ReadFile("testdata/v1-mlp.safetensors"); err == nil {
		f.Add(v1)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "fuzz.safetensors"
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ck, err := checkpoint.Decode(bytes.NewReader(b), int64(len(b)), name)
		var m *graph.Model
		if err == nil {
			m, err = models.FromCheckpoint(ck)
		}
		runtime.ReadMemStats(&after)
		// The float64 copies of float32 data, the decoded copy, the model's
		// float32 tensors and the JSON of the metadata: 64 bytes per input
		// byte is generous.
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 64*uint64(len(b))+4<<20 {
			t.Fatalf("%d input bytes allocated %d bytes", len(b), grown)
		}
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, name) || len(msg) > 2000 {
				t.Fatalf("an error of %d bytes that does not name the file: %.300s", len(msg), msg)
			}
			return
		}
		spec, _ := json.Marshal(m.Arch)
		for _, fx := range fixtures {
			if string(spec) == fx.spec {
				resume(t, fx, m, ck)
			}
		}
	})
}

// resume makes the fixture's trainer for m, restores ck into it and takes
// one step, which loads the optimizer state.
func resume(t *testing.T, fx fuzzFixture, m *graph.Model, ck *checkpoint.Checkpoint) {
	cfg := optim.Config{Name: "adam"}
	if ck.Optimizer != nil {
		cfg = *ck.Optimizer
	}
	opt, err := optim.New(cfg)
	if err != nil {
		return
	}
	tr, err := train.New(m, opt, fx.cfg)
	if err != nil {
		return
	}
	defer tr.Close()
	if err := tr.Restore(ck); err != nil {
		if !strings.Contains(err.Error(), "fuzz.safetensors") {
			t.Fatalf("a restore error that does not name the file: %.300s", err)
		}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = tr.Fit(ctx, fx.src, nil)
}

// TestLoadPathSeedsResume: FuzzLoadPath's good seeds go the whole way, so
// that the fuzzer starts from inputs that reach Restore and Fit.
func TestLoadPathSeedsResume(t *testing.T) {
	for _, fx := range fuzzFixtures(t) {
		ck, err := checkpoint.Decode(bytes.NewReader(interruptedCheckpoint(t, fx)), 0, "x")
		if err == nil {
			t.Fatal("a size of 0 accepted")
		}
		b := interruptedCheckpoint(t, fx)
		if ck, err = checkpoint.Decode(bytes.NewReader(b), int64(len(b)), "seed.safetensors"); err != nil {
			t.Fatal(err)
		}
		m, err := models.FromCheckpoint(ck)
		if err != nil {
			t.Fatal(err)
		}
		opt, _ := optim.New(*ck.Optimizer)
		tr, err := train.New(m, opt, fx.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Restore(ck); err != nil {
			t.Fatal(err)
		}
		if p := tr.Position(); p.Epoch != 1 || p.Batch != 2 {
			t.Errorf("restored to %+v, want epoch 1, batch 2", p)
		}
		tr.Close()
	}
}
