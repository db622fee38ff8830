package models_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
)

// A model rebuilt from its checkpoint file alone, as cmd/predict does: the
// architecture comes from the file's metadata, checked against its tensors
// before anything is allocated.
func ExampleLoad() {
	arch, err := models.Preset("mlp")
	if err != nil {
		panic(err)
	}
	trained, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "models-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "best.safetensors")
	ck, err := checkpoint.New(trained, nil, 10)
	if err != nil {
		panic(err)
	}
	if err := ck.Save(path, tensor.Float32); err != nil {
		panic(err)
	}

	model, saved, err := models.Load(path)
	if err != nil {
		panic(err)
	}
	x := make([]float32, model.InSize(0))
	out, err := model.Predict(x)
	if err != nil {
		panic(err)
	}
	want, err := trained.Predict(x)
	if err != nil {
		panic(err)
	}
	fmt.Println("epoch", saved.Epoch, "inputs", model.InSize(0), "outputs", model.OutSize(), "parameters", model.Params.Count())
	fmt.Println("predicts as the saved model:", fmt.Sprint(out) == fmt.Sprint(want))
	// Output:
	// epoch 10 inputs 784 outputs 10 parameters 669706
	// predicts as the saved model: true
}
