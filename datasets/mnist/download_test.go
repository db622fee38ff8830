package mnist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testFiles are small stand-ins for the MNIST files, with their digests.
func testFiles() (files []File, content map[string][]byte) {
	content = map[string][]byte{
		"train-images-idx3-ubyte.gz": gz(imagesFile(3)),
		"train-labels-idx1-ubyte.gz": gz(labelsFile(1, 2, 3)),
	}
	for _, name := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"} {
		sum := sha256.Sum256(content[name])
		files = append(files, File{Name: name, Size: int64(len(content[name])), SHA256: hex.EncodeToString(sum[:])})
	}
	return files, content
}

// mirror is a loopback HTTP server that serves files through a transform
// and counts the requests per path.
type mirror struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newMirror(t *testing.T, content map[string][]byte, serve func(w http.ResponseWriter, data []byte)) *mirror {
	m := &mirror{hits: map[string]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/mnist/")
		m.mu.Lock()
		m.hits[name]++
		m.mu.Unlock()
		data, ok := content[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, data)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *mirror) base() string { return m.URL + "/mnist/" }

func (m *mirror) requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, h := range m.hits {
		n += h
	}
	return n
}

func good(w http.ResponseWriter, data []byte) { w.Write(data) }

// corrupt serves the file with one byte changed: same size, other digest.
func corrupt(w http.ResponseWriter, data []byte) {
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	w.Write(bad)
}

func tooLong(w http.ResponseWriter, data []byte) { w.Write(append(bytes.Clone(data), 0)) }

func serverError(w http.ResponseWriter, data []byte) {
	http.Error(w, "boom", http.StatusInternalServerError)
}

// down is the address of a server that is no longer listening.
func down(t *testing.T) string {
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	return s.URL + "/mnist/"
}

// checkDir asserts dir holds exactly the given files with the given content.
func checkDir(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if w, ok := want[e.Name()]; !ok || err != nil || !bytes.Equal(got, w) {
			t.Errorf("%s: unexpected file or content (expected: %v)", e.Name(), ok)
		}
	}
	if len(names) != len(want) {
		t.Errorf("dir holds %v, want %d files", names, len(want))
	}
}

func TestDownload(t *testing.T) {
	files, content := testFiles()
	for _, tc := range []struct {
		name    string
		mirrors func() []*mirror
		down    int // mirrors that are not listening, tried first
	}{
		{"good", func() []*mirror { return []*mirror{newMirror(t, content, good)} }, 0},
		{"corrupt-then-good", func() []*mirror {
			return []*mirror{newMirror(t, content, corrupt), newMirror(t, content, good)}
		}, 0},
		{"down-500-toolong-then-good", func() []*mirror {
			return []*mirror{newMirror(t, content, serverError), newMirror(t, content, tooLong), newMirror(t, content, good)}
		}, 1},
		{"404-then-good", func() []*mirror {
			return []*mirror{newMirror(t, nil, good), newMirror(t, content, good)}
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bases []string
			for range tc.down {
				bases = append(bases, down(t))
			}
			ms := tc.mirrors()
			for _, m := range ms {
				bases = append(bases, m.base())
			}
			dir := filepath.Join(t.TempDir(), "cache") // Download makes it
			got, err := Download(context.Background(), DownloadOptions{Mirrors: bases, Dir: dir, Files: files})
			if err != nil || got != dir {
				t.Fatalf("Download = %q, %v", got, err)
			}
			checkDir(t, dir, content)
			for i, m := range ms {
				if n := m.requests(); n != len(files) {
					t.Errorf("mirror %d got %d requests, want one per file (%d)", i, n, len(files))
				}
			}
		})
	}
}

