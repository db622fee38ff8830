package preprocess

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"testing"
)

// paper returns a w x h RGBA image filled with c.
func paper(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

func fill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// drawOne draws a "1" in a w x h box at (x0, y0): a vertical stroke with a flag at its
// top-left and a foot, strokes w/5 thick.
func drawOne(img draw.Image, x0, y0, w, h int, c color.Color) {
	t := max(1, w/5)
	fill(img, image.Rect(x0+w/2-t/2, y0, x0+w/2-t/2+t, y0+h), c) // stem
	for i := 0; i < w/2; i++ {                                   // flag, down to the left
		fill(img, image.Rect(x0+w/2-i-t, y0+i, x0+w/2-i, y0+i+t), c)
	}
	fill(img, image.Rect(x0, y0+h-t, x0+w, y0+h), c) // foot
}

// darkBox returns the bounding box of img's pixels that are not white.
func darkBox(img *image.RGBA) image.Rectangle {
	var r image.Rectangle
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			if img.RGBAAt(x, y) != (color.RGBA{255, 255, 255, 255}) {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// inkBox returns the bounding box of the output's pixels above 0.
func inkBox(t *testing.T, x []float32) image.Rectangle {
	t.Helper()
	if len(x) != Side*Side {
		t.Fatalf("output has %d values, want %d", len(x), Side*Side)
	}
	r := image.Rectangle{Min: image.Pt(Side, Side)}
	for i, v := range x {
		if v < 0 || v > 1 || math.IsNaN(float64(v)) {
			t.Fatalf("value %g at %d outside [0, 1]", v, i)
		}
		if v > 0 {
			px, py := i%Side, i/Side
			r.Min.X, r.Min.Y = min(r.Min.X, px), min(r.Min.Y, py)
			r.Max.X, r.Max.Y = max(r.Max.X, px+1), max(r.Max.Y, py+1)
		}
	}
	return r
}

// centreOfMass returns the output's centre of mass, pixel (x, y) at (x, y).
func centreOfMass(x []float32) (float64, float64) {
	var m, mx, my float64
	for i, v := range x {
		m += float64(v)
		mx += float64(v) * float64(i%Side)
		my += float64(v) * float64(i/Side)
	}
	return mx / m, my / m
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func mustDigit(t *testing.T, img image.Image) []float32 {
	t.Helper()
	x, err := Digit(img)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestDarkOnLightAndItsInverseAgree(t *testing.T) {
	dark := image.NewGray(image.Rect(0, 0, 60, 80))
	fill(dark, dark.Bounds(), color.Gray{255})
	drawOne(dark, 15, 10, 30, 60, color.Gray{0})
	light := image.NewGray(dark.Bounds())
	for i, v := range dark.Pix {
		light.Pix[i] = 255 - v
	}
	a, b := mustDigit(t, dark), mustDigit(t, light)
	// The two differ only by float rounding of 1-v against 255-v.
	if d := maxDiff(a, b); d > 1e-5 {
		t.Fatalf("dark-on-light and light-on-dark differ by %g", d)
	}
	if inkBox(t, a).Empty() {
		t.Fatal("no ink in the output")
	}
}

func TestSmallDigitInACorner(t *testing.T) {
	img := paper(200, 100, color.White)
	drawOne(img, 180, 3, 12, 16, color.Black) // 12x16 digit in the top-right corner
	src := darkBox(img)
	x := mustDigit(t, img)
	r := inkBox(t, x)
	// The longest side is scaled to 20, the other in proportion.
	scale := 20 / float64(max(src.Dx(), src.Dy()))
	wantW, wantH := int(math.Round(float64(src.Dx())*scale)), int(math.Round(float64(src.Dy())*scale))
	if r.Dx() != wantW || r.Dy() != wantH {
		t.Errorf("ink box %v is %dx%d, want %dx%d (the drawing's %v scaled by %.3f)", r, r.Dx(), r.Dy(), wantW, wantH, src, scale)
	}
	// Shifting by whole pixels leaves the centre of mass at most half a pixel off.
	cx, cy := centreOfMass(x)
	if math.Abs(cx-centre) > 0.5 || math.Abs(cy-centre) > 0.5 {
		t.Errorf("centre of mass (%.2f, %.2f), want within 0.5 of (14, 14)", cx, cy)
	}
}

func TestAspectRatioIsKept(t *testing.T) {
	tests := []struct {
		name       string
		bar        image.Rectangle
		wantW, wan int
	}{
		// A solid bar keeps its proportions: 10x40 scales by 20/40 to 5x20.
		{"tall bar", image.Rect(20, 10, 30, 50), 5, 20},
		{"wide bar", image.Rect(5, 30, 45, 40), 20, 5},
		{"square", image.Rect(10, 10, 40, 40), 20, 20},
		{"dot", image.Rect(30, 30, 31, 31), 20, 20},
		{"thin line", image.Rect(30, 5, 31, 55), 1, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := paper(60, 60, color.White)
			fill(img, tt.bar, color.Black)
			x := mustDigit(t, img)
			r := inkBox(t, x)
			if r.Dx() != tt.wantW || r.Dy() != tt.wan {
				t.Fatalf("ink box %dx%d, want %dx%d", r.Dx(), r.Dy(), tt.wantW, tt.wan)
			}
			// A solid rectangle stays solid: every pixel of its box is full ink.
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for px := r.Min.X; px < r.Max.X; px++ {
					if v := x[y*Side+px]; math.Abs(float64(v)-1) > 1e-6 {
						t.Fatalf("pixel (%d, %d) = %g inside a solid bar, want 1", px, y, v)
					}
				}
			}
			cx, cy := centreOfMass(x)
			if math.Abs(cx-centre) > 0.5 || math.Abs(cy-centre) > 0.5 {
				t.Errorf("centre of mass (%.2f, %.2f), want within 0.5 of (14, 14)", cx, cy)
			}
		})
	}
}

func TestLargeDigitIsAntialiased(t *testing.T) {
	// A disc of radius 150 scaled by 20/300: its edge falls inside output pixels,
	// which must take grey levels between 0 and 1.
	img := image.NewGray(image.Rect(0, 0, 400, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 400; x++ {
			if dx, dy := float64(x)-199.5, float64(y)-199.5; dx*dx+dy*dy <= 150*150 {
				img.Pix[y*400+x] = 255
			}
		}
	}
	x := mustDigit(t, img)
	var grey int
	for _, v := range x {
		if v > 0.05 && v < 0.95 {
			grey++
		}
	}
	if grey < 8 {
		t.Fatalf("%d grey pixels on the disc's edge, want an antialiased edge", grey)
	}
	if r := inkBox(t, x); r.Dx() != 20 || r.Dy() != 20 {
		t.Fatalf("disc's ink box is %dx%d, want 20x20", r.Dx(), r.Dy())
	}
}

func TestPaperAndNoiseDoNotChangeTheDigit(t *testing.T) {
	clean := paper(50, 50, color.White)
	drawOne(clean, 10, 5, 25, 40, color.Black)
	want := mustDigit(t, clean)

	grey := paper(50, 50, color.Gray{200}) // grey paper, dark grey pencil
	drawOne(grey, 10, 5, 25, 40, color.Gray{60})
	if d := maxDiff(mustDigit(t, grey), want); d > 1e-5 {
		t.Errorf("grey paper changes the output by %g", d)
	}

	noisy := paper(50, 50, color.White)
	drawOne(noisy, 10, 5, 25, 40, color.Black)
	for i := 0; i < 50; i += 3 { // specks on the paper at 5% of the contrast, under inkThreshold
		if x, y := i, (i*7)%50; noisy.RGBAAt(x, y) == (color.RGBA{255, 255, 255, 255}) {
			noisy.Set(x, y, color.Gray{242})
		}
	}
	if d := maxDiff(mustDigit(t, noisy), want); d > 1e-5 {
		t.Errorf("faint specks change the output by %g", d)
	}

	transparent := image.NewNRGBA(image.Rect(0, 0, 50, 50)) // transparent, as a canvas exports
	drawOne(transparent, 10, 5, 25, 40, color.Black)
	if d := maxDiff(mustDigit(t, transparent), want); d > 1e-5 {
		t.Errorf("a transparent background changes the output by %g", d)
	}

	colour := paper(50, 50, color.RGBA{255, 250, 200, 255}) // blue ink on yellowish paper
	drawOne(colour, 10, 5, 25, 40, color.RGBA{20, 30, 160, 255})
	if d := maxDiff(mustDigit(t, colour), want); d > 1e-5 {
		t.Errorf("colour changes a two-tone digit's output by %g", d)
	}
}

func TestSubImageWithOffsetBounds(t *testing.T) {
	img := paper(100, 100, color.White)
	drawOne(img, 60, 50, 20, 30, color.Black)
	sub := img.SubImage(image.Rect(50, 45, 95, 90)) // bounds do not start at (0, 0)
	alone := paper(45, 45, color.White)
	drawOne(alone, 10, 5, 20, 30, color.Black)
	if d := maxDiff(mustDigit(t, sub), mustDigit(t, alone)); d > 1e-6 {
		t.Fatalf("a sub-image and the same pixels at the origin differ by %g", d)
	}
}

func TestDigitErrors(t *testing.T) {
	tests := []struct {
		name string
		img  image.Image
		want string
	}{
		{"0x0", image.NewGray(image.Rect(0, 0, 0, 0)), "no pixels"},
		{"0x5", image.NewRGBA(image.Rect(0, 0, 0, 5)), "no pixels"},
		{"blank white", paper(30, 30, color.White), "blank"},
		{"blank black", paper(30, 30, color.Black), "blank"},
		{"one pixel", paper(1, 1, color.Black), "blank"},
		{"too faint", func() image.Image { // ink 5% darker than the paper: under minContrast (10%)
			img := paper(30, 30, color.White)
			fill(img, image.Rect(10, 10, 20, 20), color.Gray{242})
			return img
		}(), "blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := Digit(tt.img)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Digit = %d values, %v; want an error containing %q", len(x), err, tt.want)
			}
		})
	}
}

// opaque hides an image's type, so that luma takes its generic path.
type opaque struct{ image.Image }

func TestTypedPixelReadersMatchAt(t *testing.T) {
	src := sampleDigit()
	src.Set(3, 3, color.RGBA{200, 10, 90, 255})
	src.Set(4, 3, color.RGBA{0, 0, 0, 0}) // transparent
	nrgba := image.NewNRGBA(src.Bounds())
	gray := image.NewGray(src.Bounds())
	ycc := image.NewYCbCr(src.Bounds(), image.YCbCrSubsampleRatio420)
	for y := 0; y < src.Rect.Dy(); y++ {
		for x := 0; x < src.Rect.Dx(); x++ {
			c := src.At(x, y)
			nrgba.Set(x, y, c)
			gray.Set(x, y, c)
			r, g, b, _ := c.RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(b>>8))
			ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = yy, cb, cr
		}
	}
	for _, img := range []image.Image{src, nrgba, gray, ycc} {
		typed, generic := luma(img), luma(opaque{img})
		if d := maxDiff(typed.pix, generic.pix); d != 0 {
			t.Errorf("%T: typed reader differs from At by %g", img, d)
		}
	}
}
