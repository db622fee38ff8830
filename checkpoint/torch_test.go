package checkpoint

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

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
		}, `tensor "fc1.weight" has shape [3 2], the model wants [2 3]`},
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

// TestImportTorchRefusesNonFinite checks that a PyTorch file whose weights are
// NaN or infinite (or, for a float32 model, an F64 value past float32's
// range) is an error naming the file and the tensor. Such weights made
// cmd/train -eval report "test accuracy: 9.80%" and exit 0: every logit NaN,
// every argmax class 0.
func TestImportTorchRefusesNonFinite(t *testing.T) {
	f16Inf := safetensors.Tensor{Name: "fc2.bias", DType: safetensors.F16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0x7c}} // 1, +Inf
	for _, c := range []struct {
		name  string
		bad   safetensors.Tensor
		model tensor.Dtype
		want  string
	}{
		{"NaN", safetensors.FromFloat32("fc1.bias", []int{2}, []float32{0, float32(math.NaN())}), graph.Float32,
			`tensor "fc1.bias" holds NaN at index 1: weights must be finite`},
		{"+Inf", safetensors.FromFloat32("fc1.weight", []int{2, 3}, []float32{1, 2, 3, 4, float32(math.Inf(1)), 6}), graph.Float32,
			`tensor "fc1.weight" holds +Inf at index 4`},
		{"-Inf F64", safetensors.FromFloat64("fc2.weight", []int{2, 2}, []float64{math.Inf(-1), 0, 0, 0}), graph.Float64,
			`tensor "fc2.weight" holds -Inf at index 0`},
		{"+Inf F16", f16Inf, graph.Float32, `tensor "fc2.bias" holds +Inf at index 1`},
		{"F64 past float32", safetensors.FromFloat64("fc2.bias", []int{2}, []float64{1e300, 0}), graph.Float32,
			`tensor "fc2.bias" holds 1e+300 at index 0, beyond float32's range`},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := graph.NewModel(tinyTorchArch(), c.model, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			before := paramValues(m)
			path := writeTorchFile(t)
			f, err := safetensors.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := range f.Tensors {
				if f.Tensors[i].Name == c.bad.Name {
					f.Tensors[i] = c.bad
				}
			}
			if err := safetensors.WriteFile(path, f); err != nil {
				t.Fatal(err)
			}
			err = ImportTorch(m, path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, path, c.want)
			}
			if after := paramValues(m); !slices.EqualFunc(before, after, slices.Equal) {
				t.Errorf("a refused import changed the model")
			}
		})
	}
	// The same weights, an F64 value within float32's range: accepted.
	m, _ := graph.NewModel(tinyTorchArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err := ImportTorch(m, writeTorchFile(t)); err != nil {
		t.Fatal(err)
	}
}

// paramValues copies every parameter of m, in order.
func paramValues(m *graph.Model) [][]float64 {
	var out [][]float64
	for _, name := range m.Params.Names() {
		out = append(out, m.Params.Float64s(name))
	}
	return out
}

// TestImportTorchAllOrNothing checks that every refused import leaves the
// model as it was, even when the tensors before the bad one were good and
// would have loaded.
func TestImportTorchAllOrNothing(t *testing.T) {
	good := func() []safetensors.Tensor {
		f, _ := safetensors.ReadFile(writeTorchFile(t))
		return f.Tensors
	}
	for _, c := range []struct {
		name string
		edit func([]safetensors.Tensor) []safetensors.Tensor
		want string
	}{
		{"unknown last", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.FromFloat32("zz", []int{1}, []float32{0}))
		}, `tensor "zz" is not a parameter`},
		{"missing", func(ts []safetensors.Tensor) []safetensors.Tensor { return without(ts, "fc2.bias") }, `no tensor "fc2.bias"`},
		{"NaN last", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(without(ts, "fc2.bias"), safetensors.FromFloat32("fc2.bias", []int{2}, []float32{float32(math.NaN()), 0}))
		}, "holds NaN"},
		{"a counter of no BatchNorm", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.FromInt64("fc1.num_batches_tracked", []int{}, []int64{0}))
		}, `tensor "fc1.num_batches_tracked" is not a parameter`},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := graph.NewModel(tinyTorchArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
			before := paramValues(m)
			path := filepath.Join(t.TempDir(), "w.safetensors")
			if err := safetensors.WriteFile(path, &safetensors.File{Tensors: c.edit(good())}); err != nil {
				t.Fatal(err)
			}
			if err := ImportTorch(m, path); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if after := paramValues(m); !slices.EqualFunc(before, after, slices.Equal) {
				t.Errorf("a refused import changed the model")
			}
		})
	}
}

// without returns ts without the tensor called name.
func without(ts []safetensors.Tensor, name string) []safetensors.Tensor {
	return slices.DeleteFunc(ts, func(t safetensors.Tensor) bool { return t.Name == name })
}

// TestImportTorchBatchNormCounter checks that an exported BatchNorm's
// num_batches_tracked, PyTorch's counter, is skipped on import.
func TestImportTorchBatchNormCounter(t *testing.T) {
	arch := graph.Arch{Net: graph.NewSequential(
		graph.Dense{Name: "fc1", In: 3, Out: 2}, graph.BatchNorm{Name: "bn1", Features: 2}), InShape: []int{3}}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bn.safetensors")
	if err := ExportTorch(m, path); err != nil {
		t.Fatal(err)
	}
	if f, err := safetensors.ReadFile(path); err != nil {
		t.Fatal(err)
	} else if _, ok := f.Get("bn1.num_batches_tracked"); !ok {
		t.Fatal("no bn1.num_batches_tracked in the export")
	}
	other, _ := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(2, 2)))
	if err := ImportTorch(other, path); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(paramValues(m), paramValues(other), slices.Equal) {
		t.Error("the imported parameters differ from the exported ones")
	}
}

// TestImportTorchErrorsAreShort checks that a tensor name or shape from the
// file is quoted in an error by a short prefix: a 2 MB tensor name once made
// a 2 MB message, and a shape may have thousands of dimensions.
func TestImportTorchErrorsAreShort(t *testing.T) {
	long := strings.Repeat("T", 1<<20)
	dims := make([]int, 5000)
	for i := range dims {
		dims[i] = 1
	}
	dims[0] = 6
	for _, c := range []struct {
		name  string
		extra safetensors.Tensor
		want  string
	}{
		{"long name", safetensors.FromFloat32(long, []int{1}, []float32{0}), `tensor "TTTT`},
		{"many dimensions", safetensors.FromFloat32("fc1.weight", dims, make([]float32, 6)),
			`tensor "fc1.weight" has shape [6 1 1 1 1 1 1 1 … (5000 dimensions)], the model wants [2 3]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := graph.NewModel(tinyTorchArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
			path := filepath.Join(t.TempDir(), "w.safetensors")
			if err := safetensors.WriteFile(path, &safetensors.File{Tensors: []safetensors.Tensor{c.extra}}); err != nil {
				t.Fatal(err)
			}
			err := ImportTorch(m, path)
			if err == nil || !strings.Contains(err.Error(), c.want) || len(err.Error()) > len(path)+200 {
				t.Fatalf("error of %d bytes, want one under %d containing %q: %.300v", len(fmt.Sprint(err)), len(path)+200, c.want, err)
			}
		})
	}
}
