package preprocess

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// byteOrder is binary.LittleEndian or binary.BigEndian, which can also append.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// exifSegment returns an APP1 segment, marker included, holding "Exif\0\0" and a TIFF
// structure in byte order bo whose IFD0 has the given entries (tag, type, count,
// value field), as EXIF 2.3 section 4.5.2 and TIFF 6.0 section 2 lay them out.
func exifSegment(bo byteOrder, entries ...[4]uint32) []byte {
	tiff := []byte("II*\x00")
	if bo == binary.BigEndian {
		tiff = []byte("MM\x00*")
	}
	tiff = bo.AppendUint32(tiff, 8) // IFD0 right after the header
	tiff = bo.AppendUint16(tiff, uint16(len(entries)))
	for _, e := range entries {
		tiff = bo.AppendUint16(tiff, uint16(e[0]))
		tiff = bo.AppendUint16(tiff, uint16(e[1]))
		tiff = bo.AppendUint32(tiff, e[2])
		if e[1] == 3 { // SHORT: left-justified in the 4-byte value field
			tiff = bo.AppendUint16(tiff, uint16(e[3]))
			tiff = append(tiff, 0, 0)
		} else {
			tiff = bo.AppendUint32(tiff, e[3])
		}
	}
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, markerAPP1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	return append(seg, payload...)
}

// orientationSegment is an APP1 segment with just the Orientation tag, a SHORT.
func orientationSegment(bo byteOrder, v uint32) []byte {
	return exifSegment(bo, [4]uint32{0x010f, 2, 4, 0}, [4]uint32{tagOrientation, 3, 1, v}) // Make, then Orientation
}

// withSegment splices seg into the JPEG file j right after its SOI marker, where
// cameras put the EXIF segment.
func withSegment(j, seg []byte) []byte {
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	return append(out, j[2:]...)
}

func TestJPEGOrientationParsing(t *testing.T) {
	plain := encoded(t, paper(16, 16, color.White), "jpeg")
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name string
		file []byte
		want int
	}{
		{"no EXIF", plain, 1},
		{"not a JPEG", []byte("\x89PNG\r\n\x1a\n"), 1},
		{"empty", nil, 1},
		{"orientation 0 is out of range", withSegment(plain, orientationSegment(le, 0)), 1},
		{"orientation 9 is out of range", withSegment(plain, orientationSegment(be, 9)), 1},
		{"LONG value", withSegment(plain, exifSegment(be, [4]uint32{tagOrientation, 4, 1, 6})), 6},
		{"ASCII value", withSegment(plain, exifSegment(le, [4]uint32{tagOrientation, 2, 1, 6})), 1},
		{"count 2", withSegment(plain, exifSegment(le, [4]uint32{tagOrientation, 3, 2, 6})), 1},
		{"no orientation tag", withSegment(plain, exifSegment(le, [4]uint32{0x010f, 2, 4, 0})), 1},
		{"after an APP0 and an XMP APP1", withSegment(plain, append(
			[]byte("\xff\xe0\x00\x07JFIF\x00\xff\xe1\x00\x0chttp://ns\x00"),
			orientationSegment(le, 8)...)), 8},
		{"fill bytes before the marker", withSegment(plain, append([]byte{0xff, 0xff}, orientationSegment(le, 3)...)), 3},
		{"EXIF after the image data is not read", append(bytes.Clone(plain[:len(plain)-2]), orientationSegment(le, 6)...), 1},
	}
	for v := 1; v <= 8; v++ {
		tests = append(tests,
			struct {
				name string
				file []byte
				want int
			}{fmt.Sprintf("little-endian %d", v), withSegment(plain, orientationSegment(le, uint32(v))), v},
			struct {
				name string
				file []byte
				want int
			}{fmt.Sprintf("big-endian %d", v), withSegment(plain, orientationSegment(be, uint32(v))), v})
	}
	// Damage: every truncation of a valid EXIF segment, and wrong fields in it.
	good := orientationSegment(le, 6)
	for n := 0; n < len(good); n++ {
		tests = append(tests, struct {
			name string
			file []byte
			want int
		}{fmt.Sprintf("segment cut to %d bytes", n), append([]byte{0xff, 0xd8}, good[:n]...), 1})
	}
	damage := func(name string, at int, b byte) {
		seg := bytes.Clone(good)
		seg[at] = b
		tests = append(tests, struct {
			name string
			file []byte
			want int
		}{name, withSegment(plain, seg), 1})
	}
	const tiffAt = 4 + 6 // marker, length, "Exif\0\0"
	damage("byte order XX", tiffAt, 'X')
	damage("magic 43", tiffAt+2, 43)
	damage("IFD offset past the end", tiffAt+4, 0xf0)
	damage("IFD offset inside the header", tiffAt+4, 4)
	damage("entry count past the end", tiffAt+8, 0xff)
	damage("segment length past the file", 2, 0xff)
	damage("segment length 1", 3, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jpegOrientation(tt.file); got != tt.want {
				t.Fatalf("orientation %d, want %d", got, tt.want)
			}
		})
	}
}

