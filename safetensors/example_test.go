package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tapestry-ml/tapestry/safetensors"
)

func Example() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	f := &safetensors.File{
		Metadata: map[string]string{"epoch": "3"},
		Tensors:  []safetensors.Tensor{safetensors.FromFloat32("fc1.weight", []int{2, 2}, []float32{1, 2, 3, 4})},
	}
	if err := safetensors.WriteFile(path, f); err != nil {
		log.Fatal(err)
	}

	g, err := safetensors.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	w, _ := g.Get("fc1.weight")
	values, err := w.Float32s()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.DType, w.Shape, values, "epoch", g.Metadata["epoch"])
	// Output: F32 [2 2] [1 2 3 4] epoch 3
}
