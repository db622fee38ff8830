package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// IDX magic numbers from http://yann.lecun.com/exdb/mnist/ (file formats):
// 0x00000803 for images (3 dims of unsigned bytes), 0x00000801 for labels.
const (
	testImagesMagic = 0x00000803
	testLabelsMagic = 0x00000801
)

// idx builds an IDX file: big-endian magic, dims, then data.
func idx(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(data)
	return b.Bytes()
}

// testPixels returns n distinct 28x28 images: pixel k of image i is
// (7*i + k) mod 256, so every image and every position differs.
func testPixels(n int) []byte {
	p := make([]byte, n*28*28)
	for i := range n {
		for k := range 28 * 28 {
			p[i*28*28+k] = byte(7*i + k)
		}
	}
	return p
}

func imagesFile(n int) []byte {
	return idx(testImagesMagic, []uint32{uint32(n), 28, 28}, testPixels(n))
}

func labelsFile(labels ...byte) []byte {
	return idx(testLabelsMagic, []uint32{uint32(len(labels))}, labels)
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadImagesGood(t *testing.T) {
	dir := t.TempDir()
	want := testPixels(5)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"raw", imagesFile(5)},
		// The name says nothing about gzip: detection is by magic bytes.
		{"gzipped-no-suffix", gz(imagesFile(5))},
		{"gzipped.gz", gz(imagesFile(5))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			px, n, err := ReadImages(writeFile(t, dir, tc.name, tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if n != 5 || !bytes.Equal(px, want) {
				t.Errorf("got %d images, pixels equal: %v; want 5, true", n, bytes.Equal(px, want))
			}
		})
	}
}