// The EXIF 2.3 table for tag 0x0112: where the stored image's row 0 and column 0 are
// shown. storedFor builds a stored image from these words alone, independently of
// the code under test.
var exifTable = map[int]struct{ row0, col0 string }{
	1: {"top", "left"},
	2: {"top", "right"},
	3: {"bottom", "right"},
	4: {"bottom", "left"},
	5: {"left", "top"},
	6: {"right", "top"},
	7: {"right", "bottom"},
	8: {"left", "bottom"},
}

// storedFor returns the image a camera would store for the upright picture u when it
// writes orientation o.
func storedFor(u *image.RGBA, o int) *image.RGBA {
	W, H := u.Rect.Dx(), u.Rect.Dy()
	e := exifTable[o]
	flip := func(v, n int, keep bool) int {
		if keep {
			return v
		}
		return n - 1 - v
	}
	if e.row0 == "top" || e.row0 == "bottom" { // stored rows are shown as rows
		s := image.NewRGBA(image.Rect(0, 0, W, H))
		for sy := 0; sy < H; sy++ {
			for sx := 0; sx < W; sx++ {
				s.Set(sx, sy, u.At(flip(sx, W, e.col0 == "left"), flip(sy, H, e.row0 == "top")))
			}
		}
		return s
	}
	s := image.NewRGBA(image.Rect(0, 0, H, W)) // stored rows are shown as columns
	for sy := 0; sy < W; sy++ {
		for sx := 0; sx < H; sx++ {
			s.Set(sx, sy, u.At(flip(sy, W, e.row0 == "left"), flip(sx, H, e.col0 == "top")))
		}
	}
	return s
}

// quadrants returns a 64x48 picture of 4x3 cells of 16x16 pixels, each a different
// colour, so that each of the 8 orientations gives a different picture, and the cells
// fit the JPEG's 16x16 colour blocks whichever way it is turned.
func quadrants() *image.RGBA {
	// Twelve of the 27 colours with channels 30, 140 or 250, in no order.
	levels := [3]uint8{30, 140, 250}
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for k := range 12 {
		code := (k*11 + 5) % 27 // 11 is prime to 27: twelve different codes
		c := color.RGBA{levels[code%3], levels[code/3%3], levels[code/9], 255}
		cx, cy := k%4, k/4
		fill(img, image.Rect(16*cx, 16*cy, 16*cx+16, 16*cy+16), c)
	}
	return img
}

// meanError returns the mean absolute difference per channel, in 8-bit levels,
// between a and b, or -1 if their bounds differ.
func meanError(a, b image.Image) float64 {
	if a.Bounds() != b.Bounds() {
		return -1
	}
	var sum float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				sum += float64(max(d, -d))
			}
		}
	}
	return sum / float64(3*r.Dx()*r.Dy())
}

