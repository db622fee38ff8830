// Package hostile makes damaged copies of the files tapestry reads
// (checkpoints, MNIST's IDX files, images, CSV files) and files that are no
// regular file at all, for tests that feed every one of them to the real
// load paths of the commands and of the library. It is test support:
// nothing but tests imports it.
//
// A generator takes a good file, written by the current code, and returns
// Cases, each of one Class of damage: truncations at many offsets, bit
// flips, edited header fields, edited metadata (absurd sizes, huge strings,
// wrong JSON types, a specification that disagrees with the tensors,
// unknown layer types, edited options and training state), with the
// checkpoint's digest recomputed so that the damage gets past the checksum,
// as an attacker's would. A Case's Scope says what it must break: every use
// of the file, only a resume of it (the state nothing but training reads),
// or nothing in particular (a reader may accept it, and must then not
// crash).
//
//	cases, err := hostile.Checkpoint(good)
//	for _, c := range cases {
//		path := filepath.Join(dir, "case.safetensors")
//		if err := c.Write(path); err != nil { ... }
//		// load path, expect an error naming it if c.Scope == hostile.All
//	}
//
// RunAll and Child run a list of Trials (a case and the command line that
// reads it) in a child process under a memory limit (internal/fileio/memlimit)
// and a timeout per trial, and report what each did: its exit status, its
// message, whether it panicked, how long it took and which files it left
// behind in the folder it must leave alone.
package hostile
