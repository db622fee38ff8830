package checkpoint

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/safetensors"
)

// fuzzCheckpoint returns the bytes of a small valid checkpoint with optimizer
// state.
func fuzzCheckpoint(tb testing.TB) []byte {
	arch := graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 3, Out: 2}), InShape: []int{3}}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		tb.Fatal(err)
	}
	opt, _ := optim.New(optim.Config{Name: "adam"})
	c, _ := New(m, opt, 3)
	c.Meta["train.position"] = `{"epoch":3}`
	path := filepath.Join(tb.TempDir(), "seed.safetensors")
	if err := c.Save(path, graph.Float32); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzCheckpoint feeds arbitrary bytes to the checkpoint reader. It must
// never panic, must reject damaged input with an error, and must not
// allocate more than a small multiple of the input: sizes in the file are
// checked against the file before anything is allocated.
func FuzzCheckpoint(f *testing.F) {
	good := fuzzCheckpoint(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-3] ^= 1
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		sf, err := safetensors.Decode(bytes.NewReader(b), int64(len(b)), "fuzz.safetensors")
		if err != nil {
			return
		}
		c, err := fromFile(sf)
		runtime.ReadMemStats(&after)
		// Float64 copies of float32 data double it, plus the decoded copy
		// and bookkeeping: 64 bytes per input byte is generous.
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 64*uint64(len(b))+1<<20 {
			t.Fatalf("%d input bytes allocated %d bytes", len(b), grown)
		}
		if err != nil {
			return
		}
		// Accepted: restoring into a model of another shape is an error,
		// never a panic.
		arch := graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 3, Out: 2}), InShape: []int{3}}
		m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Restore(m)
	})
}
