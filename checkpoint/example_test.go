package checkpoint_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
)

// A model saved as a checkpoint and read back, then exported as a PyTorch
// state_dict and imported into a second model, which then predicts what
// the first does.
func Example() {
	arch, err := mlp.New(mlp.Config{Hidden: []int{32}, NoDropout: true})
	if err != nil {
		panic(err)
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	ck, err := checkpoint.New(model, nil, 3) // no optimizer state, after 3 epochs
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "model.safetensors")
	if err := ck.Save(path, tensor.Float32); err != nil {
		panic(err)
	}
	back, err := checkpoint.Load(path) // digest, metadata and tensors checked
	if err != nil {
		panic(err)
	}
	fmt.Println("epoch", back.Epoch, "tensors", len(back.Params), "fc1.weight", back.Params["fc1.weight"].Shape)

	torchPath := filepath.Join(dir, "state_dict.safetensors")
	if err := checkpoint.ExportTorch(model, torchPath); err != nil {
		panic(err)
	}
	other, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		panic(err)
	}
	if err := checkpoint.ImportTorch(other, torchPath); err != nil {
		panic(err)
	}
	x := make([]float32, 784)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	a, err := model.Predict(x)
	if err != nil {
		panic(err)
	}
	b, err := other.Predict(x)
	if err != nil {
		panic(err)
	}
	fmt.Println("same outputs after the PyTorch round trip:", slices.Equal(a, b))
	// Output:
	// epoch 3 tensors 4 fc1.weight [784 32]
	// same outputs after the PyTorch round trip: true
}
