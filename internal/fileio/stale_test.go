package fileio

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pkg/errors"
)

// touch makes a file (or, with dir set, a folder) at dir/name last modified age ago.
func touch(t *testing.T, dir, name string, age time.Duration, isDir bool) {
	t.Helper()
	p := filepath.Join(dir, name)
	var err error
	if isDir {
		err = os.Mkdir(p, 0o755)
	} else {
		err = os.WriteFile(p, []byte("partial"), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestIsTempNameMatchesOnlyOurPattern(t *testing.T) {
	// The name os.CreateTemp really makes from our pattern must match.
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, tempPrefix("best.safetensors")+"*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if name := filepath.Base(f.Name()); !isTempName(name) {
		t.Fatalf("os.CreateTemp made %q, which isTempName does not match", name)
	}
	for name, want := range map[string]bool{
		".config.json.tmp-1":           true,
		".config.json.tmp-4294967295":  true,
		".a.tmp-b.tmp-123":             true,  // the base may hold the marker itself
		"config.json.tmp-123":          false, // no leading dot
		".config.json.tmp-":            false, // no digits
		".config.json.tmp-12a":         false,
		".config.json.tmp-123.bak":     false,
		".config.json.tmp-12345678901": false, // 11 digits: more than a uint32 has
		".tmp-123":                     false, // no base
		"..tmp-123":                    false, // the marker right after the dot: no base
		".config.json":                 false,
		"":                             false,
	} {
		if got := isTempName(name); got != want {
			t.Errorf("isTempName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestWriteAtomicRemovesOnlyStaleTemporaryFilesOfOurs(t *testing.T) {
	dir := t.TempDir()
	const old = 2 * StaleAge
	touch(t, dir, ".config.json.tmp-123456", old, false)     // ours, stale: removed
	touch(t, dir, ".best.safetensors.tmp-42", old, false)    // ours for another base: removed
	touch(t, dir, ".metrics.csv.tmp-777", StaleAge/2, false) // ours, fresh: a live writer's
	touch(t, dir, "config.json.tmp-123", old, false)         // no leading dot
	touch(t, dir, ".config.json.tmp-123.bak", old, false)    // suffix after the digits
	touch(t, dir, ".config.json.tmp-abc", old, false)        // not digits
	touch(t, dir, ".notes.tmp-1-keep", old, false)           // look-alike of a user's
	touch(t, dir, "notes.txt", old, false)                   // a plain old file
	touch(t, dir, ".folder.tmp-99", old, true)               // a folder named like ours
	if err := os.Symlink("notes.txt", filepath.Join(dir, ".link.tmp-5")); err != nil {
		t.Fatal(err)
	}

	if err := WriteFile(filepath.Join(dir, "metrics.csv"), []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{
		".config.json.tmp-123.bak",
		".config.json.tmp-abc",
		".folder.tmp-99",
		".link.tmp-5",
		".metrics.csv.tmp-777",
		".notes.tmp-1-keep",
		"config.json.tmp-123",
		"metrics.csv",
		"notes.txt",
	}
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Fatalf("folder holds %q, want %q", got, want)
	}
}

func TestRemoveStaleKeepsAFileJustUnderTheAge(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, ".a.tmp-1", StaleAge-time.Minute, false)
	touch(t, dir, ".b.tmp-2", StaleAge+time.Minute, false)
	if n := removeStale(dir, time.Now()); n != 1 {
		t.Fatalf("removed %d files, want 1", n)
	}
	if got := names(t, dir); !slices.Equal(got, []string{".a.tmp-1"}) {
		t.Fatalf("folder holds %q, want only the fresh .a.tmp-1", got)
	}
}

func TestWriteAtomicSucceedsWhenAStaleFileCannotBeRemoved(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, ".config.json.tmp-1", 2*StaleAge, false)
	var tried []string
	removeFile = func(p string) error {
		tried = append(tried, filepath.Base(p))
		return errors.New("permission denied")
	}
	t.Cleanup(func() { removeFile = os.Remove })

	path := filepath.Join(dir, "config.json")
	if err := WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatalf("write failed because a stale file could not be removed: %v", err)
	}
	if !slices.Equal(tried, []string{".config.json.tmp-1"}) {
		t.Fatalf("tried to remove %q, want the stale temporary file", tried)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "{}" {
		t.Fatalf("target holds %q, %v", got, err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{".config.json.tmp-1", "config.json"}) {
		t.Fatalf("folder holds %q", got)
	}
}
