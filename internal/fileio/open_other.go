//go:build !unix

package fileio

import "os"

// open on systems without FIFOs that block in open (Windows, Plan 9, wasm): judge the
// opened file by its own Stat, which is as free of races as the platform allows.
func open(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, pathError(path, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, pathError(path, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Mode: info.Mode().Type()}
	}
	return f, info, nil
}
