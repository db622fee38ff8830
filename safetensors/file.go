package safetensors

import (
	"io"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// File is the content of a safetensors file: its tensors in header order and its
// free-form string metadata (the "__metadata__" entry). Decode always sets Metadata,
// empty when the file has none; Encode writes no "__metadata__" for an empty one.
// Tensor names are unique, valid UTF-8 and not "__metadata__".
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// Get returns the tensor named name.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// ReadFile reads and validates the safetensors file at path. The path must name a
// regular file (fileio.Open): a directory, FIFO or device is refused by its type,
// without blocking; the size Decode checks every length against is that of the
// opened descriptor.
func ReadFile(path string) (*File, error) {
	r, info, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return Decode(r, info.Size(), path)
}

// WriteFile writes f to path atomically (fileio.WriteAtomic), with permissions 0644:
// the previous file at path is replaced whole or, on any error, left as it was.
func WriteFile(path string, f *File) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error { return Encode(w, f) }, 0o644)
}
