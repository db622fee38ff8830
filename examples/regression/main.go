// Command regression fits y = sin(x) on [−π, π] with a small MLP and mean
// squared error: data from Go slices, a regression model, its metrics.
//
//	go run ./examples/regression
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

func main() {
	if err := run(os.Stdout, 200); err != nil {
		log.Fatal(err)
	}
}

// run trains for the given number of epochs and prints the validation
// figures and one prediction.
func run(w io.Writer, epochs int) error {
	rng := rand.New(rand.NewPCG(1, 0))
	x, y := make([]float32, 1000), make([]float32, 1000)
	for i := range x {
		x[i] = float32(math.Pi * (2*rng.Float64() - 1))
		y[i] = float32(math.Sin(float64(x[i])))
	}
	data, err := datasets.NewTargets(x, []int{1}, y, []int{1})
	if err != nil {
		return err
	}
	trainSet, valSet, err := data.Split(0.2, rng)
	if err != nil {
		return err
	}
	arch, err := mlp.New(mlp.Config{Inputs: 1, Hidden: []int{32, 32}, Activation: "tanh", NoDropout: true, Outputs: 1, Loss: graph.MSE{}})
	if err != nil {
		return err
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return err
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 0.01})
	if err != nil {
		return err
	}
	trainer, err := train.New(model, opt, train.Config{Batch: 32, Epochs: epochs, Seed: 1})
	if err != nil {
		return err
	}
	defer trainer.Close()
	batches, err := trainSet.Batches(32, false)
	if err != nil {
		return err
	}
	val, err := valSet.Batches(100, false)
	if err != nil {
		return err
	}
	if err := trainer.Fit(context.Background(), batches, val); err != nil {
		return err
	}
	last := trainer.History()[epochs-1]
	pred, err := model.Predict([]float32{math.Pi / 2})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "validation mse %.4f  r2 %.4f; sin(π/2) ≈ %.3f\n", last.Val["mse"], last.Val["r2"], pred[0])
	return nil
}
