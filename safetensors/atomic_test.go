package safetensors

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// assertOnlyFiles fails unless dir holds exactly the named files (no temporary ones).
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("folder holds %v, want %v", got, names)
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestAtomicWriteReplacesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := AtomicWrite(path, writeString(content), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("file holds %q, %v; want %q", got, err, content)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, %v; want 0640", info.Mode(), err)
	}
	assertOnlyFiles(t, dir, "config.json")
}

func TestAtomicWriteFailureLeavesTargetUntouched(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"write func fails after writing", func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("x", 1<<17)) // more than bufio's buffer, so it reaches the file
			return cause
		}},
		{"write func fails at once", func(io.Writer) error { return cause }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := AtomicWrite(path, tt.write, 0o644)
			if errors.Cause(err) != cause || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want %v wrapped with the path", err, cause)
			}
			if got, _ := os.ReadFile(path); string(got) != "old" {
				t.Fatalf("target holds %q, want the old content", got)
			}
			assertOnlyFiles(t, dir, "model.safetensors")
		})
	}
}

func TestAtomicWritePanicLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.csv")
	func() {
		defer func() { recover() }()
		AtomicWrite(path, func(io.Writer) error { panic("bug in the writer") }, 0o644)
	}()
	assertOnlyFiles(t, dir)
}

func TestAtomicWriteMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "folder", "f")
	err := AtomicWrite(path, writeString("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
}

func TestWriteFileFailureKeepsThePreviousCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	good := mixedFile()
	if err := WriteFile(path, good); err != nil {
		t.Fatal(err)
	}
	bad := &File{Tensors: []Tensor{{Name: "w", DType: F32, Shape: []int{2}, Data: make([]byte, 3)}}}
	if err := WriteFile(path, bad); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("writing an invalid File: %v, want an error naming %s", err, path)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameFile(t, got, good)
	assertOnlyFiles(t, dir, "ckpt.safetensors")
}

func TestAtomicWriteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := AtomicWrite("rel.json", writeString("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir, "rel.json")
}
