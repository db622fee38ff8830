package models

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
)

// TestFirstFormatCheckpointLoads: a checkpoint of the first format (its
// builder's kind and config; checkpoint/testdata) loads into the model it
// was: the logits of one input are those the writing program printed.
func TestFirstFormatCheckpointLoads(t *testing.T) {
	m, _, err := Load("../checkpoint/testdata/v1-mlp.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict([]float32{1, 2, 3, -1, 0, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{1.22721887, -1.10009623, -1.35968959} {
		if math.Abs(got[i]-want) > 1e-6 {
			t.Errorf("logit %d = %.9g, want %.9g", i, got[i], want)
		}
	}
}

func TestFromConfigErrors(t *testing.T) {
	for _, c := range []struct{ kind, cfg, want string }{
		{"resnet", `{}`, `unknown architecture kind "resnet"`},
		{"mlp", `{"hidden": [512], "widths": 3}`, "unknown field"},
		{"mlp", `{"hidden": [0]}`, "hidden layer 0 has size 0"},
		{"cnn", `{"Blocks": []}`, "cnn"},
	} {
		_, err := FromConfig(c.kind, []byte(c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromConfig(%s, %s) = %v, want an error containing %q", c.kind, c.cfg, err, c.want)
		}
	}
	if _, err := Preset("vgg"); err == nil {
		t.Error("unknown preset accepted")
	}
}

// TestLoadRebuildsEveryPreset: a checkpoint of the current format rebuilds
// its model from the file alone, and the model computes what it did.
func TestLoadRebuildsEveryPreset(t *testing.T) {
	for _, name := range Presets {
		t.Run(name, func(t *testing.T) {
			arch, err := Preset(name)
			if err != nil {
				t.Fatal(err)
			}
			m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(3, 1)))
			if err != nil {
				t.Fatal(err)
			}
			ck, err := checkpoint.New(m, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), name+".safetensors")
			if err := ck.Save(path, graph.Float32); err != nil {
				t.Fatal(err)
			}
			back, _, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, 2*m.InSize(0))
			for i := range x {
				x[i] = float32(i%11)/5 - 1
			}
			want, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			got, err := back.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("output %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}
