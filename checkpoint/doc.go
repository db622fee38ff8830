// Package checkpoint saves and restores tapestry models: their parameters and
// buffers, an optimizer's state, and free-form metadata (the training
// package's position and generator states), in one safetensors file that
// Python's safetensors can read. It also moves weights to and from PyTorch
// state_dict files.
//
//	ck, err := checkpoint.New(model, opt)
//	err = ck.Save("last.safetensors", graph.Float32)
//	ck, err = checkpoint.Load("last.safetensors")
//	err = ck.Restore(model)
//
// A file is written atomically (temporary file, fsync, rename): a crash never
// damages the previous checkpoint. Reading checks the format, the version
// and a SHA-256 digest before anything is trusted; every error names the
// file.
package checkpoint
