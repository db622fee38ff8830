package report

import (
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

func tickLabels(ticks []plot.Tick) []string {
	var s []string
	for _, t := range ticks {
		s = append(s, t.Label)
	}
	return s
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		// The demo loss, 0.35 down to 0.022: step 0.05 (0.33/8 ≈ 0.04 → 0.05).
		{0.022, 0.35, "0.00 0.05 0.10 0.15 0.20 0.25 0.30 0.35"},
		// The demo accuracy, 91% to 99.5%: step 2 (8.5/8 ≈ 1.06 → 2).
		{91, 99.5, "90 92 94 96 98 100"},
		// A flat loss of 0.3 widened by ±5%: step 0.005.
		{0.285, 0.315, "0.285 0.290 0.295 0.300 0.305 0.310 0.315"},
		// A diverging loss: step 20000 (1e5/8 = 12500 → 20000).
		{0, 1e5, "0 20000 40000 60000 80000 100000"},
	} {
		if got := strings.Join(tickLabels(niceTicks(tc.lo, tc.hi)), " "); got != tc.want {
			t.Errorf("niceTicks(%v, %v) = %s, want %s", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestEpochTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{1, 10, "1 2 3 4 5 6 7 8 9 10"},
		{0, 2, "0 1 2"}, // one epoch: plot widens the range to ±1
		{1, 30, "5 10 15 20 25 30"},
		{1, 200, "20 40 60 80 100 120 140 160 180 200"},
		{1, 5e4, "5000 10000 15000 20000 25000 30000 35000 40000 45000 50000"},
	} {
		if got := strings.Join(tickLabels(epochTicks(tc.lo, tc.hi)), " "); got != tc.want {
			t.Errorf("epochTicks(%v, %v) = %s, want %s", tc.lo, tc.hi, got, tc.want)
		}
	}
}
