package blas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mulGraph runs y = x·w and dL/dw for L = Σ(y⊙y)/2 (so dL/dw = xᵀ·y, a
// transposed product) through a gorgonia tape machine, and returns y and
// the gradient.
func mulGraph(t *testing.T, dt tensor.Dtype, x, w *tensor.Dense) (y, dw []float64) {
	t.Helper()
	g := gorgonia.NewGraph()
	xn := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(x.Shape()...), gorgonia.WithName("x"), gorgonia.WithValue(x.Clone()))
	wn := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(w.Shape()...), gorgonia.WithName("w"), gorgonia.WithValue(w.Clone()))
	yn := gorgonia.Must(gorgonia.Mul(xn, wn))
	var yv gorgonia.Value
	gorgonia.Read(yn, &yv) // read values during the run: docs/GORGONIA.md#values-read-after-a-run-may-be-overwritten
	half := gorgonia.NewConstant(0.5)
	if dt == tensor.Float32 {
		half = gorgonia.NewConstant(float32(0.5))
	}
	cost := gorgonia.Must(gorgonia.Mul(gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(yn)))), half))
	if _, err := gorgonia.Grad(cost, wn); err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(wn))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	grad, err := wn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return floats(yv.Data()), floats(grad.Data())
}

func floats(data any) []float64 {
	switch d := data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	panic("unexpected data type")
}

// TestInstallGorgoniaMul checks that after Install gorgonia and tensor use
// Implementation, and that a graph computes what it did with gonum's BLAS.
func TestInstallGorgoniaMul(t *testing.T) {
	const m, k, n = 33, 65, 17 // odd sizes: edge tiles in every dimension
	r := rand.New(rand.NewPCG(1, 4))
	for _, tc := range []struct {
		dt  tensor.Dtype
		tol float64 // relative, a few hundred ulps for k = 65 (y) and m = 33 (dw)
	}{{tensor.Float32, 1e-4}, {tensor.Float64, 1e-12}} {
		x := tensor.New(tensor.Of(tc.dt), tensor.WithShape(m, k))
		w := tensor.New(tensor.Of(tc.dt), tensor.WithShape(k, n))
		for _, d := range []*tensor.Dense{x, w} {
			for i := 0; i < d.Size(); i++ {
				v := 2*r.Float64() - 1
				if tc.dt == tensor.Float32 {
					d.Float32s()[i] = float32(v)
				} else {
					d.Float64s()[i] = v
				}
			}
		}
		wantY, wantDW := mulGraph(t, tc.dt, x, w)

		prev := Install()
		if got, ok := gorgonia.WhichBLAS().(Implementation); !ok {
			t.Fatalf("gorgonia uses %T after Install", got)
		}
		if got, ok := tensor.WhichBLAS().(Implementation); !ok {
			t.Fatalf("tensor uses %T after Install", got)
		}
		gotY, gotDW := mulGraph(t, tc.dt, x, w)
		gorgonia.Use(prev)
		if _, ok := gorgonia.WhichBLAS().(Implementation); ok {
			t.Fatal("gorgonia.Use(prev) did not restore the previous BLAS")
		}

		for name, pair := range map[string][2][]float64{"y": {gotY, wantY}, "dw": {gotDW, wantDW}} {
			got, want := pair[0], pair[1]
			if len(got) != len(want) {
				t.Fatalf("%v %s: %d values, want %d", tc.dt, name, len(got), len(want))
			}
			scale := 0.0
			for _, v := range want {
				scale = max(scale, math.Abs(v))
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > tc.tol*scale {
					t.Errorf("%v %s[%d] = %v, with gonum's BLAS %v", tc.dt, name, i, got[i], want[i])
					break
				}
			}
		}
	}
}
