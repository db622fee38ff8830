//go:build linux

package safetensors

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/internal/fileio"
	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// hostileFiles are files whose headers claim far more than memlimit.Budget.
func hostileFiles() []struct {
	name, want string
	data       []byte
} {
	return []struct {
		name, want string
		data       []byte
	}{
		{"10GB-tensor", "past the end of the 1000-byte data buffer",
			build(`{"a":{"dtype":"F32","shape":[2500000000],"data_offsets":[0,10000000000]}}`, make([]byte, 1000))},
		{"10GB-shape-over-1000-bytes", "F32 shape [2500000000] needs 10000000000 bytes, data_offsets [0 1000] span 1000",
			build(`{"a":{"dtype":"F32","shape":[2500000000],"data_offsets":[0,1000]}}`, make([]byte, 1000))},
		{"header-length-2^63", "header length 9223372036854775808 exceeds the 1000 bytes that follow it",
			append(binary.LittleEndian.AppendUint64(nil, 1<<63), make([]byte, 1000)...)},
	}
}

// TestHelperReadFile is run by TestHostileFilesUnderAMemoryLimit in a child process
// under a memory limit: it reads $SAFETENSORS_HOSTILE_FILE.
func TestHelperReadFile(t *testing.T) {
	if !memlimit.Child(t) {
		return
	}
	_, err := ReadFile(os.Getenv("SAFETENSORS_HOSTILE_FILE"))
	memlimit.Exit(err)
}

// TestHostileFilesUnderAMemoryLimit reads each hostile file in a child whose address
// space may grow by memlimit.Budget (1 GiB) at most, for at most 30 s: it must exit
// with an error naming the file and the lie, not die of running out of memory.
func TestHostileFilesUnderAMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range hostileFiles() {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".safetensors")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := memlimit.Run(t, "TestHelperReadFile", memlimit.Budget, 30*time.Second, "SAFETENSORS_HOSTILE_FILE="+path)
			if r.Crashed() || r.ExitCode != 1 {
				t.Fatalf("child exit %d (timed out: %v), want 1 with an error; output:\n%s", r.ExitCode, r.TimedOut, r.Output)
			}
			if !strings.Contains(r.Output, "error: reading "+path+": ") || !strings.Contains(r.Output, tt.want) {
				t.Fatalf("child output:\n%s\nwant an error naming %s and containing %q", r.Output, path, tt.want)
			}
			// And in process: refusing the file costs a small fraction of a MiB.
			var err error
			if n := memlimit.Allocated(func() { _, err = ReadFile(path) }); err == nil || n > 256<<10 {
				t.Fatalf("ReadFile allocated %d bytes, error %v", n, err)
			}
		})
	}
}

func TestReadFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.safetensors")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a FIFO: %v", err)
	}
	for path, want := range map[string]string{
		dir:         "is a directory",
		fifo:        "is a named pipe (FIFO), not a regular file",
		"/dev/zero": "is a character device, not a regular file",
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(path); done <- err }()
		select {
		case err := <-done:
			var nr *fileio.NotRegularError
			if err == nil || err.Error() != "reading "+path+": "+want || !errors.As(err, &nr) {
				t.Errorf("ReadFile(%s): %v, want %q", path, err, "reading "+path+": "+want)
			}
		case <-time.After(500 * time.Millisecond):
			t.Fatalf("ReadFile(%s) still blocked after 500ms", path)
		}
	}
}
