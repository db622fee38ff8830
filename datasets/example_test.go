package datasets_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/tapestry-ml/tapestry/datasets"
)

func ExampleNew() {
	// Six examples of two features, labelled 0 or 1.
	x := []float32{0, 0, 0, 1, 1, 0, 1, 1, 2, 2, 3, 3}
	d, err := datasets.New(x, []int{2}, []int{0, 1, 1, 0, 1, 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	train, val, err := d.Split(1.0/3, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := train.Batches(3, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The trainer owns the batch memory (the program's input tensors) and
	// calls Shuffle before every pass; a nil Labels and a Targets of one
	// value an example would get the labels as 0/1 targets instead.
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 3*2)}, Labels: make([]int, 3)}
	b.Shuffle(rng)
	seen := 0
	for i := range b.Len() {
		n, err := b.Fill(i, batch)
		if err != nil {
			fmt.Println(err)
			return
		}
		seen += n
	}
	fmt.Println(train.Len(), "to train in", b.Len(), "batches,", val.Len(), "to validate; seen", seen)
	// Output:
	// 4 to train in 2 batches, 2 to validate; seen 4
}
