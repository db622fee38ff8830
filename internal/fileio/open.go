package fileio

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/pkg/errors"
)

// NotRegularError reports a path that names something other than a regular file: a
// directory, a named pipe, a device, a socket. Every reader of an untrusted path
// refuses these by type, because reading one either blocks (a FIFO with no writer, a
// terminal), never ends (/dev/zero, /dev/urandom) or makes no sense (a directory).
type NotRegularError struct {
	Path string
	Mode fs.FileMode // the type bits of what Path names, symbolic links followed
}

func (e *NotRegularError) Error() string {
	return "reading " + e.Path + ": " + describeType(e.Mode)
}

// describeType says what a file of type mode is, in the words a person would use.
func describeType(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "is a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "is a named pipe (FIFO), not a regular file"
	case mode&fs.ModeSocket != 0:
		return "is a Unix socket, not a regular file"
	case mode&fs.ModeCharDevice != 0:
		return "is a character device, not a regular file"
	case mode&fs.ModeDevice != 0:
		return "is a block device, not a regular file"
	}
	return fmt.Sprintf("is not a regular file (mode %v)", mode)
}

// Open opens path for reading if it is a regular file, symbolic links followed and
// the target judged. Anything else is refused with a *NotRegularError whose message
// says what it is ("reading X: is a directory", "reading X: is a named pipe (FIFO),
// not a regular file"). Open never blocks: on Unix it opens with O_NONBLOCK (so a
// FIFO without a writer opens at once instead of waiting for one) and judges the
// type by fstat of the opened descriptor, so that nothing can be swapped in between
// the check and the open. The returned FileInfo is that of the opened file; its Size
// is the caller's evidence of how many bytes there are.
//
// Errors name the path, and a missing file satisfies os.IsNotExist and
// errors.Is(err, fs.ErrNotExist).
func Open(path string) (*os.File, os.FileInfo, error) {
	return open(path)
}

// StatRegular returns the FileInfo of path if it is a regular file (symbolic links
// followed), and otherwise the error Open would give. It does not open the file, so
// it suits looking for files; a reader must still use Open, which checks again on
// the descriptor it reads.
func StatRegular(path string) (os.FileInfo, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: info.Mode().Type()}
	}
	return info, nil
}

// ReadFile reads the whole regular file at path, as Open judges it, refusing one of
// more than limit bytes before reading it. It allocates at most limit+1 bytes
// whatever the file system claims, and errors if the file grows past limit while it
// is read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, info, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > limit {
		return nil, errors.Errorf("reading %s: %d bytes, more than the %d allowed", path, info.Size(), limit)
	}
	// One byte more than the size shows a file that grew since the fstat without a
	// second allocation in the common case; the reads themselves stop at limit+1.
	buf := make([]byte, 0, info.Size()+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := min(int64(cap(buf)-len(buf)), limit+1-int64(len(buf)))
		n, err := f.Read(buf[len(buf) : int64(len(buf))+room])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errors.Errorf("reading %s: grew past the %d bytes allowed while being read", path, limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, pathError(path, err)
		}
	}
}

// pathError rephrases an os error as "reading <path>: <cause>", keeping the cause for
// os.IsNotExist and errors.Is; os.Open's own "open <path>:" would repeat the path.
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &fs.PathError{Op: "reading", Path: path, Err: err}
}
