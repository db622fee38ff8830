package optim

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// gradsOf makes parameters with zero weights and the given gradients.
func gradsOf(dt tensor.Dtype, gs ...[]float64) []Param {
	var ps []Param
	for i, g := range gs {
		p := newParam(dt, fmt.Sprintf("p%d", i), []int{len(g)}, make([]float64, len(g)))
		setData(p.Grad, g)
		ps = append(ps, p)
	}
	return ps
}

func TestGlobalNorm(t *testing.T) {
	cases := []struct {
		name  string
		dt    tensor.Dtype
		grads [][]float64
		want  float64
	}{
		// √(3² + 4² + 12²) = √169 = 13, across two parameters.
		{"f64", tensor.Float64, [][]float64{{3, 4}, {12}}, 13},
		{"f32", tensor.Float32, [][]float64{{3, 4}, {12}}, 13},
		// Squares of 3e200 overflow float64; the scaled path gives 5e200 (3-4-5).
		{"overflow", tensor.Float64, [][]float64{{3e200}, {-4e200}}, 5e200},
		// Nine ones and a 4 (odd length exercises the loop tail): √(9+16) = 5.
		{"tail", tensor.Float32, [][]float64{{1, 1, 1, 1, 1, 1, 1, 1, 1, 4}}, 5},
		{"zero", tensor.Float32, [][]float64{{0, 0}}, 0},
	}
	for _, tc := range cases {
		if got := GlobalNorm(gradsOf(tc.dt, tc.grads...)); !close(got, tc.want, 1e-15) {
			t.Errorf("%s: GlobalNorm = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := GlobalNorm(gradsOf(tensor.Float32, []float64{1}, []float64{math.NaN()})); !math.IsNaN(got) {
		t.Errorf("GlobalNorm with a NaN = %v, want NaN", got)
	}
	if got := GlobalNorm(gradsOf(tensor.Float64, []float64{math.Inf(-1)})); !math.IsInf(got, 1) {
		t.Errorf("GlobalNorm with -Inf = %v, want +Inf", got)
	}
}

func TestClipGlobalNorm(t *testing.T) {
	// Norm 13 (3-4-12); PyTorch's factor is maxNorm/(13 + 1e-6).
	cases := []struct {
		name    string
		maxNorm float64
		want    [][]float64
	}{
		{"halve", 6.5, [][]float64{
			{3 * 6.5 / 13.000001, 4 * 6.5 / 13.000001}, {12 * 6.5 / 13.000001}}},
		{"below threshold", 20, [][]float64{{3, 4}, {12}}},
		// At maxNorm = norm PyTorch still scales, by 13/13.000001.
		{"at threshold", 13, [][]float64{{3 * 13 / 13.000001, 4 * 13 / 13.000001}, {12 * 13 / 13.000001}}},
	}
	for _, tc := range cases {
		for _, dt := range dtypes {
			ps := gradsOf(dt, []float64{3, 4}, []float64{12})
			if norm := ClipGlobalNorm(ps, tc.maxNorm); !close(norm, 13, 1e-15) {
				t.Errorf("%s %v: returned norm %v, want 13", tc.name, dt, norm)
			}
			for i, p := range ps {
				for j, g := range getData(p.Grad) {
					if !close(g, tc.want[i][j], tolerance(dt)) {
						t.Errorf("%s %v: grad %d[%d] = %.17g, want %.17g", tc.name, dt, i, j, g, tc.want[i][j])
					}
				}
			}
		}
	}
	// A non-finite norm leaves the gradients alone.
	ps := gradsOf(tensor.Float64, []float64{3, math.Inf(1)})
	if norm := ClipGlobalNorm(ps, 1); !math.IsInf(norm, 1) || getData(ps[0].Grad)[0] != 3 {
		t.Errorf("ClipGlobalNorm with +Inf: norm %v, grads %v; want +Inf and unchanged", norm, getData(ps[0].Grad))
	}
}

// TestStepClips checks an optimizer applies Config.ClipNorm before its update:
// plain SGD with lr 1 from zero weights leaves w = −(clipped gradient).
func TestStepClips(t *testing.T) {
	for _, dt := range dtypes {
		opt, _ := New(Config{Name: "sgd", ClipNorm: 6.5})
		ps := gradsOf(dt, []float64{3, 4}, []float64{12})
		if err := opt.Step(ps, 1); err != nil {
			t.Fatal(err)
		}
		f := 6.5 / 13.000001 // PyTorch's clip factor for norm 13, max 6.5
		want := [][]float64{{-3 * f, -4 * f}, {-12 * f}}
		for i, p := range ps {
			for j, w := range getData(p.Value) {
				if !close(w, want[i][j], tolerance(dt)) {
					t.Errorf("%v: w %d[%d] = %v, want %v", dt, i, j, w, want[i][j])
				}
			}
		}
	}
}

func TestZeroGrads(t *testing.T) {
	ps := append(gradsOf(tensor.Float32, []float64{1, 2}), gradsOf(tensor.Float64, []float64{3})...)
	ZeroGrads(ps)
	if g := GlobalNorm(ps); g != 0 {
		t.Errorf("norm after ZeroGrads = %v, want 0", g)
	}
}

func TestClipGlobalNormPanicsOnBadMax(t *testing.T) {
	for _, m := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ClipGlobalNorm(maxNorm %v) did not panic", m)
				}
			}()
			ClipGlobalNorm(gradsOf(tensor.Float64, []float64{1}), m)
		}()
	}
}

// TestAllFiniteShortAndUnaligned: a gradient of one or two elements, at any
// alignment, is judged without reading past it (run with -race, whose
// checkptr caught a one-element bias).
func TestAllFiniteShortAndUnaligned(t *testing.T) {
	buf := make([]float32, 8)
	for off := 0; off < 4; off++ {
		for n := 0; n <= 3; n++ {
			x := buf[off : off+n]
			if !allFinite32(x) {
				t.Errorf("offset %d, %d elements: finite zeros judged not finite", off, n)
			}
			if n > 0 {
				x[n-1] = float32(math.Inf(1))
				if allFinite32(x) {
					t.Errorf("offset %d, %d elements: +Inf judged finite", off, n)
				}
				x[n-1] = 0
			}
		}
	}
}
