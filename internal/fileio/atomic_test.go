package fileio

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

func TestWriteAtomicReplacesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := WriteAtomic(path, writeString(content), 0o640); err != nil {
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

func TestWriteAtomicFailureLeavesTargetUntouched(t *testing.T) {
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
			err := WriteAtomic(path, tt.write, 0o644)
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

func TestWriteAtomicPanicLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.csv")
	func() {
		defer func() { recover() }()
		WriteAtomic(path, func(io.Writer) error { panic("bug in the writer") }, 0o644)
	}()
	assertOnlyFiles(t, dir)
}

func TestWriteAtomicMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "folder", "f")
	err := WriteAtomic(path, writeString("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
}

func TestWriteAtomicRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteAtomic("rel.json", writeString("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir, "rel.json")
}

func TestWriteFileSetsModeAndContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.png")
	for _, content := range []string{"first", "second, longer than the first"} {
		if err := WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("file holds %q, %v; want %q", got, err, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// os.CreateTemp makes 0600 files; the result must have the mode asked for.
	if perm := fi.Mode().Perm(); perm != 0o644 {
		t.Errorf("mode %v, want 0644", perm)
	}
	assertOnlyFiles(t, dir, "f.png")
}
