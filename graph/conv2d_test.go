package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestConv2DGradients(t *testing.T) {
	cases := []struct {
		name  string
		layer Layer
		in    []int
	}{
		{"3x3", Conv2D{Name: "c", In: 2, Out: 3, Kernel: [2]int{3, 3}}, []int{2, 5, 5}},
		{"stride2-pad1", Conv2D{Name: "c", In: 2, Out: 2, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []int{2, 5, 6}},
		{"non-square", Conv2D{Name: "c", In: 1, Out: 2, Kernel: [2]int{2, 3}, Stride: [2]int{1, 2}, Pad: [2]int{0, 1}}, []int{1, 4, 5}},
		{"no-bias", Conv2D{Name: "c", In: 3, Out: 2, Kernel: [2]int{2, 2}, NoBias: true}, []int{3, 4, 4}},
		{"1x1", Conv2D{Name: "c", In: 3, Out: 4, Kernel: [2]int{1, 1}}, []int{3, 3, 2}},
		// Enough channels (8) for the shifted-window form of ops.Conv2D
		// (graph/ops/conv2d_shift.go).
		{"3x3-shifted", Conv2D{Name: "c", In: 8, Out: 2, Kernel: [2]int{3, 2}}, []int{8, 4, 5}},
		{"two-layers", NewSequential(
			Conv2D{Name: "c1", In: 1, Out: 2, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}}, Tanh{},
			Conv2D{Name: "c2", In: 2, Out: 2, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}), []int{1, 4, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Batch 3 splits over the workers unevenly on two or more cores.
			res, err := CheckLayer(c.layer, c.in, 3, true, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol || res.Checked == 0 {
				t.Errorf("gradient mismatch %.3g > %g at %s (%d checked)", res.MaxRelErr, gradTol, res.Worst, res.Checked)
			}
		})
	}
}

// image1to16 is the 1×1×4×4 image with values 1..16 row by row:
//
//	 1  2  3  4
//	 5  6  7  8
//	 9 10 11 12
//	13 14 15 16
var image1to16 = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func TestConv2DForwardByHand(t *testing.T) {
	kernel := []float64{1, 2, 3, 4} // [[1, 2], [3, 4]]
	cases := []struct {
		name   string
		layer  Conv2D
		bias   []float64
		want   []float64
		outHW  [2]int
		dtypes []tensor.Dtype
	}{
		{
			// y[0,0] = 1·1 + 2·2 + 3·5 + 4·6 = 44; moving right adds
			// 1+2+3+4 = 10, moving down adds 4·10 = 40.
			name:  "valid",
			layer: Conv2D{Name: "c", In: 1, Out: 1, Kernel: [2]int{2, 2}, NoBias: true},
			want:  []float64{44, 54, 64, 84, 94, 104, 124, 134, 144},
			outHW: [2]int{3, 3},
		},
		{
			// Same with a bias of 0.5 added to every output.
			name:  "bias",
			layer: Conv2D{Name: "c", In: 1, Out: 1, Kernel: [2]int{2, 2}},
			bias:  []float64{0.5},
			want:  []float64{44.5, 54.5, 64.5, 84.5, 94.5, 104.5, 124.5, 134.5, 144.5},
			outHW: [2]int{3, 3},
		},
		{
			// Stride 2, pad 1: H' = (4 + 2 − 2)/2 + 1 = 3. Window (oh, ow)
			// starts at row 2·oh−1, column 2·ow−1 of the image:
			//   (0,0): 1·4 = 4           (0,1): 2·3 + 3·4 = 18     (0,2): 4·3 = 12
			//   (1,0): 5·2 + 9·4 = 46    (1,1): 6 + 7·2 + 10·3 + 11·4 = 94
			//   (1,2): 8·1 + 12·3 = 44   (2,0): 13·2 = 26
			//   (2,1): 14·1 + 15·2 = 44  (2,2): 16·1 = 16
			name:  "stride2-pad1",
			layer: Conv2D{Name: "c", In: 1, Out: 1, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}, NoBias: true},
			want:  []float64{4, 18, 12, 46, 94, 44, 26, 44, 16},
			outHW: [2]int{3, 3},
		},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{Float32, Float64} {
			t.Run(c.name+"-"+dt.String(), func(t *testing.T) {
				params := NewParams(dt)
				for _, spec := range c.layer.Params() {
					if _, err := params.Add(spec, rand.New(rand.NewPCG(1, 2))); err != nil {
						t.Fatal(err)
					}
				}
				opTestSet(t, params, "c.weight", kernel)
				if c.bias != nil {
					opTestSet(t, params, "c.bias", c.bias)
				}
				got, shape := opTestForward(t, c.layer, params, []int{1, 1, 4, 4}, image1to16, true)
				if want := []int{1, 1, c.outHW[0], c.outHW[1]}; !tensor.Shape(shape).Eq(tensor.Shape(want)) {
					t.Fatalf("output shape %v, want %v", shape, want)
				}
				opTestClose(t, got, c.want, 0)
			})
		}
	}
}

