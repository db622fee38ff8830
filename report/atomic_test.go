package report

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.png")
	for _, content := range []string{"first", "second, longer than the first"} {
		if err := writeFileAtomic(path, []byte(content)); err != nil {
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
	// os.CreateTemp makes 0600 files; a figure should be as readable as one
	// os.WriteFile(path, data, 0o644) makes.
	if perm := fi.Mode().Perm(); perm != 0o644 {
		t.Errorf("mode %v, want 0644", perm)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("folder holds %v, want only f.png", names)
	}
}

func TestWriteFileAtomicRelative(t *testing.T) {
	// A bare file name writes to the working folder.
	dir := t.TempDir()
	t.Chdir(dir)
	if err := writeFileAtomic("bare.png", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "bare.png")); err != nil || string(got) != "x" {
		t.Errorf("bare.png holds %q, %v", got, err)
	}
}
