// Package fileio holds tapestry's ground-floor file helpers, for files it
// writes and files it reads.
//
// Writing: the one atomic writer that every package uses for a file it must
// never leave half written (checkpoints, config.json, metrics.jsonl,
// figures). It also removes, in the folder it writes to, its own temporary
// files that a killed process left behind, once they are StaleAge old.
//
//	err := fileio.WriteFile("runs/x/config.json", data, 0o644)
//
// Reading: every file tapestry reads is untrusted, its name included. Open
// refuses anything that is not a regular file (a directory, a FIFO, a
// device, a socket) by its type, with a message that says what it is, and
// never blocks doing so; ReadFile adds a size limit.
//
//	f, info, err := fileio.Open(path) // "reading x: is a named pipe (FIFO), not a regular file"
//
// The subpackage memlimit runs part of a test in a child process under a hard
// memory limit, to show that a reader fails cleanly on a hostile file.
package fileio
