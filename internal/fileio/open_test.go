//go:build unix

package fileio

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadline is how long an open may take before the test calls it blocked: opening a
// local file takes microseconds, so this is slack for a loaded machine, not a guess.
const deadline = 500 * time.Millisecond

// within runs f in a goroutine and fails the test if it has not returned by the
// deadline, so that a call that would block forever fails the test instead of hanging
// the run. The blocked goroutine, if any, is left behind.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(deadline):
		t.Fatalf("%s still blocked after %v", what, deadline)
	}
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	return path
}

// special makes one of each kind of non-regular file, and symbolic links to a regular
// file and to the FIFO. The listener keeps the socket alive until the test ends.
func special(t *testing.T) (dir, regular, fifo, socket, linkToRegular, linkToFIFO string) {
	t.Helper()
	dir = t.TempDir()
	regular = filepath.Join(dir, "data.bin")
	if err := os.WriteFile(regular, []byte("twelve bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo = mkfifo(t, filepath.Join(dir, "fifo"))
	socket = filepath.Join(dir, "sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	linkToRegular = filepath.Join(dir, "link-to-data")
	linkToFIFO = filepath.Join(dir, "link-to-fifo")
	if err := os.Symlink(regular, linkToRegular); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("fifo", linkToFIFO); err != nil { // relative, as users make them
		t.Fatal(err)
	}
	return
}

func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir, _, fifo, socket, _, linkToFIFO := special(t)
	tests := []struct {
		name, path, want string
		mode             fs.FileMode
	}{
		{"directory", dir, "is a directory", fs.ModeDir},
		{"FIFO", fifo, "is a named pipe (FIFO), not a regular file", fs.ModeNamedPipe},
		{"symlink to a FIFO", linkToFIFO, "is a named pipe (FIFO), not a regular file", fs.ModeNamedPipe},
		{"/dev/null", "/dev/null", "is a character device, not a regular file", fs.ModeDevice | fs.ModeCharDevice},
		{"unix socket", socket, "is a Unix socket, not a regular file", fs.ModeSocket},
	}
	openers := []struct {
		name string
		open func(string) (*os.File, os.FileInfo, error)
	}{
		{"Open", Open},
		// Without the stat that Open does first, as when the path is swapped for a
		// FIFO after that stat: the fstat of the descriptor must still refuse it, and
		// opening must not block.
		{"openFD", openFD},
		{"ReadFile", func(p string) (*os.File, os.FileInfo, error) { _, err := ReadFile(p, 1<<20); return nil, nil, err }},
		{"StatRegular", func(p string) (*os.File, os.FileInfo, error) { _, err := StatRegular(p); return nil, nil, err }},
	}
	for _, o := range openers {
		for _, tt := range tests {
			t.Run(o.name+"/"+tt.name, func(t *testing.T) {
				var f *os.File
				var err error
				within(t, o.name+"("+tt.path+")", func() { f, _, err = o.open(tt.path) })
				if f != nil {
					f.Close()
				}
				if want := "reading " + tt.path + ": " + tt.want; err == nil || err.Error() != want {
					t.Fatalf("error %v, want %q", err, want)
				}
				var nr *NotRegularError
				if !errors.As(err, &nr) || nr.Mode != tt.mode {
					t.Fatalf("error %#v, want a *NotRegularError of mode %v", err, tt.mode)
				}
			})
		}
	}
}

func TestOpenFollowsASymlinkToARegularFile(t *testing.T) {
	_, regular, _, _, link, _ := special(t)
	for _, path := range []string{regular, link} {
		var f *os.File
		var info os.FileInfo
		var err error
		within(t, "Open("+path+")", func() { f, info, err = Open(path) })
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(got) != "twelve bytes" || info.Size() != 12 || !info.Mode().IsRegular() {
			t.Fatalf("Open(%s) read %q, %v, size %d, mode %v; want the 12 bytes of a regular file", path, got, err, info.Size(), info.Mode())
		}
	}
}

// TestPlainOpenOfAFIFOBlocks shows that the FIFO tests can fail: os.Open of a FIFO
// with no writer waits for one, and within reports it. The blocked open is then
// released by opening the write end.
func TestPlainOpenOfAFIFOBlocks(t *testing.T) {
	fifo := mkfifo(t, filepath.Join(t.TempDir(), "fifo"))
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			opened <- nil
			return
		}
		opened <- f
	}()
	select {
	case <-opened:
		t.Fatal("os.Open of a FIFO without a writer returned at once; the FIFO tests prove nothing")
	case <-time.After(100 * time.Millisecond):
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if f := <-opened; f != nil {
		f.Close()
	}
}

func TestOpenMissingFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("nowhere", dangling); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{missing, dangling} {
		_, _, err := Open(path)
		if want := "reading " + path + ": no such file or directory"; err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
		if !os.IsNotExist(err) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not satisfy os.IsNotExist", err)
		}
		if _, err := StatRegular(path); !os.IsNotExist(err) || !strings.Contains(err.Error(), path) {
			t.Errorf("StatRegular: %v, want a not-exist error naming %s", err, path)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	want := bytes.Repeat([]byte("0123456789"), 1000)
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path, int64(len(want)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile at the limit: %d bytes, %v; want %d", len(got), err, len(want))
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(empty, 0); err != nil || len(got) != 0 {
		t.Fatalf("empty file: %q, %v", got, err)
	}
	_, err = ReadFile(path, int64(len(want))-1)
	if wantErr := "reading " + path + ": 10000 bytes, more than the 9999 allowed"; err == nil || err.Error() != wantErr {
		t.Fatalf("over the limit: %v, want %q", err, wantErr)
	}
}

func TestReadFileOfASparseFileAllocatesNothing(t *testing.T) {
	// A file that claims 1 TiB (sparse: no block is written) must be refused from its
	// size, not read or allocated.
	path := filepath.Join(t.TempDir(), "sparse")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil {
		f.Close()
		t.Skipf("cannot make a sparse 1 TiB file here: %v", err)
	}
	f.Close()
	var before, after runtimeMem
	before.read()
	_, err = ReadFile(path, 1<<20)
	after.read()
	if err == nil || !strings.Contains(err.Error(), "more than the 1048576 allowed") {
		t.Fatalf("error %v, want a refusal by size", err)
	}
	if n := after.total - before.total; n > 64<<10 {
		t.Fatalf("allocated %d bytes refusing a file by its size", n)
	}
}
