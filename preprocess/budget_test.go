package preprocess

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// progressiveJPEG returns the header of a progressive JPEG (SOF2) of w x h pixels and
// nComp components, none subsampled, and the header of a first DC scan of all of them,
// then nothing: image/jpeg allocates the canvas and every coefficient at that scan,
// then fails for want of Huffman tables.
func progressiveJPEG(w, h uint16, nComp int) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc2}
	b = binary.BigEndian.AppendUint16(b, uint16(8+3*nComp))
	b = append(b, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, byte(nComp))
	for i := range nComp {
		b = append(b, byte(i+1), 0x11, 0) // id, 1x1 sampling, quantization table 0
	}
	b = append(b, 0xff, 0xda)
	b = binary.BigEndian.AppendUint16(b, uint16(6+2*nComp))
	b = append(b, byte(nComp))
	for i := range nComp {
		b = append(b, byte(i+1), 0) // id, Huffman tables 0 and 0
	}
	return append(b, 0, 0, 0) // spectral selection 0..0, no successive approximation
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDecodedBytesBoundsWhatDecodingAllocates checks the estimate against what the
// standard decoders really allocate: never less (past a little fixed overhead), and not
// so much more that it would refuse ordinary images.
func TestDecodedBytesBoundsWhatDecodingAllocates(t *testing.T) {
	const w, h = 300, 200
	rgba := paper(w, h, color.RGBA{200, 100, 50, 255})
	drawOne(rgba, 20, 20, 100, 150, color.Black)
	gray16 := image.NewGray16(rgba.Bounds())
	paletted := image.NewPaletted(rgba.Bounds(), color.Palette{color.White, color.Black})
	gray := image.NewGray(rgba.Bounds())
	tests := []struct {
		name string
		data []byte
		// slack is how much more than the decoder allocates the estimate may be: the
		// grey and RGB PNGs are estimated as if a tRNS chunk made them NRGBA.
		slack float64
	}{
		{"PNG RGBA", pngOf(t, rgba), 1.5},
		{"PNG 16-bit grey", pngOf(t, gray16), 4.5},
		{"PNG paletted", pngOf(t, paletted), 1.5},
		{"PNG grey", pngOf(t, gray), 4.5},
		{"JPEG 4:2:0", encoded(t, rgba, "jpeg"), 1.5},
		{"JPEG grey", encoded(t, gray, "jpeg"), 1.5},
		{"progressive JPEG, 3 components", progressiveJPEG(w, h, 3), 1.5},
		{"progressive JPEG, 4 components", progressiveJPEG(w, h, 4), 1.5},
		{"GIF", encoded(t, paletted, "gif"), 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, format, err := image.DecodeConfig(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			est := decodedBytes(format, cfg, tt.data)
			got := int64(memlimit.Allocated(func() { decode(bytes.NewReader(tt.data), "x", MaxPixels) }))
			// The fixed part: bufio and zlib buffers, Huffman tables, the copy of
			// the header, Digit's planes are not in decode.
			const fixed = 128 << 10
			if got > est+fixed {
				t.Fatalf("decoding allocated %d bytes, more than the estimate %d (+%d)", got, est, fixed)
			}
			if float64(est) > tt.slack*float64(got) {
				t.Fatalf("estimate %d is more than %.1f times the %d bytes decoding allocated", est, tt.slack, got)
			}
		})
	}
}

func TestDecodeRefusesWhatWouldTakeTooMuchToDecode(t *testing.T) {
	// 7071x7071 is within MaxPixels; as a progressive CMYK JPEG its coefficients and
	// planes take 953 MB, which image/jpeg would allocate from these 40 bytes.
	data := progressiveJPEG(7071, 7071, 4)
	var err error
	n := memlimit.Allocated(func() { _, err = decode(bytes.NewReader(data), "cmyk.jpg", MaxPixels) })
	want := "decoding cmyk.jpg: the jpeg image is 7071x7071 and would take 953 MB to decode, more than the 512 MB allowed"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if n > 256<<10 {
		t.Fatalf("allocated %d bytes refusing it", n)
	}
	// The usual progressive photo, 4:2:0 YCbCr, of 50 megapixels fits.
	if got := decodedBytesOf(t, progressive420(8000, 6000)); got > MaxDecodedBytes || got < 300<<20 {
		t.Fatalf("a 48-megapixel 4:2:0 progressive JPEG is estimated at %d bytes, want 300 to 512 MiB", got)
	}
}

// progressive420 is progressiveJPEG's header for a 4:2:0 YCbCr frame: the luma
// sampled 2x2, the two chroma components 1x1.
func progressive420(w, h uint16) []byte {
	b := progressiveJPEG(w, h, 3)
	b[4+2+6+1] = 0x22 // SOF2 payload: precision, height, width, count, then id, sampling
	return b
}

func decodedBytesOf(t *testing.T, data []byte) int64 {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(format, "jpeg") {
		t.Fatalf("format %q", format)
	}
	return decodedBytes(format, cfg, data)
}
