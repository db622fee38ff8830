package blas

import "testing"

// TestPanelPlan checks that the row panels cover m exactly once, that the
// last one is not empty, and how many rows are computed in vain.
func TestPanelPlan(t *testing.T) {
	for _, ks := range kernelSets {
		k := ks.s
		h0 := k.tiles[0].mr
		h1 := h0
		if len(k.tiles) > 1 {
			h1 = k.tiles[1].mr
		}
		// With heights 12 and 8 any m is covered within 3 rows of waste
		// (m mod 4 picks the case); with 6 and 4 within 1 (m mod 2); with one
		// height h within h-1.
		maxWaste := h0 - 1
		if h1 != h0 {
			maxWaste = h0 - h1 - 1
		}
		for m := 1; m <= 300; m++ {
			na, nb := k.panelPlan(m)
			if len(k.tiles) == 1 && nb != 0 {
				t.Fatalf("%s: m=%d: %d short panels with one height", ks.name, m, nb)
			}
			rows := na*h0 + nb*h1
			last := h0
			if nb > 0 {
				last = h1
			}
			if waste := rows - m; waste < 0 || waste >= last || (m >= h1 && waste > maxWaste) {
				t.Errorf("%s: m=%d: %d×%d + %d×%d rows", ks.name, m, na, h0, nb, h1)
			}
		}
	}
	if kernelSets[0].name == "avx512" {
		for _, c := range []struct{ m, na, nb int }{{64, 4, 2}, {128, 10, 1}, {120, 10, 0}, {8, 0, 1}} {
			if na, nb := kernelSets[0].s.panelPlan(c.m); na != c.na || nb != c.nb {
				t.Errorf("m=%d: %d tall and %d short panels, want %d and %d", c.m, na, nb, c.na, c.nb)
			}
		}
	}
}

// TestKernelSets checks the invariants that gemmSerial relies on.
func TestKernelSets(t *testing.T) {
	if kernelSets[len(kernelSets)-1].name != "go" {
		t.Error("the portable kernel set is not the last resort")
	}
	check := func(name string, nr, kc, nc int, heights []int) {
		if nr <= 0 || kc <= 0 || nc <= 0 || nc%nr != 0 {
			t.Errorf("%s: nr=%d kc=%d nc=%d: nc must be a positive multiple of nr", name, nr, kc, nc)
		}
		// panelPlan assumes one height, or two in the ratio 3:2.
		if len(heights) == 2 && 2*heights[0] != 3*heights[1] || len(heights) > 2 || len(heights) == 0 {
			t.Errorf("%s: tile heights %v", name, heights)
		}
	}
	for _, ks := range kernelSets {
		var hs, hd []int
		for _, tl := range ks.s.tiles {
			hs = append(hs, tl.mr)
		}
		for _, tl := range ks.d.tiles {
			hd = append(hd, tl.mr)
		}
		check(ks.name+" float32", ks.s.nr, ks.s.kc, ks.s.nc, hs)
		check(ks.name+" float64", ks.d.nr, ks.d.kc, ks.d.nc, hd)
	}
}
