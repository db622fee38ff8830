// Package checkpoint saves and restores tapestry models: their parameters and
// buffers, an optimizer's state, and free-form metadata (the training
// package's position and generator states), in one safetensors file that
// Python's safetensors can read. It also moves weights to and from PyTorch
// state_dict files.
//
//	ck, err := checkpoint.New(model, opt, epochs) // opt may be nil: weights only
//	err = ck.Save("last.safetensors", graph.Float32)
//	ck, err = checkpoint.Load("last.safetensors")
//	err = ck.Restore(model)
//
// A file is written atomically (temporary file, fsync, rename): a crash never
// damages the previous checkpoint. Every file read is untrusted, and
// reading checks integrity first, then what the file says, before anything
// is allocated for it: the format, the version and a SHA-256 digest over
// the metadata and the tensors; then the metadata; then the architecture
// against the tensors (Check: each parameter's name, shape and size, finite
// values) within bounds that follow from the file (Measure: every number in
// range, at most MaxActivations values an example). A file of the first
// format had a digest over its tensors only; Load says what it still gets.
// Every error names the file and the field, any value quoted from it cut
// short.
package checkpoint
