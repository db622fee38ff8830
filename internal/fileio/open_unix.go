//go:build unix

package fileio

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

func open(path string) (*os.File, os.FileInfo, error) {
	// What stat already shows to be no regular file is refused without being opened:
	// opening a device can act on it (a tape drive rewinds, a serial port raises its
	// control lines). This check is only a courtesy; openFD's fstat is the one that
	// counts, since the path may be swapped between the two.
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return nil, nil, &NotRegularError{Path: path, Mode: info.Mode().Type()}
	}
	return openFD(path)
}

// openFD opens path without blocking and judges what it opened by fstat of the
// descriptor. O_NONBLOCK makes a FIFO with no writer open at once rather than wait
// for one; O_NOCTTY keeps a terminal from becoming our controlling terminal;
// O_CLOEXEC keeps the descriptor from leaking into a child process.
func openFD(path string) (*os.File, os.FileInfo, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		// A socket cannot be opened at all (ENXIO): say what it is rather than
		// "no such device or address". Nothing was opened, so no race matters.
		if info, serr := os.Stat(path); serr == nil && !info.Mode().IsRegular() {
			return nil, nil, &NotRegularError{Path: path, Mode: info.Mode().Type()}
		}
		return nil, nil, pathError(path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil, pathError(path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, nil, &NotRegularError{Path: path, Mode: unixType(uint32(st.Mode))}
	}
	// O_NONBLOCK means nothing to a regular file on Linux, but clearing it keeps
	// os.NewFile from treating the descriptor as pollable.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, nil, pathError(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, pathError(path, err)
	}
	return f, info, nil
}

// unixType converts the S_IFMT bits of a stat mode to fs.FileMode type bits.
func unixType(mode uint32) fs.FileMode {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	case unix.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}
