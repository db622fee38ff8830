package checkpoint_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
)

// forgetful is a layer of a user's whose UnmarshalJSON does not read what
// its MarshalJSON writes: its checkpoint could never be loaded again.
type forgetful struct{ Scale float64 }

func (forgetful) Params() []graph.ParamSpec                              { return nil }
func (forgetful) OutShape(in []int) ([]int, error)                       { return in, nil }
func (f forgetful) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) { return x, nil }
func (f forgetful) MarshalJSON() ([]byte, error) {
	return []byte(`{"scale":` + strconv.FormatFloat(f.Scale, 'g', -1, 64) + `}`), nil
}
func (f *forgetful) UnmarshalJSON(b []byte) error {
	return nil // forgets the scale
}

func init() { graph.RegisterLayer("test_forgetful", forgetful{}) }

// TestSaveRefusesAnArchitectureThatDoesNotReadBack: the file is not
// written, and what was at the path is kept.
func TestSaveRefusesAnArchitectureThatDoesNotReadBack(t *testing.T) {
	m, err := graph.NewModel(graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc", In: 2, Out: 1}, forgetful{Scale: 3}), InShape: []int{2}, Loss: graph.MSE{}},
		graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.New(m, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = ck.Save(path, tensor.Float32)
	if err == nil || !strings.Contains(err.Error(), "does not read back from its specification") {
		t.Fatalf("Save: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "previous" {
		t.Errorf("the file at the path became %q", b)
	}
}