func TestDownloadAllFail(t *testing.T) {
	files, content := testFiles()
	bad := []*mirror{newMirror(t, content, corrupt), newMirror(t, content, serverError), newMirror(t, content, tooLong)}
	bases := []string{down(t)}
	for _, m := range bad {
		bases = append(bases, m.base())
	}
	dir := t.TempDir()
	_, err := Download(context.Background(), DownloadOptions{Mirrors: bases, Dir: dir, Files: files})
	if err == nil {
		t.Fatal("no error")
	}
	// The atomic writer names the file it was writing; the checks below
	// are about what each mirror sent.
	msg := strings.ReplaceAll(err.Error(), "writing "+filepath.Join(dir, "train-images-idx3-ubyte.gz")+": ", "")
	t.Log(msg)
	for _, want := range []string{
		"downloading train-images-idx3-ubyte.gz: every mirror failed",
		bases[0] + "train-images-idx3-ubyte.gz: ",
		bases[1] + "train-images-idx3-ubyte.gz: SHA-256",
		bases[2] + "train-images-idx3-ubyte.gz: HTTP 500 Internal Server Error",
		bases[3] + "train-images-idx3-ubyte.gz: more than",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	checkDir(t, dir, nil) // no corrupt file, no .part
}

func TestDownloadKeepsGoodFiles(t *testing.T) {
	files, content := testFiles()
	m := newMirror(t, content, good)
	dir := t.TempDir()
	for name, data := range content {
		writeFile(t, dir, name, data)
	}
	if _, err := Download(context.Background(), DownloadOptions{Mirrors: []string{m.base()}, Dir: dir, Files: files}); err != nil {
		t.Fatal(err)
	}
	if n := m.requests(); n != 0 {
		t.Errorf("%d requests for files already there, want 0", n)
	}

	// A wrong file under the final name is replaced.
	writeFile(t, dir, files[1].Name, []byte("not MNIST"))
	if _, err := Download(context.Background(), DownloadOptions{Mirrors: []string{m.base()}, Dir: dir, Files: files}); err != nil {
		t.Fatal(err)
	}
	if m.hits[files[1].Name] != 1 || m.requests() != 1 {
		t.Errorf("hits %v, want one request for %s", m.hits, files[1].Name)
	}
	checkDir(t, dir, content)

	// And removed when no mirror has the right one.
	writeFile(t, dir, files[1].Name, []byte("not MNIST"))
	if _, err := Download(context.Background(), DownloadOptions{Mirrors: []string{down(t)}, Dir: dir, Files: files}); err == nil {
		t.Fatal("no error with every mirror down")
	}
	checkDir(t, dir, map[string][]byte{files[0].Name: content[files[0].Name]})
}

func TestDownloadProgressAndDefaultClient(t *testing.T) {
	files, content := testFiles()
	m := newMirror(t, content, good)
	var progress bytes.Buffer
	dir := t.TempDir()
	// Client nil: Download's own client, fine for a loopback server.
	if _, err := Download(context.Background(), DownloadOptions{Mirrors: []string{m.base()}, Dir: dir, Files: files, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), files[0].Name) || !strings.Contains(progress.String(), "100%") {
		t.Errorf("progress output %q lacks the file name or 100%%", progress.String())
	}
	checkDir(t, dir, content)
}

func TestDownloadCanceled(t *testing.T) {
	files, content := testFiles()
	a, b := newMirror(t, content, good), newMirror(t, content, good)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, err := Download(ctx, DownloadOptions{Mirrors: []string{a.base(), b.base()}, Dir: dir, Files: files})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("got %v, want a context error", err)
	}
	if a.requests()+b.requests() != 0 {
		t.Errorf("requests made after cancel: %d, %d", a.requests(), b.requests())
	}
	checkDir(t, dir, nil)
}

func TestDownloadBadOptions(t *testing.T) {
	for _, f := range []File{
		{Name: "../escape", SHA256: strings.Repeat("0", 64)},
		{Name: "", SHA256: strings.Repeat("0", 64)},
		{Name: "x.gz", SHA256: "abc"},
	} {
		_, err := Download(context.Background(), DownloadOptions{Mirrors: []string{"http://127.0.0.1:1/"}, Dir: t.TempDir(), Files: []File{f}})
		if err == nil {
			t.Errorf("%+v: no error", f)
		}
	}
}
