package checkpoint

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/graph"
)

// mlpArch is the 784-512-512-10 MLP of the mlp preset, written out: its
// Size is worked out by hand in TestMeasureCounts.
func mlpArch() graph.Arch {
	var layers []graph.Layer
	in := 784
	for i, name := range []string{"fc1", "fc2"} {
		layers = append(layers, graph.Dense{Name: name, In: in, Out: 512}, graph.ReLU{}, graph.Dropout{Name: "drop" + string(rune('1'+i)), P: 0.2})
		in = 512
	}
	layers = append(layers, graph.Dense{Name: "fc3", In: 512, Out: 10})
	return graph.Arch{Net: graph.NewSequential(layers...), InShape: []int{784}}
}

func TestMeasureCounts(t *testing.T) {
	s, err := Measure(mlpArch())
	if err != nil {
		t.Fatal(err)
	}
	// Parameters: 784·512+512 + 512·512+512 + 512·10+10. Activations: the
	// input, then each Dense, ReLU and Dropout output of 512, the last 10.
	if want := (Size{Params: 784*512 + 512 + 512*512 + 512 + 512*10 + 10, Activations: 784 + 6*512 + 10}); s != want {
		t.Errorf("Measure = %+v, want %+v", s, want)
	}
	conv := graph.Arch{Net: graph.NewSequential(graph.Conv2D{Name: "c", In: 1, Out: 4, Kernel: [2]int{3, 3}}), InShape: []int{1, 28, 28}, Loss: graph.MSE{}}
	s, err = Measure(conv)
	if err != nil {
		t.Fatal(err)
	}
	// Output 4×26×26; workspace the larger of 1·3·3·26·26 columns and
	// 4·28·28 wide outputs.
	if want := (Size{Params: 4*9 + 4, Activations: 784 + 4*26*26, Workspace: 1 * 3 * 3 * 26 * 26}); s != want {
		t.Errorf("Measure(conv) = %+v, want %+v", s, want)
	}
}

