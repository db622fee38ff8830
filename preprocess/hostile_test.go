//go:build linux

package preprocess

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

func TestFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "digit.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a FIFO: %v", err)
	}
	for path, want := range map[string]string{
		dir:        "is a directory",
		fifo:       "is a named pipe (FIFO), not a regular file",
		os.DevNull: "is a character device, not a regular file",
	} {
		done := make(chan error, 1)
		go func() { _, err := File(path); done <- err }()
		select {
		case err := <-done:
			if wantErr := "reading " + path + ": " + want; err == nil || err.Error() != wantErr {
				t.Errorf("File(%s): %v, want %q", path, err, wantErr)
			}
		case <-time.After(500 * time.Millisecond):
			t.Fatalf("File(%s) still blocked after 500ms", path)
		}
	}
}

// truncatedPNG returns a PNG of w x h 16-bit RGBA pixels (8 bytes each, the most
// any PNG takes once decoded) whose image data stops after a few bytes: the decoder
// allocates the whole canvas from the header before it finds the data missing.
func truncatedPNG(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		c := append([]byte(typ), data...)
		b = append(b, c...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, 16, 6, 0, 0, 0)) // 16-bit, RGBA, deflate, no filter, no interlace
	chunk("IDAT", []byte{0x78, 0x9c})           // a zlib header, then nothing
	return b
}

// jpegHeader returns the start of a baseline JPEG declaring a w x h grey image: SOI,
// a SOF0 segment (ITU-T T.81, B.2.2) and the header of a scan (B.2.3), where
// image.DecodeConfig stops reading, then nothing.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc0, 0, 11, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 1, 1, 0x11, 0)                          // one component, 1x1 sampling, table 0
	return append(b, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0) // SOS: component 1, tables 0/0, spectrum 0..63
}

// TestHelperDecodeFile is run by TestHostileImagesUnderAMemoryLimit in a child
// process under a memory limit: it prepares $PREPROCESS_HOSTILE_FILE.
func TestHelperDecodeFile(t *testing.T) {
	if !memlimit.Child(t) {
		return
	}
	_, err := File(os.Getenv("PREPROCESS_HOSTILE_FILE"))
	memlimit.Exit(err)
}

// imageBudget is the child's address-space budget for images: MaxDecodedBytes and
// 256 MiB for the runtime and Digit, 768 MiB. memlimit.Budget (1 GiB) would not do:
// the worst header within MaxPixels, a progressive CMYK JPEG, makes image/jpeg
// allocate 954 MiB, which fits in it.
const imageBudget = MaxDecodedBytes + 256<<20

// TestHostileImagesUnderAMemoryLimit prepares hostile images in a child whose address
// space may grow by imageBudget (768 MiB) at most, for at most 30 s each: each must
// be an error naming the file, not a crash. The first three are refused from their
// headers (the third, within MaxPixels, by MaxDecodedBytes: without that check it
// allocated 1 GB and the child died of it); the last is the worst an image within
// both limits can do, a 16-bit RGBA canvas of 400 MB allocated before its data is
// found missing, and shows that the limits keep even that inside the budget.
func TestHostileImagesUnderAMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"100000x100000.png", pngHeader(100000, 100000), "the png image is 100000x100000, 10000000000 pixels, more than the 50000000 allowed"},
		{"65535x65535.jpg", jpegHeader(65535, 65535), "the jpeg image is 65535x65535, 4294836225 pixels, more than the 50000000 allowed"},
		{"7071x7071-progressive-cmyk.jpg", progressiveJPEG(7071, 7071, 4), "the jpeg image is 7071x7071 and would take 953 MB to decode, more than the 512 MB allowed"},
		{"7071x7071-rgba64-truncated.png", truncatedPNG(7071, 7071), "png: invalid format: not enough pixel data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := memlimit.Run(t, "TestHelperDecodeFile", imageBudget, 30*time.Second, "PREPROCESS_HOSTILE_FILE="+path)
			if r.Crashed() || r.ExitCode != 1 {
				t.Fatalf("child exit %d (timed out: %v), want 1 with an error; output:\n%s", r.ExitCode, r.TimedOut, r.Output)
			}
			if !strings.Contains(r.Output, "error: decoding "+path+": ") || !strings.Contains(r.Output, tt.want) {
				t.Fatalf("child output:\n%s\nwant an error naming %s and containing %q", r.Output, path, tt.want)
			}
		})
	}
	// In process, the three refused from their headers cost a fraction of a MiB.
	for _, data := range [][]byte{tests[0].data, tests[1].data, tests[2].data} {
		var err error
		if n := memlimit.Allocated(func() { _, err = decode(bytes.NewReader(data), "x", MaxPixels) }); err == nil || n > 256<<10 {
			t.Fatalf("refusing from the header allocated %d bytes, error %v", n, err)
		}
	}
}
