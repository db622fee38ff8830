package graph

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
)

// scaledTanh is a user's own layer: registered by name, it is saved and
// rebuilt like tapestry's.
type scaledTanh struct{ Scale float64 }

func (scaledTanh) Params() []ParamSpec              { return nil }
func (scaledTanh) OutShape(in []int) ([]int, error) { return in, nil }
func (s scaledTanh) Forward(b *Builder, x *G.Node) (*G.Node, error) {
	y, err := G.Tanh(x)
	if err != nil {
		return nil, err
	}
	return G.Mul(y, b.Scalar(s.Scale))
}

func init() { RegisterLayer("test_scaled_tanh", scaledTanh{}) }

func TestArchRoundTripsThroughJSON(t *testing.T) {
	cnn := Arch{Net: NewSequential(
		Conv2D{Name: "conv1", In: 1, Out: 4, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}},
		BatchNorm{Name: "bn1", Features: 4}, ReLU{}, MaxPool2D{Kernel: [2]int{2, 2}},
		Flatten{}, Dropout{Name: "drop", P: 0.25},
		Dense{Name: "fc1", In: 4 * 4 * 4, Out: 8}, scaledTanh{Scale: 2},
		Dense{Name: "fc2", In: 8, Out: 3}), InShape: []int{1, 8, 8}}
	res := Arch{Net: NewSequential(
		Concat{Branches: []Layer{Dense{Name: "a", In: 64, Out: 6}, NewSequential(Dense{Name: "b", In: 64, Out: 2}, Sigmoid{})}},
		Residual{Body: NewSequential(LayerNorm{Name: "ln", Features: 8}, Dense{Name: "fc", In: 8, Out: 8}, LeakyReLU{Alpha: 0.2})},
		Dense{Name: "out", In: 8, Out: 1}, Rescale{Scale: []float64{3}, Shift: []float64{-1}}),
		InShape: []int{64}, Loss: MSE{}}
	two := Arch{Net: NewSequential(Merge{Branches: []Layer{Dense{Name: "l", In: 32, Out: 4}, Dense{Name: "r", In: 32, Out: 4}}, Mode: "add"},
		Tanh{}, Dense{Name: "out", In: 4, Out: 2}), Inputs: []Input{{Name: "left", Shape: []int{32}}, {Name: "right", Shape: []int{32}}}}
	// Every other registered layer, and the other losses.
	rest := Arch{Net: NewSequential(
		Conv2D{Name: "c", In: 2, Out: 4, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}}, GELU{},
		AvgPool2D{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}, SiLU{}, Softplus{}, Identity{},
		GlobalAvgPool2D{}, Reshape{Shape: []int{2, 2}}, Flatten{}, Dense{Name: "o", In: 4, Out: 2}),
		InShape: []int{2, 8, 8}, Loss: Huber{Delta: 0.5}}
	var archs []Arch
	for _, l := range []Loss{MAE{}, SigmoidCrossEntropy{}} {
		a := rest
		a.Loss = l
		archs = append(archs, a)
	}
	for _, arch := range append([]Arch{cnn, res, two, rest}, archs...) {
		roundTrip(t, arch)
	}
}

func roundTrip(t *testing.T, arch Arch) {
	t.Helper()
	b, err := json.Marshal(arch)
	if err != nil {
		t.Fatal(err)
	}
	var back Arch
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	again, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) {
		t.Errorf("round trip changed the spec:\n%s\n%s", b, again)
	}
	// The rebuilt architecture computes the same function.
	m1, err := NewModel(arch, Float64, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := NewModel(back, Float64, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range m1.Params.Names() {
		if err := m2.Params.Set(name, m1.Params.Float64s(name)); err != nil {
			t.Fatal(err)
		}
	}
	var xs [][]float32
	for range m1.Arch.Inputs {
		x := make([]float32, 2*64)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		xs = append(xs, x)
	}
	y1, err := m1.PredictN(xs)
	if err != nil {
		t.Fatal(err)
	}
	y2, err := m2.PredictN(xs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y1 {
		if y1[i] != y2[i] {
			t.Fatalf("output %d: %v vs %v", i, y1[i], y2[i])
		}
	}
}

func TestSpecErrors(t *testing.T) {
	type unregistered struct{ ReLU }
	if _, err := json.Marshal(Arch{Net: NewSequential(unregistered{}), InShape: []int{3}, Loss: MSE{}}); err == nil ||
		!strings.Contains(err.Error(), "not registered") || !strings.Contains(err.Error(), "RegisterLayer") {
		t.Errorf("unregistered layer: %v", err)
	}
	for _, c := range []struct{ spec, want string }{
		{`{"inputs":[{"name":"x","shape":[3]}],"net":{"type":"nonesuch"},"loss":{"type":"mse"}}`, `unknown layer type "nonesuch"`},
		{`{"inputs":[{"name":"x","shape":[3]}],"net":{"type":"dense","config":{"Name":"fc","In":3,"Out":1,"Extra":1}},"loss":{"type":"mse"}}`, `unknown field "Extra"`},
		{`{"inputs":[{"name":"x","shape":[4]}],"net":{"type":"dense","config":{"Name":"fc","In":3,"Out":1}},"loss":{"type":"mse"}}`, `expects input [3]`},
		{`{"inputs":[{"name":"x","shape":[3]}],"net":{"type":"relu"},"loss":{"type":"huberish"}}`, `unknown loss type "huberish"`},
	} {
		var a Arch
		if err := json.Unmarshal([]byte(c.spec), &a); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.spec, err, c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	RegisterLayer("dense", scaledTanh{})
}
