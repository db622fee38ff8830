package preprocess

import (
	"bytes"
	"image"
	"image/color"
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

// foreignCalls counts calls into the decoders registerForeign registers, which the
// package must never make.
var foreignCalls atomic.Int32

var registerOnce sync.Once

// registerForeign registers decoders for TIFF and BMP with package image, as a
// dependency may (golang.org/x/image/tiff comes with package report's plotting
// library): DecodeFile must refuse both formats all the same.
func registerForeign() {
	registerOnce.Do(func() {
		fake := func(r io.Reader) (image.Image, error) {
			foreignCalls.Add(1)
			return image.NewGray(image.Rect(0, 0, 20, 20)), nil
		}
		fakeConfig := func(r io.Reader) (image.Config, error) {
			foreignCalls.Add(1)
			return image.Config{ColorModel: color.GrayModel, Width: 20, Height: 20}, nil
		}
		image.RegisterFormat("tiff", "II*\x00", fake, fakeConfig)
		image.RegisterFormat("tiff", "MM\x00*", fake, fakeConfig)
		image.RegisterFormat("bmp", "BM", fake, func(r io.Reader) (image.Config, error) {
			return image.Config{ColorModel: color.GrayModel, Width: 20, Height: 20}, nil // the name is what counts
		})
	})
}

func TestDecodeFileRefusesFormatsNotOnTheList(t *testing.T) {
	// A little-endian TIFF header with an empty IFD, and a big-endian one.
	tiffLE := []byte("II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	tiffBE := []byte("MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00")
	bmp := append([]byte("BM"), make([]byte, 60)...)
	check := func(t *testing.T, name string, data []byte, want string) {
		t.Helper()
		path := writeFile(t, name, data)
		_, err := DecodeFile(path)
		if wantErr := "decoding " + path + ": " + want; err == nil || err.Error() != wantErr {
			t.Fatalf("error %v, want %q", err, wantErr)
		}
	}
	// Without any TIFF decoder registered, TIFF is still named.
	t.Run("TIFF, nothing registered", func(t *testing.T) {
		if _, _, err := image.DecodeConfig(bytes.NewReader(tiffLE)); err != image.ErrFormat {
			t.Skip("a TIFF decoder is already registered in this test binary")
		}
		check(t, "scan.tif", tiffLE, "a TIFF image, not accepted: only PNG, JPEG and GIF are accepted")
		check(t, "scan.tiff", tiffBE, "a TIFF image, not accepted: only PNG, JPEG and GIF are accepted")
	})
	t.Run("registered by a dependency", func(t *testing.T) {
		registerForeign()
		before := foreignCalls.Load()
		check(t, "scan.tif", tiffLE, "a TIFF image, not accepted: only PNG, JPEG and GIF are accepted")
		check(t, "scan.tiff", tiffBE, "a TIFF image, not accepted: only PNG, JPEG and GIF are accepted")
		if n := foreignCalls.Load() - before; n != 0 {
			t.Fatalf("the registered TIFF decoder was called %d times", n)
		}
		check(t, "picture.bmp", bmp, "a BMP image, not accepted: only PNG, JPEG and GIF are accepted")
		// The listed formats still decode, by their own decoders.
		if _, err := DecodeFile(writeFile(t, "ok.png", encoded(t, sampleDigit(), "png"))); err != nil {
			t.Fatal(err)
		}
	})
}
