package graph

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDropoutByHand: the output is x ⊙ mask and the gradient dy ⊙ mask, for
// the mask the program's rng drew; the mask itself gets no gradient node
// (our op does not differentiate it).
func TestDropoutByHand(t *testing.T) {
	for _, dt := range []tensor.Dtype{Float32, Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			b := NewBuilder(NewParams(dt), 2, true)
			xt := tensor.New(tensor.Of(dt), tensor.WithShape(2, 4))
			x := []float64{1, -2, 3, -4, 5, -6, 7, -8}
			opTestFill(t, xt, x)
			xn := G.NewTensor(b.G, dt, 2, G.WithShape(2, 4), G.WithName("x"), G.WithValue(xt))
			y, err := Dropout{Name: "d", P: 0.5}.Forward(b, xn)
			if err != nil {
				t.Fatal(err)
			}
			var yv G.Value
			G.Read(y, &yv)
			cost := G.Must(G.Sum(y)) // dy = 1, so dx is the mask
			if _, err := G.Grad(cost, xn); err != nil {
				t.Fatal(err)
			}
			b.noise[0].fill(rand.New(rand.NewPCG(3, 3)), b.noise[0].t)
			mask := toFloat64s(b.noise[0].t)
			vm := G.NewTapeMachine(b.G, G.BindDualValues(xn))
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			want := make([]float64, len(x))
			kept := 0
			for i := range x {
				want[i] = x[i] * mask[i]
				if mask[i] != 0 {
					kept++
					if mask[i] != 2 {
						t.Fatalf("mask %v: a kept element must be 1/(1−0.5) = 2", mask)
					}
				}
			}
			if kept == 0 || kept == len(x) {
				t.Fatalf("mask %v keeps all or nothing: the test checks nothing", mask)
			}
			opTestClose(t, toFloat64s(yv.(*tensor.Dense)), want, 0)
			dx, err := xn.Grad()
			if err != nil {
				t.Fatal(err)
			}
			opTestClose(t, toFloat64s(dx.(*tensor.Dense)), mask, 0)
			for _, n := range b.G.AllNodes() {
				if n.Name() == "d.mask" && n.Deriv() != nil {
					t.Error("the mask has a gradient node")
				}
			}
		})
	}
}
