package fileio

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pkg/errors"
)

// WriteAtomic replaces the file at path with what write writes, so that a reader or a
// crash sees either the old file or the complete new one, never a part. It writes to a
// temporary file in the same folder (so the rename cannot cross file systems), syncs
// it, renames it over path and syncs the folder so the rename itself is durable. On any
// error, including one returned by write, the temporary file is removed and the file at
// path is left as it was. The new file gets permissions perm (not masked by umask).
//
// A process killed mid-write (SIGKILL, power loss) leaves its temporary file behind,
// named "."+base+".tmp-"+digits. So that these do not pile up, each call first removes
// such files in the same folder that are older than StaleAge (see removeStale); it
// never removes anything else, and a failure to remove one does not fail the write.
//
// Every package uses it for every file it must not leave half written (checkpoints,
// config.json, metrics, figures).
func WriteAtomic(path string, write func(io.Writer) error, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// Before writing, so that the space stale files hold is free for this one.
	removeStale(dir, time.Now())
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

// tempMarker separates the base from os.CreateTemp's random part in a temporary name.
const tempMarker = ".tmp-"

// isTempName reports whether name is exactly what WriteAtomic names its temporary
// files: a dot, a non-empty base, ".tmp-", then the decimal digits os.CreateTemp puts
// in place of the "*" (a uint32, so 1 to 10 of them). Anything else, such as
// ".x.tmp-old", "x.tmp-1" or ".x.tmp-12.bak", is not ours.
func isTempName(name string) bool {
	if !strings.HasPrefix(name, ".") {
		return false
	}
	i := strings.LastIndex(name, tempMarker)
	if i <= 1 { // no marker, or no base between the dot and the marker
		return false
	}
	digits := name[i+len(tempMarker):]
	if len(digits) < 1 || len(digits) > 10 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// StaleAge is how old a temporary file of WriteAtomic's must be before a later call
// removes it. A live writer's temporary file must never be removed, and its
// modification time moves with every write it makes: even a checkpoint of gigabytes
// on a slow disk is written and synced in minutes, so an hour is far past any live
// write, and also covers minutes of clock skew between machines sharing a network
// file system. A temporary file an hour old is one whose writer died.
const StaleAge = time.Hour

// removeFile is os.Remove, replaced in tests to make a removal fail.
var removeFile = os.Remove

// removeStale removes from dir the regular files that isTempName matches and that
// were last modified more than StaleAge before now, and returns how many it removed.
// It is best effort: a folder it cannot list or a file it cannot remove is left for
// next time, never an error for the write that called it. Its cost is one ReadDir of
// the folder, plus one lstat per temporary name: nothing next to a checkpoint's
// write for folders of a few hundred files, as run folders are.
func removeStale(dir string, now time.Time) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		// ReadDir does not follow symbolic links, so a link named like ours is not
		// a regular file here and stays, as does whatever it points to.
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) <= StaleAge {
			continue
		}
		if removeFile(filepath.Join(dir, e.Name())) == nil {
			removed++
		}
	}
	return removed
}
