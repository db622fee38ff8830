package report

import (
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
	"gonum.org/v1/plot/vg/vgimg"
)

func TestWritePNG(t *testing.T) {
	dir := t.TempDir()
	many := make([][]int, 100) // 100 classes: labels thin out, counts shrink
	for k := range many {
		many[k] = make([]int, 100)
		many[k][k] = 50
		many[k][(k+7)%100] = 2
	}
	for _, tc := range []struct {
		name string
		c    *Confusion
	}{
		{"mnist-like", demoConfusion()},
		{"three classes", fromCounts(t, [][]int{{50, 2, 0}, {3, 40, 7}, {0, 10, 100}})},
		{"one class", fromCounts(t, [][]int{{4}})},
		{"no samples", fromCounts(t, [][]int{{0, 0}, {0, 0}})},
		{"100 classes", fromCounts(t, many)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".png")
			if err := tc.c.WritePNG(path, tc.name); err != nil {
				t.Fatal(err)
			}
			img := checkPNG(t, path)
			// The colour bar always spans the scale, so its dark end,
			// ColorBrewer Blues' darkest #08306B, must be in the image
			// (tolerance 2: interpolation rounding).
			if !hasColor(img, [3]uint8{0x08, 0x30, 0x6B}, 2) {
				t.Error("no dark blue (#08306B) in the figure")
			}
		})
	}
	checkNoTemp(t, dir)
}

func TestWritePNGErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		c    *Confusion
		path string
		want string
	}{
		{"missing row", &Confusion{Classes: 2, Counts: [][]int{{1, 2}}}, "a.png", "1 rows for 2 classes"},
		{"short row", &Confusion{Classes: 2, Counts: [][]int{{1, 2}, {3}}}, "a.png", "row 1 has 1 columns"},
		{"negative count", &Confusion{Classes: 2, Counts: [][]int{{1, 2}, {-3, 4}}}, "a.png", "Counts[1][0] = -3"},
		{"no classes", &Confusion{}, "a.png", "0 classes"},
		{"missing folder", demoConfusion(), filepath.Join("missing", "a.png"), "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.WritePNG(filepath.Join(dir, tc.path), "")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q should name the file and contain %q", err, tc.want)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("folder holds %v after an error, want nothing", names)
			}
		})
	}
}

func TestBluesRamp(t *testing.T) {
	// The ends are ColorBrewer Blues' first and last colours, #F7FBFF and
	// #08306B, and the ramp darkens all the way.
	ends := map[float64]color.NRGBA{0: {0xF7, 0xFB, 0xFF, 255}, 1: {0x08, 0x30, 0x6B, 255}}
	for at, want := range ends {
		if got := blues.at(at); got != want {
			t.Errorf("blues.at(%v) = %v, want %v", at, got, want)
		}
	}
	luma := func(c color.Color) float64 {
		r, g, b, _ := c.RGBA()
		return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b) // ITU-R BT.601 weights
	}
	cs := blues.Colors()
	for i := 1; i < len(cs); i++ {
		if luma(cs[i]) > luma(cs[i-1]) {
			t.Fatalf("blues lightens between steps %d and %d", i-1, i)
		}
	}
}

func TestCellLabels(t *testing.T) {
	c := demoConfusion()
	n := c.Classes
	maxCount := 0
	for _, row := range c.Counts {
		for _, v := range row {
			maxCount = max(maxCount, v)
		}
	}
	top := math.Log1p(float64(maxCount))
	lbl := cellLabels(c, dataArea(5*vg.Inch), top) // 36 pt cells
	if lbl == nil {
		t.Fatal("no labels for 36 pt cells")
	}
	if len(lbl.Labels) != n*n {
		t.Fatalf("%d labels, want %d", len(lbl.Labels), n*n)
	}
	for i, s := range lbl.Labels {
		tr, p := i/n, i%n
		if want := strconv.Itoa(c.Counts[tr][p]); s != want {
			t.Fatalf("label of cell (%d, %d) = %q, want %q", tr, p, s, want)
		}
		if x, y := lbl.XYs[i].X, lbl.XYs[i].Y; x != float64(p) || y != float64(tr) {
			t.Fatalf("label of cell (%d, %d) at (%v, %v)", tr, p, x, y)
		}
		col := lbl.TextStyle[i].Color
		switch {
		case tr == p: // about a thousand samples: the darkest cells
			if col != color.White {
				t.Errorf("diagonal cell %d has text colour %v, want white", tr, col)
			}
		case c.Counts[tr][p] == 0:
			if col == color.White || col == color.Black {
				t.Errorf("empty cell (%d, %d) has text colour %v, want grey", tr, p, col)
			}
		default: // a handful of errors: light cells
			if col != color.Black {
				t.Errorf("cell (%d, %d) holding %d has text colour %v, want black", tr, p, c.Counts[tr][p], col)
			}
		}
		// "1114" at most 80% of a 36 pt cell: about 8 pt, under the 12 pt cap.
		if size := lbl.TextStyle[i].Font.Size; size < 5 || size > 12 {
			t.Fatalf("label font %v pt, want 5 to 12", size)
		}
	}
	if lbl := cellLabels(c, dataArea(20), top); lbl != nil {
		t.Errorf("2 pt cells got labels of %v pt; want none, unreadable", lbl.TextStyle[0].Font.Size)
	}
}

// dataArea is a square drawing area of the given side that records nothing.
func dataArea(side vg.Length) draw.Canvas {
	return draw.Canvas{Canvas: new(recorder.Canvas), Rectangle: vg.Rectangle{Max: vg.Point{X: side, Y: side}}}
}

func TestCellsSharpAndRowZeroOnTop(t *testing.T) {
	// Counts[0][0] = 9 is the top of the scale (darkest), every other cell
	// is 0 (lightest). Drawn on a 2 in square at 144 dpi with no axes, the
	// cells meet at pixel 144 (= 1 in × 144 dpi) both ways.
	c := &Confusion{Classes: 2, Counts: [][]int{{9, 0}, {0, 0}}}
	p := plot.New()
	p.HideAxes()
	p.X.Padding, p.Y.Padding = 0, 0
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	p.Add(cells{c: c, top: math.Log1p(9)})
	img := vgimg.NewWith(vgimg.UseWH(2*vg.Inch, 2*vg.Inch), vgimg.UseDPI(144))
	p.Draw(draw.New(img))

	dark := color.NRGBA{0x08, 0x30, 0x6B, 255}  // ColorBrewer Blues' darkest
	light := color.NRGBA{0xF7, 0xFB, 0xFF, 255} // and lightest
	for _, tc := range []struct {
		x, y int
		want color.NRGBA
	}{
		{10, 10, dark},    // top-left: true 0, predicted 0
		{141, 10, dark},   // 3 px left of the column boundary: no blur
		{147, 10, light},  // 3 px right of it: true 0, predicted 1
		{10, 141, dark},   // 3 px above the row boundary
		{10, 147, light},  // 3 px below it: true 1, predicted 0
		{270, 270, light}, // bottom-right: true 1, predicted 1
	} {
		r, g, b, _ := img.Image().At(tc.x, tc.y).RGBA()
		got := color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
		if got != tc.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}
