//go:build linux

package mnist

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// hostileGzip returns a gzipped IDX file whose header claims claim items of item
// bytes each (magic, dims) but whose data is n random bytes: random so that the
// gzip is as large as the data, n bytes. An allocation sized from the compressed size
// times deflate's 1032:1 bound, as the reader once made, would be n*1032 bytes.
func hostileGzip(t testing.TB, magic uint32, dims []uint32, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	r := rand.New(rand.NewChaCha8([32]byte{}))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	w.Write(idx(magic, dims, data))
	w.Close()
	return out.Bytes()
}

// hostileSize is the data in the hostile gzip files: 2 MiB, so that the old first
// guess (2 MiB * 1032 = 2 GiB) is twice memlimit.Budget, while what is actually
// decompressed is a five-hundredth of it.
const hostileSize = 2 << 20

// hostileClaim is the images the lying headers claim: 784,000,000 bytes, under
// MaxBytes, so that the claim is weighed against the data as it arrives (a
// claim past MaxBytes is refused from the header alone: TestMaxBytes).
const hostileClaim = 1_000_000

// TestHugeClaimInABigGzipAllocatesByTheData checks in process that a gzip claiming
// a million images costs what its data costs: read from a file, whose data is
// counted before a buffer is made for it (twoPassFrom), and from a reader that
// cannot be read twice, whose buffers sum to under four times the bytes
// decompressed (see startCap); plus the decompressor's state.
func TestHugeClaimInABigGzipAllocatesByTheData(t *testing.T) {
	data := hostileGzip(t, testImagesMagic, []uint32{hostileClaim, 28, 28}, hostileSize)
	path := writeFile(t, t.TempDir(), "claims-a-million.gz", data)
	for _, c := range []struct {
		name string
		read func() error
	}{
		{"file", func() error { _, _, err := ReadImages(path); return err }},
		{"stream", func() error {
			_, _, err := DecodeImages(struct{ io.Reader }{bytes.NewReader(data)}, -1, path)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := c.read()
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "header claims 1000000 images") ||
				!strings.Contains(err.Error(), "holds only 2674 images and 736 bytes of another (2097152 bytes) and ends there") {
				t.Fatalf("error %v, want one naming %s, the million images claimed and the 2674 there", err, path)
			}
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*hostileSize+1<<20); got > limit {
				t.Fatalf("allocated %d bytes for %d bytes of data, want <= %d", got, hostileSize, limit)
			}
		})
	}
}

// TestHelperReadIDX is run by TestHostileIDXUnderAMemoryLimit in a child process
// under a memory limit: it reads $MNIST_HOSTILE_FILE as images or labels.
func TestHelperReadIDX(t *testing.T) {
	if !memlimit.Child(t) {
		return
	}
	path := os.Getenv("MNIST_HOSTILE_FILE")
	var err error
	if os.Getenv("MNIST_HOSTILE_KIND") == "labels" {
		_, err = ReadLabels(path)
	} else {
		_, _, err = ReadImages(path)
	}
	memlimit.Exit(err)
}

