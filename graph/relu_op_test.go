package graph

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestReLUByHand checks the forward pass and the gradient on values either
// side of 0 and at 0, where the subgradient is 1 as in Gorgonia's Rectify
// (x ⊙ [x ≥ 0]). With the cost Σ relu(x) ⊙ [1, 2, …, 6], dx is the weight
// where x ≥ 0 and 0 elsewhere.
func TestReLUByHand(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 3, -1e-30}
	wantY := []float64{0, 0, 0, 0.5, 3, 0}
	wantDx := []float64{0, 0, 3, 4, 5, 0}
	for _, dt := range []tensor.Dtype{Float32, Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			g := G.NewGraph()
			xt := tensor.New(tensor.Of(dt), tensor.WithShape(2, 3))
			opTestFill(t, xt, x)
			wt := tensor.New(tensor.Of(dt), tensor.WithShape(2, 3))
			opTestFill(t, wt, []float64{1, 2, 3, 4, 5, 6})
			xn := G.NewTensor(g, dt, 2, G.WithShape(2, 3), G.WithName("x"), G.WithValue(xt))
			wn := G.NewTensor(g, dt, 2, G.WithShape(2, 3), G.WithName("w"), G.WithValue(wt))
			y, err := ReLU{}.Forward(nil, xn)
			if err != nil {
				t.Fatal(err)
			}
			var yv G.Value
			G.Read(y, &yv)
			cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, wn))))
			if _, err := G.Grad(cost, xn); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g, G.BindDualValues(xn))
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			opTestClose(t, toFloat64s(yv.(*tensor.Dense)), wantY, 0)
			dx, err := xn.Grad()
			if err != nil {
				t.Fatal(err)
			}
			opTestClose(t, toFloat64s(dx.(*tensor.Dense)), wantDx, 0)
		})
	}
}

// TestReLUPassesNaN: a NaN input stays NaN, as with Gorgonia's Rectify, so
// that a diverging network shows NaN logits rather than silent zeros.
func TestReLUPassesNaN(t *testing.T) {
	y32 := make([]float32, 3)
	reluForward(y32, []float32{float32(math.NaN()), -1, 2})
	y64 := make([]float64, 3)
	reluForward(y64, []float64{math.NaN(), -1, 2})
	if !math.IsNaN(float64(y32[0])) || y32[1] != 0 || y32[2] != 2 {
		t.Errorf("float32: relu(NaN, −1, 2) = %v", y32)
	}
	if !math.IsNaN(y64[0]) || y64[1] != 0 || y64[2] != 2 {
		t.Errorf("float64: relu(NaN, −1, 2) = %v", y64)
	}
}