func TestReadLabelsGood(t *testing.T) {
	dir := t.TempDir()
	want := []byte{0, 9, 3, 3, 7}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"raw", labelsFile(want...)},
		{"gzipped", gz(labelsFile(want...))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadLabels(writeFile(t, dir, tc.name, tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestReadBad(t *testing.T) {
	good := imagesFile(5)
	goodGz := gz(good)
	// gzip trailer: CRC-32 then size, 4 bytes each (RFC 1952 section 2.3.1).
	badCRC := bytes.Clone(goodGz)
	badCRC[len(badCRC)-8] ^= 0xff
	// Byte 2 is the compression method, 8 = deflate (RFC 1952 section 2.3.1).
	badMethod := bytes.Clone(goodGz)
	badMethod[2] = 9

	cases := []struct {
		name   string
		labels bool // read with ReadLabels instead of ReadImages
		data   []byte
		want   string
	}{
		{"empty", false, nil, "too short for an IDX header"},
		{"short-header", false, good[:10], "too short for an IDX header"},
		{"wrong-magic", false, idx(0x00000903, []uint32{5, 28, 28}, testPixels(5)), "bad magic number 0x00000903"},
		{"wrong-magic-labels", true, idx(0x00000903, []uint32{5}, make([]byte, 5)), "bad magic number 0x00000903"},
		{"wrong-ndims", false, idx(0x00000802, []uint32{5, 784}, testPixels(5)), "declares 2 dimensions, want 3"},
		{"labels-as-images", false, labelsFile(1, 2, 3), "declares 1 dimensions, want 3"},
		{"images-as-labels", true, good, "declares 3 dimensions, want 1"},
		{"27x28", false, idx(testImagesMagic, []uint32{5, 27, 28}, make([]byte, 5*27*28)), "images are 27x28, want 28x28"},
		// The claimed and the actual count, both.
		{"claims-more", false, idx(testImagesMagic, []uint32{6, 28, 28}, testPixels(5)),
			"header claims 6 images (dimensions [6 28 28], 4704 bytes of data) but the file holds only 5 images (3920 bytes after the 16-byte header)"},
		{"claims-more-gz", false, gz(idx(testImagesMagic, []uint32{6, 28, 28}, testPixels(5))),
			"header claims 6 images (dimensions [6 28 28], 4704 bytes of data) but the data holds only 5 images (3920 bytes) and ends there"},
		{"claims-more-partial-gz", false, gz(idx(testImagesMagic, []uint32{6, 28, 28}, testPixels(5)[:3000])),
			"but the data holds only 3 images and 648 bytes of another (3000 bytes) and ends there"},
		// 2^31 images of 784 bytes in a 20-byte file (16-byte header + 4).
		{"claims-2^31", false, idx(testImagesMagic, []uint32{1 << 31, 28, 28}, make([]byte, 4)),
			"header claims 2147483648 images (dimensions [2147483648 28 28], 1683627180032 bytes of data) but the file holds only 0 images and 4 bytes of another"},
		{"claims-2^31-gz", false, gz(idx(testImagesMagic, []uint32{1 << 31, 28, 28}, make([]byte, 4))), "header claims 2147483648 images"},
		{"claims-more-labels", true, idx(testLabelsMagic, []uint32{9}, []byte{1, 2}), "header claims 9 labels (dimensions [9], 9 bytes of data) but the file holds only 2 labels"},
		{"claims-more-labels-gz", true, gz(idx(testLabelsMagic, []uint32{9}, []byte{1, 2})), "header claims 9 labels (dimensions [9], 9 bytes of data) but the data holds only 2 labels (2 bytes)"},
		{"trailing", false, append(bytes.Clone(good), 1, 2, 3), "3 trailing bytes after the 5 images"},
		{"trailing-gz", false, gz(append(bytes.Clone(good), 1, 2, 3)), "trailing data after the 5 images"},
		{"trailing-labels", true, append(labelsFile(1, 2), 0), "1 trailing bytes after the 2 labels"},
		{"label-10", true, labelsFile(0, 1, 2, 10, 4), "label 3 is 10, want 0..9"},
		{"label-255-gz", true, gz(labelsFile(255)), "label 0 is 255, want 0..9"},
		{"truncated-gz", false, goodGz[:len(goodGz)/2], "gzip stream truncated"},
		{"truncated-gz-header", false, goodGz[:5], "gzip stream truncated"},
		{"truncated-gz-trailer", false, goodGz[:len(goodGz)-3], "gzip stream truncated"},
		{"corrupt-gz-crc", false, badCRC, "corrupt gzip stream: gzip: invalid checksum"},
		{"corrupt-gz-header", false, badMethod, "corrupt gzip stream: gzip: invalid header"},
		// gzip reads on for a second member; 10 bytes fill its header.
		{"garbage-after-gz", false, append(bytes.Clone(goodGz), "0123456789"...), "corrupt gzip stream: gzip: invalid header"},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, tc.name, tc.data)
			var err error
			if tc.labels {
				_, err = ReadLabels(path)
			} else {
				_, _, err = ReadImages(path)
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, path) {
				t.Errorf("error %q, want it to contain %q and the path %s", msg, tc.want, path)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope")
	if _, _, err := ReadImages(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want an error naming %s", err, path)
	}
}

// TestHugeClaimAllocatesLittle checks that a header's claim is weighed
// against the real input before memory is allocated for it.
func TestHugeClaimAllocatesLittle(t *testing.T) {
	huge := idx(testImagesMagic, []uint32{1 << 31, 28, 28}, make([]byte, 4)) // 20 bytes claiming 1.7 TB
	// 60,000 images as in MNIST's training set: 47 MB that would be
	// allocated without complaint, unlike 1.7 TB.
	mnistSized := idx(testImagesMagic, []uint32{60000, 28, 28}, make([]byte, 4))
	dir := t.TempDir()
	cases := []struct {
		name string
		read func() error
	}{
		{"raw-file", func() error { _, _, err := ReadImages(writeFile(t, dir, "a", huge)); return err }},
		{"gz-file", func() error { _, _, err := ReadImages(writeFile(t, dir, "b", gz(huge))); return err }},
		{"raw-unknown-size", func() error { _, _, err := DecodeImages(bytes.NewReader(huge), -1, "c"); return err }},
		{"gz-unknown-size", func() error { _, _, err := DecodeImages(bytes.NewReader(gz(huge)), -1, "d"); return err }},
		{"mnist-sized-raw", func() error { _, _, err := ReadImages(writeFile(t, dir, "e", mnistSized)); return err }},
		{"mnist-sized-gz", func() error { _, _, err := ReadImages(writeFile(t, dir, "f", gz(mnistSized))); return err }},
		{"mnist-sized-unknown", func() error {
			_, _, err := DecodeImages(bytes.NewReader(mnistSized), -1, "g")
			return err
		}},
	}
	// 1 MiB is far above what the readers need (bufio 4 KiB, the gzip
	// decompressor ~40 KiB, a 64 KiB first buffer) and far below the claims.
	const limit = 1 << 20
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tc.read()
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "header claims") {
				t.Errorf("got %v, want a 'header claims' error", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > limit {
				t.Errorf("allocated %d bytes, want <= %d", got, limit)
			}
		})
	}
}

func TestDecodeUnknownSizeGood(t *testing.T) {
	// More than one 64 KiB first buffer, so the buffer has to grow.
	const n = 200
	for _, data := range [][]byte{imagesFile(n), gz(imagesFile(n))} {
		px, got, err := DecodeImages(bytes.NewReader(data), -1, "x")
		if err != nil || got != n || !bytes.Equal(px, testPixels(n)) {
			t.Errorf("got n=%d err=%v equal=%v, want %d images", got, err, bytes.Equal(px, testPixels(n)), n)
		}
	}
}
