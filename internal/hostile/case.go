package hostile

import (
	"os"
	"sort"
)

// Class is a kind of damage.
type Class string

// The classes of damage the generators make.
const (
	// Truncation cuts the file at an offset.
	Truncation Class = "truncation"
	// BitFlip flips one bit.
	BitFlip Class = "bit flip"
	// Header edits a field of the file's own header (the safetensors
	// JSON header and its length, an IDX header, an image's dimensions),
	// fixing any checksum of the format (PNG's CRC) so that the field is
	// what the reader sees.
	Header Class = "header field"
	// Metadata edits a checkpoint's metadata strings: deleted, emptied,
	// huge, of the wrong JSON type, cut in half.
	Metadata Class = "metadata"
	// Spec edits the architecture a checkpoint specifies: absurd sizes,
	// wrong types, unknown layer and loss types, a structure that does not
	// match the tensors, architectures crafted to cost much with few
	// parameters.
	Spec Class = "architecture"
	// Tensors edits a checkpoint's tensors: removed, renamed, reshaped,
	// retyped, holding NaN, optimizer state missing or of the wrong size.
	Tensors Class = "tensors"
	// Options edits the run options a cmd/train checkpoint saved.
	Options Class = "saved options"
	// State edits the training state: position, history, generator
	// states, step and epoch counts.
	State Class = "training state"
	// Content edits what an image or a CSV file holds rather than its
	// header: pixels, EXIF orientation, rows and cells.
	Content Class = "content"
	// NotRegular is a path that names no regular file: a FIFO, a
	// directory, a symbolic-link loop, a device, a socket, nothing.
	NotRegular Class = "not a regular file"
)

// Scope says what a case must break.
type Scope int

const (
	// All: every use of the file fails, with an error naming it.
	All Scope = iota
	// Resume: a resume of the checkpoint fails; a use that does not read
	// the training state (-eval, cmd/predict) may succeed.
	Resume
	// Any: a reader may accept the file; it must not crash, hang or
	// allocate past its limit.
	Any
)

func (s Scope) String() string {
	switch s {
	case All:
		return "all"
	case Resume:
		return "resume"
	}
	return "any"
}

// A Case is one damaged file.
type Case struct {
	Class Class
	Name  string
	Scope Scope
	// Sealed says the checkpoint's digest was recomputed after the edit,
	// so that only the reader's checks of what the file says can refuse it.
	Sealed bool
	// Data is the file's content, if it was made up front.
	Data []byte
	// build makes the content when it is first asked for, so that a
	// sample of the cases costs only what it holds.
	build func() ([]byte, error)
	// Special, if set, makes the file instead: something that is not a
	// regular file (Data is then nil).
	Special func(path string) error
}

// Content returns the case's bytes (nil for a Special case).
func (c Case) Content() ([]byte, error) {
	if c.build != nil {
		return c.build()
	}
	return c.Data, nil
}

// Write creates the case's file at path, replacing what is there.
func (c Case) Write(path string) error {
	os.RemoveAll(path)
	if c.Special != nil {
		return c.Special(path)
	}
	b, err := c.Content()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Count returns the number of cases of each class.
func Count(cases []Case) map[Class]int {
	n := map[Class]int{}
	for _, c := range cases {
		n[c.Class]++
	}
	return n
}

// Classes returns the classes of cases, sorted.
func Classes(cases []Case) []Class {
	var out []Class
	for c := range Count(cases) {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Sample returns at most perClass cases of each class, spread evenly over
// the class's cases in their order, for a quick run; perClass <= 0 returns
// them all.
func Sample(cases []Case, perClass int) []Case {
	if perClass <= 0 {
		return cases
	}
	byClass := map[Class][]int{}
	for i, c := range cases {
		byClass[c.Class] = append(byClass[c.Class], i)
	}
	keep := map[int]bool{}
	for _, idx := range byClass {
		n := min(perClass, len(idx))
		for k := 0; k < n; k++ {
			keep[idx[k*len(idx)/n]] = true
		}
	}
	var out []Case
	for i, c := range cases {
		if keep[i] {
			out = append(out, c)
		}
	}
	return out
}
