package mnist

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// setLimit sets *v to x for the rest of the test.
func setLimit(t *testing.T, v *int64, x int64) {
	old := *v
	*v = x
	t.Cleanup(func() { *v = old })
}

// TestMaxBytes checks that an honest header claiming more data than MaxBytes
// is refused before the data is read: a gzip bomb, here 2,000 blank images
// (1.5 MB) in 1.6 KB against a MaxBytes lowered to 1 MiB, as cmd/train met
// 4,000,000 of them (3.1 GB) in 3 MB and died of running out of memory. The
// error names the file, the count and the limit; a raised MaxBytes reads it.
func TestMaxBytes(t *testing.T) {
	setLimit(t, &MaxBytes, 1<<20)
	const n = 2000
	raw := idx(testImagesMagic, []uint32{n, 28, 28}, make([]byte, n*28*28))
	bomb := gz(raw)
	if len(bomb) > 4<<10 {
		t.Fatalf("the bomb is %d bytes; want a few KiB", len(bomb))
	}
	dir := t.TempDir()
	bombPath, rawPath := writeFile(t, dir, "t10k-images-idx3-ubyte.gz", bomb), writeFile(t, dir, "raw", raw)
	labels := idx(testLabelsMagic, []uint32{2 << 20}, make([]byte, 2<<20))
	labelsPath := writeFile(t, dir, "labels.gz", gz(labels))
	const want = "more than the 1048576 bytes (mnist.MaxBytes) an IDX file may hold"
	for _, c := range []struct {
		name, path, claim string
		read              func() error
	}{
		{"gzip file", bombPath, "header claims 2000 images (dimensions [2000 28 28], 1568000 bytes of data), ",
			func() error { _, _, err := ReadImages(bombPath); return err }},
		{"raw file", rawPath, "header claims 2000 images",
			func() error { _, _, err := ReadImages(rawPath); return err }},
		{"gzip stream", "stream", "header claims 2000 images",
			func() error { _, _, err := DecodeImages(bytes.NewReader(bomb), -1, "stream"); return err }},
		{"raw stream", "stream", "header claims 2000 images",
			func() error { _, _, err := DecodeImages(bytes.NewReader(raw), -1, "stream"); return err }},
		{"labels", labelsPath, "header claims 2097152 labels (dimensions [2097152], 2097152 bytes of data), ",
			func() error { _, err := ReadLabels(labelsPath); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			// The readers' own state (bufio, the decompressor) is well
			// under 256 KiB; the data would be 1.5 MB or more.
			if got := memlimit.Allocated(func() { err = c.read() }); got > 256<<10 {
				t.Errorf("allocated %d bytes, want <= %d", got, 256<<10)
			}
			if err == nil || !strings.Contains(err.Error(), "reading "+c.path+": "+c.claim) || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one naming %s, the claim and MaxBytes", err, c.path)
			}
		})
	}
	MaxBytes = 2 << 20
	px, got, err := ReadImages(bombPath)
	if err != nil || got != n || len(px) != n*28*28 {
		t.Fatalf("with MaxBytes 2 MiB: %d images, %d bytes, %v; want %d images", got, len(px), err, n)
	}
}

// growthImages is a count of images whose data is just over a power of two
// times startCap (4,194,400 bytes, 4 MiB + 96), where buffers doubling from
// startCap, the last cut to the data, held nearly three times the data in all
// and twice at once.
const growthImages = 5350

// TestGrowthHoldsLittleMoreThanTheData checks what reading data of a size
// not known beforehand (gzip from a reader that cannot be read twice) costs:
// the buffers, planned down from the header's size, are the data, half of
// it, a quarter, and so on: under twice the data in all, so at most 1.5
// times at once.
func TestGrowthHoldsLittleMoreThanTheData(t *testing.T) {
	data := gz(imagesFile(growthImages))
	need := growthImages * 28 * 28
	var px []byte
	var err error
	got := memlimit.Allocated(func() { px, _, err = DecodeImages(struct{ io.Reader }{bytes.NewReader(data)}, -1, "x") })
	if err != nil || !bytes.Equal(px, testPixels(growthImages)) {
		t.Fatalf("err %v, or the pixels differ", err)
	}
	if limit := uint64(2*need + 512<<10); got > limit {
		t.Errorf("allocated %d bytes for %d bytes of data, want <= %d", got, need, limit)
	}
	if cap(px) != need {
		t.Errorf("the pixels' buffer holds %d bytes, want exactly the %d of data", cap(px), need)
	}
}

// TestTwoPassReadsIntoOneBuffer checks that a large gzip file is read into
// one buffer of exactly its data, made after the data has been counted:
// with twoPassFrom lowered to 1 MiB, 4 MB of images cost one 4 MB buffer.
func TestTwoPassReadsIntoOneBuffer(t *testing.T) {
	setLimit(t, &twoPassFrom, 1<<20)
	path := writeFile(t, t.TempDir(), "images.gz", gz(imagesFile(growthImages)))
	need := growthImages * 28 * 28
	var px []byte
	var n int
	var err error
	got := memlimit.Allocated(func() { px, n, err = ReadImages(path) })
	if err != nil || n != growthImages || !bytes.Equal(px, testPixels(growthImages)) {
		t.Fatalf("%d images, err %v, or the pixels differ", n, err)
	}
	if limit := uint64(need + 512<<10); got > limit {
		t.Errorf("allocated %d bytes for %d bytes of data, want <= %d", got, need, limit)
	}
}

// changingFile is a file that another process rewrites between the two
// passes: once it is sought back to its start it holds next.
type changingFile struct {
	*bytes.Reader
	next []byte
}

func (c *changingFile) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart && c.next != nil {
		c.Reader, c.next = bytes.NewReader(c.next), nil
	}
	return c.Reader.Seek(off, whence)
}

// TestTwoPassFileChanged checks that the second pass trusts nothing the
// first found: a header or data changed in between is an error, not a
// buffer sized by the first pass and filled by the second.
func TestTwoPassFileChanged(t *testing.T) {
	setLimit(t, &twoPassFrom, 1)
	first := gz(imagesFile(5))
	for _, c := range []struct {
		name string
		next []byte
		want string
	}{
		{"other header", gz(imagesFile(4)), "reading f: the file changed while it was read: dimensions [5 28 28], then [4 28 28]"},
		{"shorter data", gz(idx(testImagesMagic, []uint32{5, 28, 28}, testPixels(4))), "reading f: header claims 5 images (dimensions [5 28 28], 3920 bytes of data) but the data holds only 4 images (3136 bytes) and ends there"},
		{"longer data", gz(idx(testImagesMagic, []uint32{5, 28, 28}, testPixels(6))), "reading f: trailing data after the 5 images the header declares"},
		{"not gzip", imagesFile(5), "reading f: the file changed while it was read: gzip, then not"},
		{"a broken gzip header", append(append([]byte(nil), first[:3]...), 0xe0), "reading f: gzip stream truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeImages(&changingFile{bytes.NewReader(first), c.next}, int64(len(first)), "f")
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	// Unchanged, it reads.
	px, n, err := DecodeImages(&changingFile{bytes.NewReader(first), first}, int64(len(first)), "f")
	if err != nil || n != 5 || !bytes.Equal(px, testPixels(5)) {
		t.Errorf("%d images, %v; want the 5", n, err)
	}
}
