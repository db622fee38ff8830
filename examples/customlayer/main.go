// Command customlayer writes a layer of its own from Gorgonia nodes, checks
// its gradient against finite differences, trains a model that uses it, and
// saves the model and loads it back from the file alone.
//
//	go run ./examples/customlayer
//
// The layer is a tanh with a learned gain per feature, y = g ⊙ tanh(x):
// one parameter, g, declared by Params; the shape rule in OutShape; the
// nodes in Forward. Registering it by name is what lets a checkpoint say
// "this layer is a scaled_tanh" and models.Load rebuild it.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// ScaledTanh is y = gain ⊙ tanh(x) over [batch, Features].
type ScaledTanh struct {
	Name     string
	Features int
}

// Params implements graph.Layer: the gain, one per feature, starting at 1.
func (s ScaledTanh) Params() []graph.ParamSpec {
	return []graph.ParamSpec{{Name: s.Name + ".gain", Shape: []int{s.Features}, Init: graph.Constant{V: 1}}}
}

// OutShape implements graph.Layer.
func (s ScaledTanh) OutShape(in []int) ([]int, error) {
	if len(in) != 1 || in[0] != s.Features {
		return nil, errors.Errorf("scaled tanh %s expects input [%d], got %v", s.Name, s.Features, in)
	}
	return in, nil
}

// Forward implements graph.Layer: Gorgonia's Tanh, then the gain broadcast
// over the batch by Builder.Scale.
func (s ScaledTanh) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) {
	y, err := G.Tanh(x)
	if err != nil {
		return nil, errors.Wrapf(err, "scaled tanh %s", s.Name)
	}
	return b.Scale(y, s.Name+".gain")
}

func init() { graph.RegisterLayer("scaled_tanh", ScaledTanh{}) }

func main() {
	dir, err := os.MkdirTemp("", "tapestry-custom")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(os.Stdout, filepath.Join(dir, "model.safetensors"), 30); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, path string, epochs int) error {
	// 1. The gradient check, in float64: every element of the input and of
	// the gain, symbolic against central differences.
	res, err := graph.CheckLayer(ScaledTanh{Name: "act", Features: 4}, []int{4}, 3, true, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "gradient check: %d elements, largest error %.1e\n", res.Checked, res.MaxRelErr)

	// 2. A model that uses it, fitting y = 3a − c with the Huber loss.
	net := graph.NewSequential(graph.Dense{Name: "fc1", In: 2, Out: 8}, ScaledTanh{Name: "act", Features: 8},
		graph.Dense{Name: "fc2", In: 8, Out: 1})
	model, err := graph.NewModel(graph.Arch{Net: net, InShape: []int{2}, Loss: graph.Huber{}}, graph.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(5, 0))
	x, y := make([]float32, 2*500), make([]float32, 500)
	for i := range y {
		a, c := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		x[2*i], x[2*i+1], y[i] = a, c, 3*a-c
	}
	data, err := datasets.NewTargets(x, []int{2}, y, []int{1})
	if err != nil {
		return err
	}
	batches, err := data.Batches(25, false)
	if err != nil {
		return err
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 0.01})
	if err != nil {
		return err
	}
	trainer, err := train.New(model, opt, train.Config{Batch: 25, Epochs: epochs, Seed: 1})
	if err != nil {
		return err
	}
	defer trainer.Close()
	if err := trainer.Fit(context.Background(), batches, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "training mse %.4f\n", trainer.History()[epochs-1].Train["mse"])

	// 3. Save, and rebuild from the file alone: the same outputs.
	if err := trainer.Save(path); err != nil {
		return err
	}
	loaded, _, err := models.Load(path)
	if err != nil {
		return err
	}
	a, err := model.Predict([]float32{1, -1})
	if err != nil {
		return err
	}
	b, err := loaded.Predict([]float32{1, -1})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "f(1, −1) = %.3f (want 4); loaded from the file: %.3f\n", a[0], b[0])
	return nil
}
