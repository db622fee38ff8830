package safetensors

import (
	"bytes"
	"fmt"
)

// sameFile reports how got differs from want: tensors in order (a nil and an empty
// shape are the same scalar) and metadata (nil and empty are the same).
func sameFile(got, want *File) error {
	if len(got.Tensors) != len(want.Tensors) {
		return fmt.Errorf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for i, g := range got.Tensors {
		w := want.Tensors[i]
		if g.Name != w.Name || g.DType != w.DType || fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) || !bytes.Equal(g.Data, w.Data) {
			return fmt.Errorf("tensor %d = %q %s %v %x, want %q %s %v %x", i, g.Name, g.DType, g.Shape, g.Data, w.Name, w.DType, w.Shape, w.Data)
		}
	}
	if len(got.Metadata) != len(want.Metadata) {
		return fmt.Errorf("metadata %v, want %v", got.Metadata, want.Metadata)
	}
	for k, v := range want.Metadata {
		if g, ok := got.Metadata[k]; !ok || g != v {
			return fmt.Errorf("metadata %v, want %v", got.Metadata, want.Metadata)
		}
	}
	return nil
}
