package preprocess

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// sampleDigit is a 40x50 dark "1" on white.
func sampleDigit() *image.RGBA {
	img := paper(40, 50, color.White)
	drawOne(img, 8, 5, 24, 40, color.Black)
	return img
}

// encoded returns img in format ("png", "jpeg" or "gif").
func encoded(t testing.TB, img image.Image, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFileReadsPNGJPEGAndGIF(t *testing.T) {
	want := mustDigit(t, sampleDigit())
	tests := []struct {
		format string
		// PNG and GIF (two colours) are lossless. JPEG's ringing moves levels a little:
		// 0.008 measured at quality 90, most of it removed as under inkThreshold.
		tolerance float64
	}{
		{"png", 1e-6},
		{"gif", 1e-6},
		{"jpeg", 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			path := writeFile(t, "digit."+tt.format, encoded(t, sampleDigit(), tt.format))
			img, err := DecodeFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds() != image.Rect(0, 0, 40, 50) {
				t.Fatalf("decoded bounds %v, want 40x50", img.Bounds())
			}
			x, err := File(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(x, want); d > tt.tolerance {
				t.Fatalf("output differs from the undecoded image's by %g", d)
			}
		})
	}
}

// pngHeader returns the start of a PNG file declaring a w x h 8-bit grey image: the
// signature and an IHDR chunk with its CRC, as the PNG specification lays them out.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // bit depth 8, grey, deflate, no filter, no interlace
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)-4))
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

func TestDecodeFileErrors(t *testing.T) {
	truncated := encoded(t, sampleDigit(), "png")
	truncated = truncated[:len(truncated)/2]
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"text file", []byte("this is not an image\n"), "not a PNG, JPEG or GIF image"},
		{"empty file", nil, "not a PNG, JPEG or GIF image"},
		{"truncated PNG", truncated, "png: "},
		{"100000x100000 PNG", pngHeader(100000, 100000), "100000x100000, 10000000000 pixels, more than the 50000000 allowed"},
		// GIF header and a logical screen descriptor of width 0, height 0.
		{"0x0 GIF", []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00"), "0x0, without pixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "upload.img", tt.data)
			var err error
			n := memlimit.Allocated(func() { _, err = File(path) })
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, path, tt.want)
			}
			// Refused from the header: nothing near the declared size is allocated.
			if n > 1<<20 {
				t.Fatalf("allocated %d bytes before failing", n)
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "missing.png")
	if _, err := File(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestFileBlankImageNamesTheFile(t *testing.T) {
	path := writeFile(t, "blank.png", encoded(t, paper(30, 30, color.White), "png"))
	_, err := File(path)
	if err == nil || !strings.Contains(err.Error(), "preparing "+path) || !strings.Contains(err.Error(), "blank") {
		t.Fatalf("error %v, want one naming %s and saying it is blank", err, path)
	}
}

func TestDecodeChecksTheLimitItIsGiven(t *testing.T) {
	// 40x50 = 2000 pixels: allowed at 2000, refused at 1999.
	data := encoded(t, sampleDigit(), "png")
	if _, err := decode(bytes.NewReader(data), "a.png", 2000); err != nil {
		t.Fatalf("limit 2000: %v", err)
	}
	if _, err := decode(bytes.NewReader(data), "a.png", 1999); err == nil || !strings.Contains(err.Error(), "more than the 1999 allowed") {
		t.Fatalf("limit 1999: %v", err)
	}
}
