// Package safetensors implements reading and writing of the safetensors file format
// (https://github.com/huggingface/safetensors), the format tapestry's checkpoints use
// so that PyTorch can read our weights and we theirs.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON naming each
// tensor's dtype, shape and byte range, then the little-endian tensor bytes:
//
//	f := &safetensors.File{Metadata: map[string]string{"epoch": "3"}}
//	f.Tensors = append(f.Tensors, safetensors.FromFloat32("fc1.weight", []int{2, 2}, []float32{1, 2, 3, 4}))
//	err := safetensors.WriteFile("model.safetensors", f)
//	g, err := safetensors.ReadFile("model.safetensors")
//	w, ok := g.Get("fc1.weight")
//	values, err := w.Float32s()
//
// Reading is strict: the header length is checked against the real input size and a
// 100 MiB cap before anything is allocated, and every tensor must have a known dtype, a
// shape whose size matches its byte range, and the ranges must tile the data buffer
// exactly (no gap, no overlap), as the format requires. The size itself is checked by
// reading the input's last byte, so nothing is allocated for bytes that are not there.
// ReadFile refuses a path that is not a regular file (a directory, a FIFO, a device)
// by its type, without blocking (internal/fileio.Open). Errors name the file and the
// tensor at fault.
//
// Writing is deterministic: the JSON header lists "__metadata__" first (keys sorted),
// then the tensors in the order given, so the same File always gives the same bytes.
// In the data buffer the tensors are laid out by element size, largest first, and in
// the given order within one size, as PyTorch's writer does: every tensor then starts
// at a multiple of its element size, which memory-mapping readers need.
//
// WriteFile replaces its target atomically (temporary file, fsync, rename, fsync of the
// folder), through internal/fileio, the atomic writer every package uses.
package safetensors
