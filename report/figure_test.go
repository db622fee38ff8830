package report

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkPNG decodes the file at path as a PNG and checks it is a real
// figure: wider than 300 px (our figures are several inches at 144 dpi) and
// not one flat colour. It returns the image for further checks.
func checkPNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() <= 300 || b.Dy() <= 300 {
		t.Errorf("%s is %d×%d px, want more than 300×300", path, b.Dx(), b.Dy())
	}
	colors := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r, g, bl, a}] = true
		}
	}
	// Text, axes and data each bring anti-aliased shades; a blank or
	// single-colour image has one or two.
	if len(colors) < 10 {
		t.Errorf("%s has only %d distinct colours: nothing drawn?", path, len(colors))
	}
	return img
}

// hasColor reports whether img holds a pixel within tol (per 8-bit channel)
// of want.
func hasColor(img image.Image, want [3]uint8, tol int) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
			ok := true
			for i := range got {
				if d := got[i] - int(want[i]); d > tol || d < -tol {
					ok = false
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// listDir returns the names in dir, to check nothing was left behind.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestFiguresDoNotClobberOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "figure.png")
	const old = "previous figure"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	// A folder where the figure should go: the final rename fails, after
	// the temporary file was written.
	folder := filepath.Join(dir, "folder.png")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := &Confusion{Classes: 2, Counts: [][]int{{1, 2}}} // one row missing
	for name, write := range map[string]func() error{
		"WritePNG of a malformed matrix":  func() error { return bad.WritePNG(path, "") },
		"WriteCurvesPNG of empty history": func() error { return WriteCurvesPNG(path, nil, "accuracy", "") },
		"WritePNG over a folder":          func() error { return demoConfusion().WritePNG(folder, "") },
		"WriteCurvesPNG in missing folder": func() error {
			return WriteCurvesPNG(filepath.Join(dir, "no", "c.png"), demoHistory(3, true), "accuracy", "")
		},
	} {
		if err := write(); err == nil {
			t.Errorf("%s: no error", name)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != old {
			t.Errorf("%s: existing file now %q, %v; want %q", name, got, err, old)
		}
		if names := listDir(t, dir); len(names) != 2 {
			t.Errorf("%s: folder holds %v, want only figure.png and folder.png", name, names)
		}
	}
}

// checkNoTemp fails if dir holds a temporary file of the atomic writer.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	for _, name := range listDir(t, dir) {
		if strings.Contains(name, ".tmp-") {
			t.Errorf("temporary file %s left in %s", name, dir)
		}
	}
}
