package checkpoint

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/safetensors"
)

func smallArch() graph.Arch {
	return graph.Arch{Net: graph.NewSequential(
		graph.Dense{Name: "fc1", In: 6, Out: 8}, graph.ReLU{}, graph.Dropout{Name: "drop1", P: 0.5},
		graph.Dense{Name: "fc2", In: 8, Out: 3}), InShape: []int{6}}
}

// trainedCheckpoint takes three Adam steps on the small model with random
// data and saves it: the optimizer then has state worth saving.
func trainedCheckpoint(t *testing.T) (path string, m *graph.Model, opt optim.Optimizer) {
	t.Helper()
	m, err := graph.NewModel(smallArch(), graph.Float32, rand.New(rand.NewPCG(5, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt, _ = optim.New(optim.Config{Name: "adam"})
	rng := rand.New(rand.NewPCG(5, 2))
	prog, err := m.Train(4, rng)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 3; step++ {
		x, y := prog.X.Data().([]float32), prog.Y.Data().([]float32)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		clear(y)
		for i := 0; i < 4; i++ {
			y[i*3+rng.IntN(3)] = 1
		}
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		params, err := prog.Params()
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(params, 0.01); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(m, opt, 7)
	if err != nil {
		t.Fatal(err)
	}
	c.Meta["note"] = "hello"
	path = filepath.Join(t.TempDir(), "ck.safetensors")
	if err := c.Save(path, graph.Float32); err != nil {
		t.Fatal(err)
	}
	return path, m, opt
}

func TestCheckpointRoundTrip(t *testing.T) {
	path, m, opt := trainedCheckpoint(t)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch != 7 || c.Meta["note"] != "hello" || c.Optimizer == nil || c.Optimizer.Name != "adam" || c.OptState.Steps != 3 {
		t.Fatalf("metadata did not round-trip: epoch %d meta %v opt %+v steps %d", c.Epoch, c.Meta, c.Optimizer, c.OptState.Steps)
	}
	if len(c.OptState.Tensors) != len(opt.State()) || len(opt.State()) == 0 {
		t.Fatalf("%d optimizer tensors saved, optimizer has %d", len(c.OptState.Tensors), len(opt.State()))
	}
	m2, _ := graph.NewModel(smallArch(), graph.Float32, rand.New(rand.NewPCG(99, 1)))
	if err := c.Restore(m2); err != nil {
		t.Fatal(err)
	}
	opt2, _ := optim.New(*c.Optimizer)
	// An optimizer is initialized from the parameters and their gradient
	// tensors, which exist once a training program has run.
	prog, err := m2.Train(4, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	params, err := prog.Params()
	if err != nil {
		t.Fatal(err)
	}
	if err := opt2.Init(params); err != nil {
		t.Fatal(err)
	}
	if err := c.OptState.LoadInto(opt2); err != nil {
		t.Fatal(err)
	}
	if opt2.Steps() != 3 {
		t.Errorf("restored optimizer has %d steps, want 3", opt2.Steps())
	}
	for i, nt := range opt.State() {
		a, b := graph.Float64s(nt.T), graph.Float64s(opt2.State()[i].T)
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s[%d]: %v restored as %v", nt.Name, j, a[j], b[j])
			}
		}
	}
	for _, name := range m.Params.Names() {
		a, b := m.Params.Float64s(name), m2.Params.Float64s(name)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: %v restored as %v", name, i, a[i], b[i])
			}
		}
	}
}

// TestCheckpointDamage: each kind of damage is a clear error, never a panic
// or a silently wrong model.
func TestCheckpointDamage(t *testing.T) {
	path, _, _ := trainedCheckpoint(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(t *testing.T, edit func(f *safetensors.File)) string {
		g, _ := safetensors.ReadFile(path)
		edit(g)
		p := filepath.Join(t.TempDir(), "edited.safetensors")
		if err := safetensors.WriteFile(p, g); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw := func(t *testing.T, b []byte) string {
		p := filepath.Join(t.TempDir(), "raw.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		file func(t *testing.T) string
		want string
	}{
		{"truncated", func(t *testing.T) string { return raw(t, good[:len(good)-10]) }, ""},
		{"flipped byte", func(t *testing.T) string {
			b := append([]byte(nil), good...)
			b[len(b)-5] ^= 0x40
			return raw(t, b)
		}, "digest mismatch"},
		{"edited metadata", func(t *testing.T) string {
			return rewrite(t, func(f *safetensors.File) { f.Metadata["note"] = "edited" })
		}, "digest mismatch"},
		{"edited architecture", func(t *testing.T) string {
			return rewrite(t, func(f *safetensors.File) {
				f.Metadata["arch.spec"] = strings.Replace(f.Metadata["arch.spec"], `"Out":8`, `"Out":9`, 1)
			})
		}, "digest mismatch"},
		{"unknown version", func(t *testing.T) string {
			return rewrite(t, func(f *safetensors.File) { f.Metadata["format_version"] = "99" })
		}, "unknown checkpoint format version"},
		{"a huge field is quoted short", func(t *testing.T) string {
			return rewrite(t, func(f *safetensors.File) { f.Metadata["format_version"] = strings.Repeat("9", 1<<20) })
		}, `"9999999999999999999999999999999999999999"…`},
		{"not a checkpoint", func(t *testing.T) string {
			return rewrite(t, func(f *safetensors.File) { delete(f.Metadata, "format") })
		}, "not a tapestry checkpoint"},
		{"missing tensor", func(t *testing.T) string {
			return rewrite(t, func(f *safetensors.File) {
				f.Tensors = f.Tensors[1:]
				f.Metadata["sha256"] = digest(f)
			})
		}, `the architecture declares parameter "fc1.bias" [8], and the file has no such tensor`},
		{"wrong shape", func(t *testing.T) string {
			return rewrite(t, func(f *safetensors.File) {
				for i, ts := range f.Tensors {
					if ts.Name == "fc2.weight" {
						f.Tensors[i] = safetensors.FromFloat32("fc2.weight", []int{3, 8}, make([]float32, 24))
					}
				}
				f.Metadata["sha256"] = digest(f)
			})
		}, `tensor "fc2.weight" has shape [3 8] in the file, the architecture declares [8 3]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.file(t)
			ck, err := Load(p)
			if err == nil {
				m, _ := graph.NewModel(smallArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
				err = ck.Restore(m)
			}
			if err == nil {
				t.Fatal("damaged checkpoint accepted")
			}
			if !strings.Contains(err.Error(), c.want) || len(err.Error()) > 400 {
				t.Errorf("error %.500q, want it to contain %q and be short", err, c.want)
			}
		})
	}
}

// TestFirstFormatStillLoads reads a checkpoint written by the first format
// (testdata/v1-mlp.safetensors, made by tapestry before the architecture
// was saved as a specification): its builder, optimizer state and metadata
// come back; models.FromCheckpoint rebuilds its model.
func TestFirstFormatStillLoads(t *testing.T) {
	c, err := Load("testdata/v1-mlp.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if c.Arch != nil || c.Kind != "mlp" || !strings.Contains(string(c.Config), `"hidden":[4]`) {
		t.Errorf("arch %v, kind %q, config %s", c.Arch, c.Kind, c.Config)
	}
	if c.Epoch != 1 || c.Optimizer == nil || c.Optimizer.Name != "adam" || c.OptState.Steps != 1 || len(c.OptState.Tensors) != 8 {
		t.Errorf("epoch %d, optimizer %+v, %d steps, %d state tensors", c.Epoch, c.Optimizer, c.OptState.Steps, len(c.OptState.Tensors))
	}
	if _, ok := c.Meta["train.position"]; !ok || len(c.Params) != 4 {
		t.Errorf("meta %v, %d params", c.Meta, len(c.Params))
	}
	// A file of the first format has no architecture to write again.
	if err := c.Save(filepath.Join(t.TempDir(), "again.safetensors"), graph.Float32); err == nil {
		t.Error("saved a checkpoint without an architecture")
	}
}
