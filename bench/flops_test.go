package bench

import (
	"reflect"
	"testing"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
)

func TestFLOPsDefaultMLP(t *testing.T) {
	arch, err := models.Preset("mlp")
	if err != nil {
		t.Fatal(err)
	}
	got, skipped, err := FLOPs(arch, 128)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: the MLP is 784-512-512-10 (models.Preset doc). Per example,
	// the multiply-adds of its three products are 784·512 = 401,408,
	// 512·512 = 262,144 and 512·10 = 5,120, together 668,672; each is 2
	// FLOPs, and a training step does each product 3 times (forward, dX,
	// dW), but the first layer's dX not (its input is the data): 6 · 128 ·
	// 668,672 − 2 · 128 · 401,408 = 513,540,096 − 102,760,448.
	const want = 410_779_648
	if got != want || len(skipped) != 0 {
		t.Errorf("FLOPs(mlp, 128) = %d, skipped %v; want %d, none", got, skipped, want)
	}
}

// unknownLayer is a layer type FLOPs has never heard of.
type unknownLayer struct{ graph.ReLU }

func TestFLOPsLayers(t *testing.T) {
	conv := graph.Conv2D{Name: "c", In: 2, Out: 3, Kernel: [2]int{3, 3}}
	for _, tc := range []struct {
		name    string
		net     graph.Layer
		in      []int
		batch   int
		want    int64
		skipped []string
	}{
		// On the data: 2 · 2·B·In·Out = 2·2·4·5·7 (no input gradient).
		{"dense", graph.Dense{Name: "d", In: 5, Out: 7}, []int{5}, 4, 2 * 2 * 4 * 5 * 7, nil},
		// After another layer, 3 products: 3 · 2·B·In·Out.
		{"dense after relu", graph.NewSequential(graph.ReLU{}, graph.Dense{Name: "d", In: 5, Out: 7}), []int{5}, 4, 3 * 2 * 4 * 5 * 7, nil},
		// A 3×3 kernel on 6×6 leaves 4×4: 2 · 2·B·Out·4·4·In·3·3.
		{"conv", conv, []int{2, 6, 6}, 2, 2 * 2 * 2 * 3 * 4 * 4 * 2 * 3 * 3, nil},
		// Stride 2 and padding 1: (6+2−3)/2+1 = 3, so 3×3 outputs.
		{"strided conv", graph.Conv2D{Name: "c", In: 2, Out: 3, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}},
			[]int{2, 6, 6}, 1, 2 * 2 * 1 * 3 * 3 * 3 * 2 * 3 * 3, nil},
		// Nested containers are walked; the dense layer after the flatten
		// sees 3·4·4 = 48 inputs.
		{"nested", graph.NewSequential(graph.NewSequential(conv, graph.ReLU{}), graph.Flatten{},
			graph.Dense{Name: "d", In: 48, Out: 2}), []int{2, 6, 6}, 1,
			2*2*1*3*4*4*2*3*3 + 3*2*1*48*2, nil},
		{"elementwise counts 0", graph.NewSequential(graph.ReLU{}, graph.Dropout{Name: "x", P: 0.5}), []int{5}, 3, 0, nil},
		{"unknown counts 0", graph.NewSequential(unknownLayer{}, graph.Dense{Name: "d", In: 5, Out: 1}), []int{5}, 1,
			3 * 2 * 5, []string{"bench.unknownLayer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, skipped, err := FLOPs(graph.Arch{Net: tc.net, InShape: tc.in}, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || !reflect.DeepEqual(skipped, tc.skipped) {
				t.Errorf("FLOPs = %d, skipped %v; want %d, %v", got, skipped, tc.want, tc.skipped)
			}
		})
	}
}

func TestFLOPsErrors(t *testing.T) {
	dense := graph.Dense{Name: "d", In: 5, Out: 7}
	for _, tc := range []struct {
		name  string
		arch  graph.Arch
		batch int
	}{
		{"zero batch", graph.Arch{Net: dense, InShape: []int{5}}, 0},
		{"no network", graph.Arch{InShape: []int{5}}, 1},
		{"shape mismatch", graph.Arch{Net: dense, InShape: []int{6}}, 1},
	} {
		if _, _, err := FLOPs(tc.arch, tc.batch); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
