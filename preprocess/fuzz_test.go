package preprocess

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sort"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzFile from fuzzSeeds")

// fuzzMaxPixels keeps each fuzzing run small: a mutated header may declare any size.
const fuzzMaxPixels = 1 << 16

// fuzzSeeds are the committed seed corpus of FuzzFile: a tiny digit in each format the
// package reads, and the header of an image too large to decode.
func fuzzSeeds(t testing.TB) map[string][]byte {
	img := paper(12, 12, color.White)
	drawOne(img, 3, 1, 6, 10, color.Black)
	// Two colours rather than gif.Encode's default 256 keep the GIF seed small.
	twoTone := image.NewPaletted(img.Bounds(), color.Palette{color.White, color.Black})
	draw.Draw(twoTone, img.Bounds(), img, image.Point{}, draw.Src)
	return map[string][]byte{
		"tiny_png":              encoded(t, img, "png"),
		"tiny_gif":              encoded(t, twoTone, "gif"),
		"tiny_jpeg":             encoded(t, img, "jpeg"),
		"tiny_jpeg_exif_6":      withSegment(encoded(t, img, "jpeg"), orientationSegment(binary.BigEndian, 6)),
		"tiny_jpeg_exif_5_le":   withSegment(encoded(t, img, "jpeg"), orientationSegment(binary.LittleEndian, 5)),
		"huge_png":              pngHeader(100000, 100000),
		"progressive_cmyk_jpeg": progressiveJPEG(200, 200, 4),
		"tiff_header":           []byte("II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		"empty_gif":             []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00"),
		"not_an_image":          []byte("hello\n"),
	}
}

// corpusFile is the file format of go test's fuzzing corpus for one []byte argument.
func corpusFile(b []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
}

// TestFuzzCorpusIsCurrent keeps the committed seed corpus equal to fuzzSeeds; run
// with -update-corpus to rewrite it.
func TestFuzzCorpusIsCurrent(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzFile")
	seeds := fuzzSeeds(t)
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		want := corpusFile(seeds[name])
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v): run go test -run TestFuzzCorpusIsCurrent -update-corpus", path, err)
		}
	}
}

// heapAllocs returns the bytes allocated so far. Unlike runtime.ReadMemStats it does
// not stop the world, which would slow fuzzing; small objects are counted a span at a
// time, large ones (what a lying header would cause) exactly.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FuzzFile checks that any bytes either fail to decode, decode to an image within the
// pixel limit, which Digit turns into 784 values in [0, 1] or refuses with an error;
// never a panic; and that decoding and preparing allocate what the pixel limit and
// the input's size allow, never what a header claims.
func FuzzFile(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		before := heapAllocs()
		defer func() {
			// The canvas, a progressive JPEG's coefficients and Digit's planes take
			// at most 20 + 16 bytes per allowed pixel; the copy of the header and
			// the decoders' buffers follow the input; 8 MiB covers the fixed part
			// and the span-at-a-time counting.
			if got, limit := heapAllocs()-before, uint64(8<<20+64*fuzzMaxPixels+4*len(data)); got > limit {
				t.Errorf("allocated %d bytes for a %d-byte input, want <= %d", got, len(data), limit)
			}
		}()
		img, err := decode(bytes.NewReader(data), "fuzz", fuzzMaxPixels)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > fuzzMaxPixels {
			t.Fatalf("decoded an image of bounds %v past the checks", b)
		}
		x, err := Digit(img)
		if err != nil {
			return
		}
		if len(x) != Side*Side {
			t.Fatalf("%d values, want %d", len(x), Side*Side)
		}
		for i, v := range x {
			if !(v >= 0 && v <= 1) || math.IsNaN(float64(v)) {
				t.Fatalf("value %g at %d outside [0, 1]", v, i)
			}
		}
	})
}