func TestConv2DOutShapeErrors(t *testing.T) {
	for _, c := range []struct {
		layer Conv2D
		in    []int
		want  string
	}{
		{Conv2D{Name: "c", In: 1, Out: 2, Kernel: [2]int{5, 5}}, []int{1, 3, 3}, "conv2d c: 1×3×3 input (padded to 3×3) is smaller than the 5×5 kernel"},
		{Conv2D{Name: "c", In: 2, Out: 2, Kernel: [2]int{3, 3}}, []int{1, 8, 8}, "conv2d c expects input [2, H, W], got [1 8 8]"},
		{Conv2D{Name: "c", In: 1, Out: 2}, []int{1, 8, 8}, "kernel 0×0 must be positive"},
		{Conv2D{Name: "c", In: 1, Out: 2, Kernel: [2]int{3, 3}, Pad: [2]int{-1, 0}}, []int{1, 8, 8}, "padding -1×0"},
	} {
		_, err := c.layer.OutShape(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OutShape(%v) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
	out, err := Conv2D{Name: "c", In: 3, Out: 8, Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Pad: [2]int{1, 0}}.OutShape([]int{3, 7, 5})
	// H' = (7 + 2 − 3)/2 + 1 = 4, W' = (5 − 2)/1 + 1 = 4.
	if err != nil || len(out) != 3 || out[0] != 8 || out[1] != 4 || out[2] != 4 {
		t.Errorf("OutShape = %v, %v; want [8 4 4]", out, err)
	}
}

// TestConv2DDefaultInit checks PyTorch's default bound 1/√fanIn for the
// weight and the bias.
func TestConv2DDefaultInit(t *testing.T) {
	c := Conv2D{Name: "c", In: 4, Out: 16, Kernel: [2]int{3, 3}}
	params := NewParams(Float64)
	for _, spec := range c.Params() {
		if _, err := params.Add(spec, rand.New(rand.NewPCG(3, 4))); err != nil {
			t.Fatal(err)
		}
	}
	bound := 1 / math.Sqrt(4*3*3) // fanIn = In·kH·kW = 36
	for _, name := range []string{"c.weight", "c.bias"} {
		mx := 0.0
		for _, v := range params.Float64s(name) {
			mx = math.Max(mx, math.Abs(v))
		}
		// 576 weights (or 16 biases) from U(−b, b) reach past b/2
		// with probability 1 − 2^−16 at the least.
		if mx > bound || mx < bound/2 {
			t.Errorf("%s: max |v| = %g, want in [%g, %g]", name, mx, bound/2, bound)
		}
	}
}

// opTestForward runs l once on x (of shape [batch, ...]) with params and
// returns its output as float64 with the output's shape.
func opTestForward(t *testing.T, l Layer, params *Params, shape []int, x []float64, training bool) ([]float64, []int) {
	t.Helper()
	b := NewBuilder(params, shape[0], training)
	xn, xt := b.Input("x", shape[1:])
	opTestFill(t, xt, x)
	out, err := l.Forward(b, xn)
	if err != nil {
		t.Fatal(err)
	}
	var v G.Value
	G.Read(out, &v)
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	d, ok := v.(*tensor.Dense)
	if !ok {
		t.Fatalf("output is a %T", v)
	}
	return toFloat64s(d), d.Shape().Clone()
}

func opTestFill(t *testing.T, dst *tensor.Dense, src []float64) {
	t.Helper()
	if dst.Shape().TotalSize() != len(src) {
		t.Fatalf("%d values for shape %v", len(src), dst.Shape())
	}
	switch d := dst.Data().(type) {
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, src)
	}
}

func opTestSet(t *testing.T, p *Params, name string, v []float64) {
	t.Helper()
	if err := p.Set(name, v); err != nil {
		t.Fatal(err)
	}
}

// opTestClose fails unless got and want agree within tol, relative to
// max(1, |want|).
func opTestClose(t *testing.T, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(got[i]) {
			t.Fatalf("value %d: got %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

// TestConv2DSkipsDataInputGradient: a convolution applied to a data input
// (Builder.Input) builds no input-gradient op, one applied to another
// layer's output does.
func TestConv2DSkipsDataInputGradient(t *testing.T) {
	net := NewSequential(
		Conv2D{Name: "c1", In: 1, Out: 2, Kernel: [2]int{3, 3}}, ReLU{},
		Conv2D{Name: "c2", In: 2, Out: 2, Kernel: [2]int{2, 2}})
	params := NewParams(tensor.Float32)
	for _, spec := range net.Params() {
		if _, err := params.Add(spec, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
	}
	b := NewBuilder(params, 2, true)
	xn, _ := b.Input("x", []int{1, 6, 6})
	y, err := net.Forward(b, xn)
	if err != nil {
		t.Fatal(err)
	}
	_, nodes := b.ParamNodes()
	if _, err := G.Grad(G.Must(G.Sum(y)), nodes...); err != nil {
		t.Fatal(err)
	}
	// The ops describe themselves as "Conv2D <name> dx ...".
	var names []string
	for _, n := range b.G.AllNodes() {
		if op := n.Op(); op != nil {
			if f := strings.Fields(op.String()); len(f) > 2 && f[0] == "Conv2D" && f[2] == "dx" {
				names = append(names, f[1])
			}
		}
	}
	if len(names) != 1 || names[0] != "c2" {
		t.Errorf("input-gradient ops for %v, want only c2's", names)
	}
}
