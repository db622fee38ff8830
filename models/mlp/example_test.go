package mlp_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
)

// An MLP with one hidden layer of 64 units and no dropout, its parameters
// initialized from a seed.
func ExampleNew() {
	arch, err := mlp.New(mlp.Config{Hidden: []int{64}, NoDropout: true})
	if err != nil {
		panic(err)
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	fmt.Println(model.Params.Names(), model.Params.Count())
	// Output: [fc1.weight fc1.bias fc2.weight fc2.bias] 50890
}
