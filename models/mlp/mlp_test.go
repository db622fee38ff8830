package mlp

import (
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/graph"
)

func TestDefaultIsKerasMNISTMLP(t *testing.T) {
	arch, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	total := 0
	for _, p := range arch.Net.Params() {
		names = append(names, p.Name)
		n := 1
		for _, d := range p.Shape {
			n *= d
		}
		total += n
	}
	// 784·512+512 + 512·512+512 + 512·10+10 = 669,706 (Keras mnist_mlp's summary).
	if total != 669706 {
		t.Errorf("%d parameters, want 669706", total)
	}
	want := "fc1.weight fc1.bias fc2.weight fc2.bias fc3.weight fc3.bias"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("parameters %q, want %q", got, want)
	}
	drops := 0
	for _, l := range arch.Net.(graph.Sequential).Layers {
		if d, ok := l.(graph.Dropout); ok {
			drops++
			if d.P != 0.2 {
				t.Errorf("dropout %v, want 0.2", d.P)
			}
		}
	}
	if drops != 2 {
		t.Errorf("%d dropout layers, want 2", drops)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Hidden: []int{512, 0}}, "hidden layer 1 has size 0"},
		{Config{Activation: "mish"}, `unknown activation "mish"`},
		{Config{Dropout: 1}, "dropout 1 must be in [0, 1)"},
		{Config{Dropout: -0.1}, "dropout -0.1"},
		{Config{Outputs: 1}, "at least 2 classes"},
		{Config{Outputs: -1}, "outputs -1"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", c.cfg, err, c.want)
		}
	}
	arch, err := New(Config{Hidden: []int{}, NoDropout: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(arch.Net.(graph.Sequential).Layers); n != 1 {
		t.Errorf("logistic regression has %d layers, want 1", n)
	}
}