// TestMeasureRefuses: absurd numbers anywhere in an architecture are
// refused, naming the field, before any arithmetic can overflow.
func TestMeasureRefuses(t *testing.T) {
	seq := func(in []int, ls ...graph.Layer) graph.Arch {
		return graph.Arch{Net: graph.NewSequential(ls...), InShape: in}
	}
	for _, c := range []struct {
		name string
		arch graph.Arch
		want string
	}{
		{"a dense of 2^62 outputs", seq([]int{4}, graph.Dense{Name: "fc", In: 4, Out: 1 << 62}), "net.Layers[0].Out is 4611686018427387904, beyond the ±67108864"},
		{"a negative size", seq([]int{4}, graph.Dense{Name: "fc", In: 4, Out: -1 << 40}), "net.Layers[0].Out is -1099511627776"},
		{"a NaN rate", seq([]int{4}, graph.Dropout{Name: "d", P: math.NaN()}), "net.Layers[0].P is NaN"},
		{"an infinite scale", seq([]int{2}, graph.Rescale{Scale: []float64{1, math.Inf(1)}, Shift: []float64{0, 0}}), "net.Layers[0].Scale[1] is +Inf"},
		{"a huge input", seq([]int{1, 1 << 30, 1 << 30}, graph.Flatten{}), "inputs[0].shape: shape [1 1073741824 1073741824] has a dimension < 1 or more than 67108864 values"},
		{"no input", seq(nil, graph.Flatten{}), "inputs[0].shape is empty"},
		{"a padding that makes a billion values from ten parameters",
			seq([]int{1, 28, 28}, graph.Conv2D{Name: "c", In: 1, Out: 4, Kernel: [2]int{1, 1}, Pad: [2]int{1 << 14, 1 << 14}}),
			"net.Layers[0] output: shape [4 32796 32796] has a dimension < 1 or more than 67108864 values"},
		// 5·5581·8681·49477·1539092 is 4·(2^62+1), 4 modulo 2^64: graph's
		// Reshape compares the wrapped product with its input's 4 values.
		{"a reshape whose product wraps around", seq([]int{4}, graph.Reshape{Shape: []int{5, 5581, 8681, 49477, 1539092}}),
			"net.Layers[0] output: shape [5 5581 8681 49477 1539092] has a dimension < 1"},
		{"a sum of activations past the bound", seq([]int{1 << 25}, graph.ReLU{}, graph.ReLU{}), "net.Layers[1] output: one example's forward pass would hold more than 67108864 values"},
		{"a layer nested in a residual", seq([]int{4}, graph.Residual{Body: graph.Dense{Name: "fc", In: 4, Out: 1 << 40}}), "net.Layers[0].Body.Out is 1099511627776"},
		{"a multi-input network that takes one", graph.Arch{Net: graph.Dense{Name: "fc", In: 4, Out: 2},
			Inputs: []graph.Input{{Name: "a", Shape: []int{4}}, {Name: "b", Shape: []int{4}}}}, "a network of 2 inputs needs a first layer that takes several"},
	} {
		_, err := Measure(c.arch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestCheckAgainstTheTensors: Check holds an architecture to the file's
// tensors, names the tensor, and refuses non-finite values.
func TestCheckAgainstTheTensors(t *testing.T) {
	path, _, _ := trainedCheckpoint(t)
	load := func() *Checkpoint {
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := load().Check(smallArch()); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(c *Checkpoint)
		arch graph.Arch
		want string
	}{
		{"wider layer", nil, graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 6, Out: 9}, graph.Dense{Name: "fc2", In: 9, Out: 3}), InShape: []int{6}},
			`tensor "fc1.weight" has shape [6 8] in the file, the architecture declares [6 9]`},
		{"a missing layer", nil, graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 6, Out: 3}), InShape: []int{6}},
			`tensor "fc1.weight" has shape [6 8] in the file`},
		{"a tensor of no layer", func(c *Checkpoint) { c.Params["fc9.bias"] = ParamValue{Shape: []int{1}, Data: []float64{0}} }, smallArch(),
			`tensor "fc9.bias" is not a parameter of the architecture in arch.spec`},
		{"a NaN weight", func(c *Checkpoint) { c.Params["fc2.weight"].Data[5] = math.NaN() }, smallArch(), `tensor "fc2.weight" holds NaN at index 5`},
		{"fewer values than the shape", func(c *Checkpoint) {
			p := c.Params["fc2.bias"]
			c.Params["fc2.bias"] = ParamValue{Shape: p.Shape, Data: p.Data[:2]}
		}, smallArch(), `tensor "fc2.bias" has 2 values for shape [3]`},
		{"optimizer state of no parameter", func(c *Checkpoint) { c.OptState.Tensors["adam.m/fc7.weight"] = []float64{0} }, smallArch(),
			`tensor "optimizer/adam.m/fc7.weight" is not the optimizer state of a trainable parameter`},
		{"optimizer state of the wrong size", func(c *Checkpoint) { c.OptState.Tensors["adam.m/fc1.bias"] = []float64{0} }, smallArch(),
			`tensor "optimizer/adam.m/fc1.bias" has 1 values, its parameter "fc1.bias" 8`},
		{"an infinite optimizer value", func(c *Checkpoint) { c.OptState.Tensors["adam.v/fc1.bias"][0] = math.Inf(1) }, smallArch(),
			`tensor "optimizer/adam.v/fc1.bias" holds +Inf at index 0`},
		{"a copy of the weights of another shape", func(c *Checkpoint) {
			c.Extra["early_stopping/fc2.bias"] = ParamValue{Shape: []int{4}, Data: make([]float64, 4)}
		}, smallArch(), `tensor "extra/early_stopping/fc2.bias" has shape [4], the parameter "fc2.bias" it copies [3]`},
	} {
		ck := load()
		if c.edit != nil {
			c.edit(ck)
		}
		_, err := ck.Check(c.arch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestFirstFormatMetadataChecked: a file of the first format has its
// recorded classes and input shape held to the rebuilt architecture.
func TestFirstFormatMetadataChecked(t *testing.T) {
	c, err := Load("testdata/v1-mlp.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	arch := graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 6, Out: 4}, graph.ReLU{}, graph.Dropout{Name: "drop1", P: 0.2},
		graph.Dense{Name: "fc2", In: 4, Out: 3}), InShape: []int{6}}
	if _, err := c.Check(arch); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	four := 4
	c.v1Classes = &four
	if _, err := c.Check(arch); err == nil || !strings.Contains(err.Error(), "metadata field arch.classes says 4 classes, the architecture in arch.config outputs [3]") {
		t.Errorf("classes 4 for an output of 3: %v", err)
	}
	c.v1Classes, c.v1InShape = nil, []int{7}
	if _, err := c.Check(arch); err == nil || !strings.Contains(err.Error(), "metadata field arch.in_shape says input [7]") {
		t.Errorf("input [7] for a network of [6]: %v", err)
	}
}

// TestDecodeIsLoad: Decode reads bytes as Load reads the file, naming them.
func TestDecodeIsLoad(t *testing.T) {
	path, _, _ := trainedCheckpoint(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(strings.NewReader(string(b)), int64(len(b)), "bytes.safetensors")
	if err != nil || c.Path != "bytes.safetensors" || c.Epoch != 7 {
		t.Fatalf("Decode: %v, path %q", err, c.Path)
	}
	b[len(b)-2] ^= 1
	if _, err := Decode(strings.NewReader(string(b)), int64(len(b)), "bytes.safetensors"); err == nil || !strings.Contains(err.Error(), "loading checkpoint bytes.safetensors: digest mismatch") {
		t.Errorf("a flipped bit: %v", err)
	}
}
