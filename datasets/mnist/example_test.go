package mnist_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
)

func ExampleNewBatches() {
	// Ten blank images labelled 0..9; real data comes from mnist.Load.
	d := &mnist.Dataset{Images: make([]uint8, 10*mnist.Pixels), Labels: []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	b, err := mnist.NewBatches(d, 4, false)
	if err != nil {
		panic(err)
	}
	// The caller owns the batch memory: the input tensors of a graph.
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 4*mnist.Pixels)}, Labels: make([]int, 4)}
	seen := 0
	rng := rand.New(rand.NewPCG(1, 2))
	for epoch := range 2 {
		b.Shuffle(rng)
		for i := range b.Len() {
			n, err := b.Fill(i, batch)
			if err != nil {
				panic(err)
			}
			seen += n
			if epoch == 0 && i == b.Len()-1 {
				fmt.Printf("last batch: %d examples, background pixel %.4f\n", n, batch.Inputs[0][0])
			}
		}
	}
	fmt.Println(b.Len(), "batches an epoch,", seen, "examples in 2 epochs")
	// Output:
	// last batch: 2 examples, background pixel -0.4242
	// 3 batches an epoch, 20 examples in 2 epochs
}

func ExampleDecodeLabels() {
	// An IDX label file: magic 0x00000801, count 3, then one byte a label.
	file := []byte{0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1}
	labels, err := mnist.DecodeLabels(bytes.NewReader(file), int64(len(file)), "labels")
	fmt.Println(labels, err)

	file[len(file)-1] = 12
	_, err = mnist.DecodeLabels(bytes.NewReader(file), int64(len(file)), "labels")
	fmt.Println(err)
	// Output:
	// [7 2 1] <nil>
	// reading labels: label 2 is 12, want 0..9
}
