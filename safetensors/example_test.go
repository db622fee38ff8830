package safetensors_test

import (
	"fmt"
	"io"
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

func ExampleAtomicWrite() {
	dir, err := os.MkdirTemp("", "atomic-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.json")

	err = safetensors.AtomicWrite(path, func(w io.Writer) error {
		_, err := io.WriteString(w, `{"hidden":[512,512]}`)
		return err
	}, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Println(string(b))
	// Output: {"hidden":[512,512]}
}
