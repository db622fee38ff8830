package bench

import (
	"math"
	"slices"
	"testing"
)

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{3, 1, 2}, 50, 2},
		{[]float64{4, 1, 3, 2}, 50, 2.5},
		{[]float64{7}, 50, 7},
		{[]float64{7}, 90, 7},
		// numpy.percentile(range(1, 11), 90) = 9.1: rank 0.9·9 = 8.1
		// between 9 and 10.
		{[]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90, 9.1},
		{[]float64{1, 2, 3, 4, 5}, 0, 1},
		{[]float64{1, 2, 3, 4, 5}, 100, 5},
		// numpy.percentile([1, 2, 3, 4, 5], 90) = 4.6.
		{[]float64{5, 4, 3, 2, 1}, 90, 4.6},
	} {
		in := slices.Clone(tc.xs)
		got := Percentile(tc.xs, tc.p)
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", in, tc.p, got, tc.want)
		}
		if !slices.Equal(in, tc.xs) {
			t.Errorf("Percentile reordered its input: %v, was %v", tc.xs, in)
		}
	}
	if got := Median([]float64{9, 1, 5, 3}); got != 4 {
		t.Errorf("Median = %v, want 4", got)
	}
	for _, tc := range []struct {
		xs []float64
		p  float64
	}{{nil, 50}, {[]float64{1}, -1}, {[]float64{1}, 101}, {[]float64{1}, math.NaN()}} {
		if got := Percentile(tc.xs, tc.p); !math.IsNaN(got) {
			t.Errorf("Percentile(%v, %v) = %v, want NaN", tc.xs, tc.p, got)
		}
	}
}
