package checkpoint

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/safetensors"
)

func tinyTorchArch() graph.Arch {
	return graph.Arch{Net: graph.NewSequential(
		graph.Dense{Name: "fc1", In: 3, Out: 2}, graph.ReLU{},
		graph.Dense{Name: "fc2", In: 2, Out: 2}), InShape: []int{3}}
}

// writeTorchFile writes the tensors nn.Linear(3, 2) → ReLU → nn.Linear(2, 2)
// would hold in its state_dict, in PyTorch's [out, in] layout.
func writeTorchFile(t *testing.T, extra ...safetensors.Tensor) string {
	path := filepath.Join(t.TempDir(), "torch.safetensors")
	f := &safetensors.File{Tensors: append([]safetensors.Tensor{
		safetensors.FromFloat32("fc1.weight", []int{2, 3}, []float32{1, 0, -1, 0.5, 0.5, 0.5}),
		safetensors.FromFloat32("fc1.bias", []int{2}, []float32{0, -1}),
		safetensors.FromFloat32("fc2.weight", []int{2, 2}, []float32{1, 2, -1, 1}),
		safetensors.FromFloat32("fc2.bias", []int{2}, []float32{0.5, 0}),
	}, extra...)}
	if err := safetensors.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportTorchKnownWeights loads PyTorch-layout weights and checks the
// logits against a forward pass worked out by hand for x = [1, 2, 3]:
//
//	fc1: W·x + b = [1−3, 0.5·6] + [0, −1] = [−2, 2];  ReLU → [0, 2]
//	fc2: [1·0 + 2·2, −1·0 + 1·2] + [0.5, 0] = [4.5, 2]
//
// softmax([4.5, 2]) = [1/(1+e^−2.5), e^−2.5/(1+e^−2.5)].
func TestImportTorchKnownWeights(t *testing.T) {
	m, err := graph.NewModel(tinyTorchArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := ImportTorch(m, writeTorchFile(t)); err != nil {
		t.Fatal(err)
	}
	p, err := m.Probabilities([]float32{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	want0 := 1 / (1 + math.Exp(-2.5))
	if math.Abs(p[0]-want0) > 1e-6 || math.Abs(p[1]-(1-want0)) > 1e-6 {
		t.Errorf("probabilities %v, want [%v %v]", p, want0, 1-want0)
	}
	// Export and re-read: the same PyTorch-layout tensors come back.
	out := filepath.Join(t.TempDir(), "export.safetensors")
	if err := ExportTorch(m, out); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := f.Get("fc1.weight")
	if !ok || !slices.Equal(w.Shape, []int{2, 3}) {
		t.Fatalf("exported fc1.weight: %+v", w.Shape)
	}
	got, _ := w.Float32s()
	for i, v := range []float32{1, 0, -1, 0.5, 0.5, 0.5} {
		if got[i] != v {
			t.Errorf("exported fc1.weight = %v", got)
			break
		}
	}
}

func TestImportTorchErrors(t *testing.T) {
	m, _ := graph.NewModel(tinyTorchArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
	for _, c := range []struct {
		name string
		file func(t *testing.T) string
		want string
	}{
		{"unknown tensor", func(t *testing.T) string {
			return writeTorchFile(t, safetensors.FromFloat32("fc9.bias", []int{1}, []float32{0}))
		}, `tensor "fc9.bias" is not a parameter`},
		{"wrong shape", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			_ = safetensors.WriteFile(path, &safetensors.File{Tensors: []safetensors.Tensor{
				safetensors.FromFloat32("fc1.weight", []int{3, 2}, make([]float32, 6))}})
			return path
		}, "tensor fc1.weight has shape [3 2], the model wants [2 3]"},
		{"missing tensor", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "short.safetensors")
			_ = safetensors.WriteFile(path, &safetensors.File{Tensors: []safetensors.Tensor{
				safetensors.FromFloat32("fc1.bias", []int{2}, make([]float32, 2))}})
			return path
		}, `no tensor "fc1.weight"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := c.file(t)
			err := ImportTorch(m, path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want one containing %q and the path", err, c.want)
			}
		})
	}
}
