package report

import (
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

func TestWriteCurvesPNG(t *testing.T) {
	nan := math.NaN()
	diverged := demoHistory(5, true)
	diverged[2].TrainLoss = math.Inf(1)
	diverged[3].TrainLoss = nan
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		hist []Epoch
	}{
		{"ten epochs", demoHistory(10, true)},
		{"no validation", demoHistory(10, false)},
		{"one epoch", []Epoch{{Epoch: 1, TrainLoss: 0.3, ValLoss: nan, TrainMetric: 0.91, ValMetric: nan}}},
		{"flat", []Epoch{{1, 0, 0, 1, 1}, {2, 0, 0, 1, 1}}},
		{"diverged loss", diverged},
		{"no loss at all", []Epoch{{1, nan, nan, 0.5, nan}, {2, nan, nan, 0.6, nan}}},
		{"200 epochs", demoHistory(200, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".png")
			if err := WriteCurvesPNG(path, tc.hist, "accuracy", tc.name); err != nil {
				t.Fatal(err)
			}
			img := checkPNG(t, path)
			// The training series is drawn in trainColor (#1F77B4): a
			// history of one epoch must still show its point.
			if !hasColor(img, [3]uint8{0x1f, 0x77, 0xb4}, 0) {
				t.Error("no training series (#1F77B4) drawn")
			}
			hasVal := !math.IsNaN(tc.hist[0].ValMetric)
			if got := hasColor(img, [3]uint8{0xff, 0x7f, 0x0e}, 0); got != hasVal {
				t.Errorf("validation series (#FF7F0E) drawn: %v, want %v", got, hasVal)
			}
		})
	}
	checkNoTemp(t, dir)
}

func TestWriteCurvesPNGErrors(t *testing.T) {
	nan := math.NaN()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		hist []Epoch
		want string
	}{
		{"empty", nil, "history is empty"},
		{"nothing finite", []Epoch{{1, nan, nan, nan, nan}, {2, math.Inf(1), nan, nan, nan}}, "2 epochs has no finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "c.png")
			err := WriteCurvesPNG(path, tc.hist, "accuracy", "")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should name %s and contain %q", err, path, tc.want)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("folder holds %v after an error", names)
			}
		})
	}
}

func TestSeriesSkipsNonFinite(t *testing.T) {
	hist := []Epoch{
		{Epoch: 1, ValMetric: 0.5},
		{Epoch: 2, ValMetric: math.NaN()},
		{Epoch: 3, ValMetric: math.Inf(-1)},
		{Epoch: 4, ValMetric: 0.75},
	}
	got := series(hist, func(e Epoch) float64 { return 100 * e.ValMetric })
	want := plotter.XYs{{X: 1, Y: 50}, {X: 4, Y: 75}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("series = %v, want %v", got, want)
	}
}
