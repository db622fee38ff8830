package train_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// Define an MLP, train it for two epochs on 5,000 MNIST images, save it,
// and evaluate it on all 10,000 test images. (The README shows this
// example.)
func Example() {
	dir, err := mnist.Locate("") // $MNIST_DIR, or the GoMNIST module
	if err != nil {
		log.Fatal(err)
	}
	trainSet, err := mnist.Load(dir, mnist.Train)
	if err != nil {
		log.Fatal(err)
	}
	testSet, err := mnist.Load(dir, mnist.Test)
	if err != nil {
		log.Fatal(err)
	}

	arch, err := mlp.New(mlp.Config{Hidden: []int{128}})
	if err != nil {
		log.Fatal(err)
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		log.Fatal(err)
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 1e-3})
	if err != nil {
		log.Fatal(err)
	}
	trainer, err := train.New(model, opt, train.Config{Batch: 64, Epochs: 2, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	batches, err := mnist.NewBatches(trainSet.Subset(0, 5000), 64, true)
	if err != nil {
		log.Fatal(err)
	}
	if err := trainer.Fit(context.Background(), batches, nil); err != nil {
		log.Fatal(err)
	}
	out, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)
	if err := trainer.Save(filepath.Join(out, "mlp.safetensors")); err != nil {
		log.Fatal(err)
	}

	test, err := mnist.NewBatches(testSet, 1000, false)
	if err != nil {
		log.Fatal(err)
	}
	report, err := train.Evaluate(model, test)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.N, report.Metrics["accuracy"] >= 0.9)
	// Output: 10000 true
}

// Resume a run exactly where a checkpoint was taken: the same architecture,
// optimizer and Config, then Restore before Fit.
func ExampleTrainer_Restore() {
	dir, err := mnist.Locate("")
	if err != nil {
		log.Fatal(err)
	}
	full, err := mnist.Load(dir, mnist.Train)
	if err != nil {
		log.Fatal(err)
	}
	batches, err := mnist.NewBatches(full.Subset(0, 2000), 100, true)
	if err != nil {
		log.Fatal(err)
	}
	newTrainer := func(epochs int) *train.Trainer {
		arch, err := mlp.New(mlp.Config{Hidden: []int{32}})
		if err != nil {
			log.Fatal(err)
		}
		model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			log.Fatal(err)
		}
		opt, err := optim.New(optim.Config{Name: "adam"})
		if err != nil {
			log.Fatal(err)
		}
		t, err := train.New(model, opt, train.Config{Batch: 100, Epochs: epochs, Seed: 1})
		if err != nil {
			log.Fatal(err)
		}
		return t
	}
	out, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)
	path := filepath.Join(out, "last.safetensors")

	first := newTrainer(1)
	if err := first.Fit(context.Background(), batches, nil); err != nil {
		log.Fatal(err)
	}
	if err := first.Save(path); err != nil {
		log.Fatal(err)
	}

	ck, err := checkpoint.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	resumed := newTrainer(3) // three epochs in all
	if err := resumed.Restore(ck); err != nil {
		log.Fatal(err)
	}
	if err := resumed.Fit(context.Background(), batches, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(resumed.History()), "epochs,", resumed.Optimizer.Steps(), "steps")
	// Output: 3 epochs, 60 steps
}
