package graph_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/tapestry-ml/tapestry/graph"
)

// Define a small network, make its model, and run one example through the
// inference program: the weights are seeded, so the output is always the
// same.
func Example() {
	net := graph.NewSequential(
		graph.Dense{Name: "fc1", In: 4, Out: 8}, graph.ReLU{},
		graph.Dense{Name: "fc2", In: 8, Out: 3})
	arch := graph.Arch{Net: net, InShape: []int{4}}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		log.Fatal(err)
	}
	probs, err := model.Predict([]float32{0.5, -1, 2, 0})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(model.Params.Names(), len(probs))
	// Output: [fc1.weight fc1.bias fc2.weight fc2.bias] 3
}
