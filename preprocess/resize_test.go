package preprocess

import (
	"math"
	"testing"
)

func TestWeightsAreNormalizedAndLocal(t *testing.T) {
	for _, c := range []struct{ in, out int }{{40, 20}, {7, 20}, {300, 20}, {1, 20}, {20, 1}, {20, 20}} {
		for i, tw := range weights(c.in, c.out) {
			var sum float64
			for _, w := range tw.w {
				sum += w
			}
			if math.Abs(sum-1) > 1e-12 || tw.first < 0 || tw.first+len(tw.w) > c.in {
				t.Fatalf("%d→%d: output %d has taps %+v (sum %g)", c.in, c.out, i, tw, sum)
			}
		}
	}
}

func TestResize(t *testing.T) {
	tests := []struct {
		name      string
		in        plane
		w, h      int
		want      []float32
		tolerance float64
	}{
		{"identity", plane{2, 2, []float32{0, 0.25, 0.5, 1}}, 2, 2, []float32{0, 0.25, 0.5, 1}, 0},
		// Halving: output pixel 0 is centred at source coordinate 1 with a half-width of
		// 2, so sources 0..3 (centres 0.5..3.5) weigh 0.75, 0.75, 0.25, 0, which sum to
		// 1.75; output pixel 1 (centre 3) weighs them 0, 0.25, 0.75, 0.75.
		{"halve a step", plane{4, 1, []float32{1, 1, 0, 0}}, 2, 1, []float32{1.5 / 1.75, 0.25 / 1.75}, 1e-6},
		// Doubling is plain linear interpolation, edges clamped.
		{"double a ramp", plane{2, 1, []float32{0, 1}}, 4, 1, []float32{0, 0.25, 0.75, 1}, 1e-6},
		{"constant stays constant", plane{5, 3, []float32{.5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5}}, 2, 7,
			[]float32{.5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5, .5}, 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resize(tt.in, tt.w, tt.h)
			if got.w != tt.w || got.h != tt.h {
				t.Fatalf("size %dx%d, want %dx%d", got.w, got.h, tt.w, tt.h)
			}
			for i := range tt.want {
				if math.Abs(float64(got.pix[i]-tt.want[i])) > tt.tolerance {
					t.Fatalf("got %v, want %v", got.pix, tt.want)
				}
			}
		})
	}
}
