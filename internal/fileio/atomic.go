package fileio

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/pkg/errors"
)

// WriteAtomic replaces the file at path with what write writes, so that a reader or a
// crash sees either the old file or the complete new one, never a part. It writes to a
// temporary file in the same folder (so the rename cannot cross file systems), syncs
// it, renames it over path and syncs the folder so the rename itself is durable. On any
// error, including one returned by write, the temporary file is removed and the file at
// path is left as it was. The new file gets permissions perm (not masked by umask).
//
// Every package uses it for every file it must not leave half written (checkpoints,
// config.json, metrics, figures).
func WriteAtomic(path string, write func(io.Writer) error, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	renamed := false
	defer func() {
		// Also runs if write panics: no temporary file is left behind.
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	if err := write(w); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	if err := w.Flush(); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	if err := tmp.Chmod(perm); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	if err := tmp.Sync(); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	if err := tmp.Close(); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	renamed = true
	// The file is in place; a failure to sync the folder only means the rename might
	// not survive a power loss, which the caller should still hear about.
	if err := syncDir(dir); err != nil {
		return errors.Wrapf(err, "writing %s: syncing folder", path)
	}
	return nil
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // Windows cannot open a folder for syncing; NTFS journals renames.
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteFile is WriteAtomic for data already in memory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, perm)
}

// tempPrefix is the start of the name of a temporary file for base: hidden,
// and recognisable as ours by its pattern.
func tempPrefix(base string) string { return "." + base + ".tmp-" }
