package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"
)

// Define an MLP, train it for two epochs on 5,000 MNIST images, and evaluate
// it on all 10,000 test images. (The README shows this example.)
func Example() {
	dir, err := mnist.Locate("") // $MNIST_DIR, or the GoMNIST module
	if err != nil {
		panic(err)
	}
	trainSet, _ := mnist.Load(dir, "train")
	testSet, _ := mnist.Load(dir, "t10k")

	arch, _ := mlp.New(mlp.Config{Hidden: []int{128}})
	model, _ := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	opt, _ := optim.New(optim.Config{Name: "adam"})
	trainer, _ := graph.NewTrainer(model, opt, 1e-3, 64, rand.New(rand.NewPCG(1, 2)))
	batches, _ := mnist.NewBatches(trainSet.Subset(0, 5000), 64, rand.New(rand.NewPCG(1, 3)), true)
	if _, _, err := trainer.Fit(context.Background(), batches, nil, graph.Position{}, 2); err != nil {
		panic(err)
	}

	test, _ := mnist.NewBatches(testSet, 1000, nil, false)
	correct, total, _ := graph.Evaluate(model, test, nil)
	fmt.Println(total, correct*100/total >= 90)
	// Output: 10000 true
}
