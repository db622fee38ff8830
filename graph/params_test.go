package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestParamsAdd(t *testing.T) {
	p := NewParams(Float32)
	if _, err := p.Add(ParamSpec{Name: "fc1.weight", Shape: []int{3, 2}, Init: GlorotUniform{}}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec ParamSpec
		want string
	}{
		{ParamSpec{Name: "fc1.weight", Shape: []int{3, 2}}, "declared twice"},
		{ParamSpec{Name: "", Shape: []int{1}}, "no name"},
		{ParamSpec{Name: "z", Shape: []int{2, 0}}, "dimension <= 0"},
		{ParamSpec{Name: "s"}, "no shape"},
	} {
		if _, err := p.Add(c.spec, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Add(%+v) = %v, want error containing %q", c.spec, err, c.want)
		}
	}
	if got := p.Names(); len(got) != 1 || got[0] != "fc1.weight" {
		t.Errorf("Names = %v", got)
	}
	if err := p.Set("fc1.weight", []float64{1, 2}); err == nil || !strings.Contains(err.Error(), "fc1.weight") {
		t.Errorf("Set with wrong size: %v", err)
	}
}

func TestFans(t *testing.T) {
	for _, c := range []struct {
		shape       []int
		fanIn, fOut int
	}{
		{[]int{784, 512}, 784, 512},     // dense [in, out]
		{[]int{32, 1, 3, 3}, 9, 288},    // conv [out, in, kH, kW]: in·9, out·9
		{[]int{64, 32, 3, 3}, 288, 576}, // 32·9, 64·9
		{[]int{10}, 10, 10},             // vector
	} {
		in, out := Fans(c.shape)
		if in != c.fanIn || out != c.fOut {
			t.Errorf("Fans(%v) = %d, %d; want %d, %d", c.shape, in, out, c.fanIn, c.fOut)
		}
	}
}

// TestInitializers checks each initializer's range or moments on a large
// tensor against its formula, and that the same seed gives the same values.
func TestInitializers(t *testing.T) {
	const fanIn, fanOut = 400, 200
	for _, c := range []struct {
		name    string
		init    Initializer
		bound   float64 // 0: unbounded
		wantStd float64
	}{
		{"glorot-uniform", GlorotUniform{}, math.Sqrt(6.0 / 600), math.Sqrt(6.0/600) / math.Sqrt(3)},
		{"glorot-normal", GlorotNormal{}, 0, math.Sqrt(2.0 / 600)},
		{"he-uniform", HeUniform{}, math.Sqrt(6.0 / 400), math.Sqrt(6.0/400) / math.Sqrt(3)},
		{"he-normal", HeNormal{}, 0, math.Sqrt(2.0 / 400)},
		{"uniform", Uniform{Low: -0.5, High: 0.5}, 0.5, 1 / math.Sqrt(12)},
	} {
		for _, dt := range []tensor.Dtype{Float32, Float64} {
			t.Run(c.name+"/"+dt.String(), func(t *testing.T) {
				a := tensor.New(tensor.Of(dt), tensor.WithShape(fanIn, fanOut))
				b := tensor.New(tensor.Of(dt), tensor.WithShape(fanIn, fanOut))
				if err := c.init.Fill(rand.New(rand.NewPCG(7, 8)), a, fanIn, fanOut); err != nil {
					t.Fatal(err)
				}
				_ = c.init.Fill(rand.New(rand.NewPCG(7, 8)), b, fanIn, fanOut)
				va, vb := toFloat64s(a), toFloat64s(b)
				var sum, sq float64
				for i, v := range va {
					if v != vb[i] {
						t.Fatalf("same seed, different values at %d", i)
					}
					if c.bound > 0 && math.Abs(v) > c.bound {
						t.Fatalf("value %v outside ±%v", v, c.bound)
					}
					sum += v
					sq += v * v
				}
				n := float64(len(va))
				mean := sum / n
				std := math.Sqrt(sq/n - mean*mean)
				// 80,000 draws: the sample std is within 2% of the true
				// one with overwhelming probability.
				if math.Abs(std-c.wantStd) > 0.02*c.wantStd || math.Abs(mean) > 0.05*c.wantStd {
					t.Errorf("mean %.4g std %.4g, want 0 and %.4g", mean, std, c.wantStd)
				}
			})
		}
	}
	z := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))
	_ = Zeros{}.Fill(nil, z, 0, 0)
	_ = Constant{V: 2.5}.Fill(nil, z, 0, 0)
	for _, v := range z.Data().([]float32) {
		if v != 2.5 {
			t.Fatalf("constant: %v", z.Data())
		}
	}
}
