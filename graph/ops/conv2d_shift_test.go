package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestShiftedConvMatchesIm2col: the shifted-window forward pass, weight
// gradient and input gradient of one image equal im2col's, to rounding (the
// sums are taken tap by tap instead of all at once): 1e-12 relative in
// float64, 1e-5 in float32 (sums of ≤ 81 products of values in [−1, 1];
// float32's ε is 1.2e-7).
func TestShiftedConvMatchesIm2col(t *testing.T) {
	cases := []struct {
		name         string
		c, h, w, out int
		kernel       [2]int
	}{
		{"3x3", shiftMinChannels, 6, 5, 4, [2]int{3, 3}},
		{"2x3", shiftMinChannels + 1, 4, 7, 3, [2]int{2, 3}},
		{"kernel-is-image", shiftMinChannels, 3, 3, 2, [2]int{3, 3}},
		{"1-row", shiftMinChannels, 1, 6, 2, [2]int{1, 4}},
	}
	for _, c := range cases {
		g := newConvGeom(1, c.c, c.h, c.w, c.kernel, [2]int{1, 1}, [2]int{0, 0})
		if !g.shiftable() {
			t.Fatalf("%s: not shiftable", c.name)
		}
		t.Run(c.name+"/float64", func(t *testing.T) { testShifted[float64](t, g, c.out, 1e-12) })
		t.Run(c.name+"/float32", func(t *testing.T) { testShifted[float32](t, g, c.out, 1e-5) })
	}
}

func testShifted[T Float](t *testing.T, g convGeom, out int, tol float64) {
	rng := rand.New(rand.NewPCG(9, 10))
	rnd := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(2*rng.Float64() - 1)
		}
		return v
	}
	P, K, L := g.outPlane(), g.colRows(), g.wideLen()
	x, w, bias, dy := rnd(g.inSize()), rnd(out*K), rnd(out), rnd(out*P)
	gemm := gemmFor[T]()
	col := make([]T, K*P)
	im2col(g, x, col)

	// im2col's forward pass, weight gradient and input gradient.
	yRef := make([]T, out*P)
	for o := range out {
		for i := range P {
			yRef[o*P+i] = bias[o]
		}
	}
	gemm(blas.NoTrans, blas.NoTrans, out, P, K, 1, w, K, col, P, 1, yRef, P)
	dwRef := make([]T, out*K)
	gemm(blas.NoTrans, blas.Trans, out, K, P, 1, dy, P, col, P, 0, dwRef, K)
	dcol := make([]T, K*P)
	gemm(blas.Trans, blas.NoTrans, K, P, out, 1, w, K, dy, P, 0, dcol, P)
	dxRef := make([]T, g.inSize())
	col2im(g, dcol, dxRef)

	wt, wide := make([]T, len(w)), make([]T, out*L)
	tapWeights(g, out, w, wt)
	y := make([]T, out*P)
	shiftForward(gemm, g, out, wt, x, bias, wide, y)
	shiftClose(t, "y", y, yRef, tol)

	dyWide := make([]T, out*L)
	widen(g, out, dy, dyWide)
	acc := make([]T, len(w))
	shiftWeightGrad(gemm, g, out, x, dyWide, 0, acc)
	dw := make([]T, len(w))
	taps := g.KH * g.KW
	for tp := range taps {
		for o := range out {
			for c := range g.C {
				dw[(o*g.C+c)*taps+tp] = acc[(tp*out+o)*g.C+c]
			}
		}
	}
	shiftClose(t, "dw", dw, dwRef, tol)

	dx := rnd(g.inSize()) // garbage, to be overwritten
	shiftInputGrad(gemm, g, out, wt, dyWide, dx)
	shiftClose(t, "dx", dx, dxRef, tol)
}

func shiftClose[T Float](t *testing.T, what string, got, want []T, tol float64) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) > tol*math.Max(1, math.Abs(w)) || math.IsNaN(g) {
			t.Fatalf("%s[%d] = %v, im2col gives %v", what, i, g, w)
		}
	}
}
