//go:build unix

package hostile

import (
	"os"
	"path/filepath"
	"syscall"
)

// Special returns paths that name no regular file: a FIFO (which would
// block an open for reading until a writer came), a directory, a loop of
// symbolic links, a link to a character device that never ends
// (/dev/zero), a Unix socket, a dangling link, and an empty file.
func Special() []Case {
	mk := func(name string, scope Scope, fn func(path string) error) Case {
		return Case{Class: NotRegular, Name: name, Scope: scope, Special: fn}
	}
	return []Case{
		mk("a FIFO", All, func(p string) error { return syscall.Mkfifo(p, 0o644) }),
		mk("a directory", All, func(p string) error { return os.Mkdir(p, 0o755) }),
		mk("a loop of symbolic links", All, func(p string) error {
			other := p + ".loop"
			os.Remove(other)
			if err := os.Symlink(filepath.Base(p), other); err != nil {
				return err
			}
			return os.Symlink(filepath.Base(other), p)
		}),
		mk("a link to /dev/zero", All, func(p string) error { return os.Symlink("/dev/zero", p) }),
		mk("a link to /dev/null", All, func(p string) error { return os.Symlink("/dev/null", p) }),
		mk("a Unix socket", All, func(p string) error {
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer syscall.Close(fd)
			return syscall.Bind(fd, &syscall.SockaddrUnix{Name: p})
		}),
		mk("a dangling symbolic link", All, func(p string) error { return os.Symlink(p+".missing", p) }),
		mk("an empty file", All, func(p string) error { return os.WriteFile(p, nil, 0o644) }),
		mk("a link to a FIFO", All, func(p string) error {
			fifo := p + ".fifo"
			os.Remove(fifo)
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				return err
			}
			return os.Symlink(filepath.Base(fifo), p)
		}),
	}
}
