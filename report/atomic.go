package report

import (
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// writeFileAtomic writes data to path so that path either keeps its old
// content or gets all of data, never a part: data goes to a temporary file in
// the same folder (rename is atomic only within one file system), which is
// synced and then renamed over path. On any error the temporary file is
// removed.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return errors.Wrapf(err, "writing %s", tmp)
	}
	// CreateTemp makes the file private (0600); a figure is for sharing.
	if err = f.Chmod(0o644); err != nil {
		return errors.Wrapf(err, "writing %s", tmp)
	}
	if err = f.Sync(); err != nil {
		return errors.Wrapf(err, "syncing %s", tmp)
	}
	if err = f.Close(); err != nil {
		return errors.Wrapf(err, "closing %s", tmp)
	}
	if err = os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	// Sync the folder so the rename itself survives a crash; some file
	// systems cannot sync a folder, and the file is already complete, so a
	// failure here is not reported.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