// TestHostileIDXUnderAMemoryLimit reads hostile IDX files in a child process whose
// address space may grow by memlimit.Budget (1 GiB) at most, for at most 30 s each:
// the child must exit with an error naming the file and the claim, not die of
// running out of memory, panic or hang.
func TestHostileIDXUnderAMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, kind string
		data       []byte
		want       string
	}{
		{"2MiB gzip claiming a million images", "images",
			hostileGzip(t, testImagesMagic, []uint32{hostileClaim, 28, 28}, hostileSize),
			"header claims 1000000 images (dimensions [1000000 28 28], 784000000 bytes of data) but the data holds only 2674 images"},
		{"2MiB gzip claiming 2^30 labels", "labels",
			hostileGzip(t, testLabelsMagic, []uint32{1 << 30}, hostileSize),
			// Random bytes are not digits; the count is checked before the labels.
			"header claims 1073741824 labels (dimensions [1073741824], 1073741824 bytes of data) but the data holds only 2097152 labels"},
		{"2MiB gzip claiming 2^31 images", "images",
			hostileGzip(t, testImagesMagic, []uint32{1 << 31, 28, 28}, hostileSize),
			"header claims 2147483648 images (dimensions [2147483648 28 28], 1683627180032 bytes of data), more than the 1073741824 bytes (mnist.MaxBytes)"},
		{"2MiB gzip claiming 2^32-1 labels", "labels",
			hostileGzip(t, testLabelsMagic, []uint32{1<<32 - 1}, hostileSize),
			"header claims 4294967295 labels (dimensions [4294967295], 4294967295 bytes of data), more than the 1073741824 bytes (mnist.MaxBytes)"},
		{"20-byte raw file claiming 2^31 images", "images",
			idx(testImagesMagic, []uint32{1 << 31, 28, 28}, make([]byte, 4)),
			"header claims 2147483648 images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_"), tt.data)
			r := memlimit.Run(t, "TestHelperReadIDX", memlimit.Budget, 30*time.Second,
				"MNIST_HOSTILE_FILE="+path, "MNIST_HOSTILE_KIND="+tt.kind)
			if r.Crashed() || r.ExitCode != 1 {
				t.Fatalf("child exit %d (timed out: %v), want 1 with an error; output:\n%s", r.ExitCode, r.TimedOut, r.Output)
			}
			if !strings.Contains(r.Output, "error: reading "+path+": ") || !strings.Contains(r.Output, tt.want) {
				t.Fatalf("child output:\n%s\nwant an error naming %s and containing %q", r.Output, path, tt.want)
			}
		})
	}
}

// withinDeadline fails the test if f has not returned in half a second; a reader
// that blocks on a FIFO would otherwise hang the test run.
func withinDeadline(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(500 * time.Millisecond):
		t.Fatalf("%s still blocked after 500ms", what)
	}
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	return path
}

func TestReadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{dir, "reading " + dir + ": is a directory"},
		{fifo, "reading " + fifo + ": is a named pipe (FIFO), not a regular file"},
		{link, "reading " + link + ": is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", "reading /dev/zero: is a character device, not a regular file"},
	} {
		var err1, err2 error
		withinDeadline(t, "ReadImages("+tc.path+")", func() { _, _, err1 = ReadImages(tc.path) })
		withinDeadline(t, "ReadLabels("+tc.path+")", func() { _, err2 = ReadLabels(tc.path) })
		for _, err := range []error{err1, err2} {
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		}
	}
}

func TestLoadAndLocateSayWhatIsInTheWay(t *testing.T) {
	dir := t.TempDir()
	writeSplit(t, dir, "train", 3, false)
	writeSplit(t, dir, "t10k", 2, false)
	// The test images replaced by a FIFO, the training labels by a folder.
	images := filepath.Join(dir, "t10k-images-idx3-ubyte")
	labels := filepath.Join(dir, "train-labels-idx1-ubyte")
	os.Remove(images)
	os.Remove(labels)
	mkfifo(t, images)
	if err := os.Mkdir(labels, 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	withinDeadline(t, "Load", func() { _, err = Load(dir, Test) })
	if want := "loading MNIST: reading " + images + ": is a named pipe (FIFO), not a regular file"; err == nil || err.Error() != want {
		t.Errorf("Load with a FIFO for the images: %v, want %q", err, want)
	}
	withinDeadline(t, "Locate", func() { _, err = Locate(dir) })
	for _, want := range []string{labels + ": is a directory", images + ": is a named pipe (FIFO)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Locate: %v, want it to contain %q", err, want)
		}
	}
	if _, err := Locate(filepath.Join(dir, "train-images-idx3-ubyte")); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("Locate of a file: %v, want 'is not a folder'", err)
	}
}

func TestDownloadDoesNotWaitOnOrRemoveAFIFO(t *testing.T) {
	files, content := testFiles()
	m := newMirror(t, content, good)
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, files[0].Name))
	var err error
	withinDeadline(t, "Download", func() {
		_, err = Download(context.Background(), DownloadOptions{Mirrors: []string{m.base()}, Dir: dir, Files: files})
	})
	if err == nil || !strings.Contains(err.Error(), fifo+": is a named pipe (FIFO), not a regular file") {
		t.Fatalf("error %v, want one saying %s is a FIFO", err, fifo)
	}
	if info, err := os.Lstat(fifo); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO is gone or changed: %v, %v", info, err)
	}
	if n := m.requests(); n != 0 {
		t.Fatalf("%d requests, want none", n)
	}
}