// writeOriented writes stored as a JPEG with an EXIF segment of orientation o in
// byte order bo, and returns the path.
func writeOriented(t *testing.T, dir string, stored image.Image, o int, bo byteOrder) string {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, stored, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("orientation-%d-%v.jpg", o, bo))
	if err := os.WriteFile(path, withSegment(b.Bytes(), orientationSegment(bo, uint32(o))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// JPEG at quality 95 moves flat colour cells by a third of a level (measured); a cell
// in the wrong place moves the mean by tens of levels.
const jpegTolerance = 4

func TestDecodeFileShowsEachOrientationUpright(t *testing.T) {
	want := quadrants()
	dir := os.Getenv("PREPROCESS_ORIENTATION_DIR") // to keep the files, for checking with other tools
	if dir == "" {
		dir = t.TempDir()
	}
	for o := 1; o <= 8; o++ {
		for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(fmt.Sprintf("%d/%v", o, bo), func(t *testing.T) {
				stored := storedFor(want, o)
				path := writeOriented(t, dir, stored, o, bo)
				img, err := DecodeFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if d := meanError(img, want); d < 0 || d > jpegTolerance {
					t.Fatalf("decoded %v differs from the upright picture %v by %.1f levels, want <= %d", img.Bounds(), want.Bounds(), d, jpegTolerance)
				}
				// The test can fail: every other orientation applied to the same stored
				// pixels gives another picture (other bounds, or cells out of place).
				raw, err := jpeg.Decode(bytes.NewReader(mustRead(t, path)))
				if err != nil {
					t.Fatal(err)
				}
				for other := 1; other <= 8; other++ {
					if d := meanError(upright(raw, other), want); other != o && d >= 0 && d <= 10*jpegTolerance {
						t.Fatalf("orientation %d applied instead of %d is within %.1f levels of the upright picture: the test cannot tell them apart", other, o, d)
					}
				}
				// The typed fast path reads the same pixels as At.
				if d := maxDiff(luma(img).pix, luma(opaque{img}).pix); d != 0 {
					t.Fatalf("the typed pixel reader differs from At by %g", d)
				}
			})
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOrientedAtOutsideTheBoundsIsZero(t *testing.T) {
	img := upright(quadrants(), 6)
	if got := img.At(-1, 0); got != (color.RGBA{}) {
		t.Fatalf("At outside the bounds = %v, want the zero colour", got)
	}
	if got := img.At(48, 0); got != (color.RGBA{}) {
		t.Fatalf("At(48, 0) of a 48-wide image = %v, want the zero colour", got)
	}
}

// TestTurnedDigitGivesTheUprightInput checks end to end that a digit photographed
// sideways or upside down (stored turned, with the orientation a phone writes) gives
// the same 28x28 input as the same digit stored upright, and a different one when the
// orientation is ignored.
func TestTurnedDigitGivesTheUprightInput(t *testing.T) {
	up := paper(48, 64, color.White)
	drawOne(up, 8, 8, 30, 48, color.Black) // a "1" with its flag to the left: no symmetry
	dir := t.TempDir()
	want, err := File(writeOriented(t, dir, up, 1, binary.LittleEndian))
	if err != nil {
		t.Fatal(err)
	}
	for o := 2; o <= 8; o++ {
		stored := storedFor(up, o)
		got, err := File(writeOriented(t, dir, stored, o, binary.BigEndian))
		if err != nil {
			t.Fatal(err)
		}
		// JPEG's ringing differs a little between the two files; the measured
		// difference is under 0.003.
		if d := maxDiff(got, want); d > 0.02 {
			t.Errorf("orientation %d: input differs from the upright file's by %g", o, d)
		}
		if d := maxDiff(mustDigit(t, stored), want); d < 0.5 {
			t.Errorf("orientation %d: the stored pixels alone give nearly the upright input (%g): the test proves nothing", o, d)
		}
	}
}

// FuzzJPEGOrientation checks that no bytes make the EXIF parser panic or return
// anything but an orientation 1..8, and that a TIFF structure alone parses the same
// wrapped in a JPEG's EXIF segment when it fits one.
func FuzzJPEGOrientation(f *testing.F) {
	plain := encoded(f, paper(8, 8, color.White), "jpeg")[:20]
	for v := uint32(0); v <= 9; v++ {
		f.Add(withSegment(plain, orientationSegment(binary.LittleEndian, v)))
		f.Add(withSegment(plain, orientationSegment(binary.BigEndian, v)))
	}
	f.Add(withSegment(plain, exifSegment(binary.BigEndian, [4]uint32{tagOrientation, 4, 1, 6})))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x02"))
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("jpegOrientation = %d", o)
		}
		o := exifOrientation(data)
		if o < 1 || o > 8 {
			t.Fatalf("exifOrientation = %d", o)
		}
		if len(data) <= 0xffff-8 {
			payload := append([]byte("Exif\x00\x00"), data...)
			seg := binary.BigEndian.AppendUint16([]byte{0xff, 0xd8, 0xff, markerAPP1}, uint16(len(payload)+2))
			if got := jpegOrientation(append(seg, payload...)); got != o {
				t.Fatalf("in a JPEG segment %d, alone %d", got, o)
			}
		}
	})
}
