package checkpoint

import (
	"math"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/safetensors"
)

// PyTorch interop. Parameter names are PyTorch's state_dict keys already
// ("fc1.weight", "conv1.bias", "bn1.running_mean"), so the mapping is:
//
//	Dense  X.weight  here [In, Out]        PyTorch nn.Linear [Out, In] (transposed)
//	Dense  X.bias    [Out]                 [Out]
//	Conv2D X.weight  [Out, In, kH, kW]     same
//	Conv2D X.bias    [Out]                 same
//	BatchNorm X.weight, X.bias, X.running_mean, X.running_var  [F], same;
//	PyTorch's X.num_batches_tracked is written as 0 and ignored on import.
//
// A parameter whose ParamSpec has TorchTransposed set is transposed on the
// way in and out; every other tensor is copied as it is.

// ExportTorch writes m's parameters and buffers to path as a float32
// safetensors file in PyTorch's names and layouts, so that
//
//	model.load_state_dict(safetensors.torch.load_file(path))
//
// works on a PyTorch module of the same architecture. The write is atomic.
func ExportTorch(m *graph.Model, path string) error {
	f := &safetensors.File{Metadata: map[string]string{"format": "pt"}}
	for _, name := range m.Params.Names() {
		spec, _ := m.Params.Spec(name)
		t := m.Params.Get(name)
		shape := append([]int(nil), t.Shape()...)
		data := graph.Float64s(t)
		if spec.TorchTransposed {
			data, shape = transpose2D(data, shape)
		}
		d32 := make([]float32, len(data))
		for i, v := range data {
			d32[i] = float32(v)
		}
		f.Tensors = append(f.Tensors, safetensors.FromFloat32(name, shape, d32))
		if base, ok := strings.CutSuffix(name, ".running_var"); ok {
			f.Tensors = append(f.Tensors, safetensors.FromInt64(base+".num_batches_tracked", []int{}, []int64{0}))
		}
	}
	return errors.Wrapf(safetensors.WriteFile(path, f), "exporting PyTorch weights to %s", path)
}

// ImportTorch loads a safetensors file of PyTorch state_dict tensors (F32,
// F64, F16 or BF16) into m. Every parameter of m must be present with
// PyTorch's shape, no unknown tensor may be present and every value must be
// finite (and, for a float32 model, within float32's range); errors name the
// file, the tensor and both shapes. The import is all or nothing: on error
// m is unchanged.
func ImportTorch(m *graph.Model, path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return errors.Wrap(err, "importing PyTorch weights")
	}
	return errors.Wrapf(importTorch(m, f), "importing PyTorch weights from %s", path)
}

func importTorch(m *graph.Model, f *safetensors.File) error {
	// Every tensor is read and checked before any parameter is written.
	vals := map[string][]float64{}
	for _, t := range f.Tensors {
		if base, ok := strings.CutSuffix(t.Name, ".num_batches_tracked"); ok {
			// PyTorch's BatchNorm counter, which nothing here uses; a
			// counter of no BatchNorm is an unknown tensor like any other.
			if _, bn := m.Params.Spec(base + ".running_var"); bn {
				continue
			}
		}
		spec, ok := m.Params.Spec(t.Name)
		if !ok {
			return errors.Errorf("tensor %s is not a parameter of this model", quote(t.Name))
		}
		p := m.Params.Get(t.Name)
		want := append([]int(nil), p.Shape()...)
		if spec.TorchTransposed {
			want[0], want[1] = want[1], want[0]
		}
		if !sameShape(t.Shape, want) {
			return errors.Errorf("tensor %s has shape %s, the model wants %s (PyTorch layout)", quote(t.Name), shortShape(t.Shape), shortShape(want))
		}
		d, err := t.Float64s()
		if err != nil {
			return errors.Wrapf(err, "tensor %s", quote(t.Name))
		}
		if len(d) != p.Shape().TotalSize() {
			return errors.Errorf("tensor %s holds %d values, the model wants %d", quote(t.Name), len(d), p.Shape().TotalSize())
		}
		if err := torchFinite(t.Name, d, p.Dtype() == tensor.Float32); err != nil {
			return err
		}
		if spec.TorchTransposed {
			d, _ = transpose2D(d, t.Shape)
		}
		vals[t.Name] = d
	}
	for _, name := range m.Params.Names() {
		if _, ok := vals[name]; !ok {
			return errors.Errorf("no tensor %s in the file", quote(name))
		}
	}
	// Nothing below can fail: each tensor has the size and a dtype its
	// parameter takes, checked above.
	for name, d := range vals {
		if err := graph.SetFloat64s(m.Params.Get(name), d); err != nil {
			return errors.Wrapf(err, "tensor %s", quote(name))
		}
	}
	return nil
}

// torchFinite returns an error naming the tensor and the index of its first
// NaN or infinity, or if f32 of its first value beyond float32's range (an F64
// tensor's 1e300, which a float32 model would hold as +Inf). A model of such
// weights would compute NaN for every example and, an argmax of NaN being
// class 0, report an accuracy instead of an error.
func torchFinite(name string, d []float64, f32 bool) error {
	for i, v := range d {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return errors.Errorf("tensor %s holds %v at index %d: weights must be finite", quote(name), v, i)
		case f32 && math.IsInf(float64(float32(v)), 0):
			return errors.Errorf("tensor %s holds %v at index %d, beyond float32's range: the model is float32", quote(name), v, i)
		}
	}
	return nil
}

// transpose2D returns the transpose of a row-major [r, c] matrix and its
// shape [c, r].
func transpose2D(d []float64, shape []int) ([]float64, []int) {
	r, c := shape[0], shape[1]
	out := make([]float64, len(d))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = d[i*c+j]
		}
	}
	return out, []int{c, r}
}
