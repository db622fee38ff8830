// Command csv classifies rows of a CSV file: it writes a small table of its
// own (two measurements and a colour; the class depends on all three), reads
// it with datasets/tabular, standardizes and one-hot encodes it with
// statistics of the training rows alone, trains an MLP, tests it on rows it
// never saw, and predicts a new row.
//
//	go run ./examples/csv
//
// The command line does the same for any file: go run ./cmd/train -csv
// FILE -target COLUMN.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

func main() {
	dir, err := os.MkdirTemp("", "tapestry-csv")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(os.Stdout, filepath.Join(dir, "fruit.csv"), 100); err != nil {
		log.Fatal(err)
	}
}

// writeTable writes 400 rows: a fruit is "ripe" when its weight and
// softness, and being yellow, add up.
func writeTable(path string) error {
	rng := rand.New(rand.NewPCG(2, 0))
	var b strings.Builder
	b.WriteString("weight,softness,colour,ripe\n")
	for i := 0; i < 400; i++ {
		weight, soft := 100+50*rng.NormFloat64(), rng.Float64()
		colour := []string{"green", "yellow", "brown"}[rng.IntN(3)]
		score := (weight-100)/50 + 2*soft
		if colour == "yellow" {
			score++
		}
		ripe := "no"
		if score > 1.5 {
			ripe = "yes"
		}
		fmt.Fprintf(&b, "%.1f,%.3f,%s,%s\n", weight, soft, colour, ripe)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func run(w io.Writer, path string, epochs int) error {
	if err := writeTable(path); err != nil {
		return err
	}
	table, err := tabular.Read(path)
	if err != nil {
		return err
	}
	trainRows, testRows, err := tabular.SplitRows(table.Len(), 0.2, rand.New(rand.NewPCG(1, 4)))
	if err != nil {
		return err
	}
	enc, err := tabular.Fit(table, trainRows, tabular.Config{Target: "ripe"})
	if err != nil {
		return err
	}
	trainSet, err := enc.Encode(table, trainRows)
	if err != nil {
		return err
	}
	testSet, err := enc.Encode(table, testRows)
	if err != nil {
		return err
	}
	arch, err := mlp.New(mlp.Config{Inputs: enc.Width(), Hidden: []int{16}, NoDropout: true, Outputs: len(enc.Target().Classes)})
	if err != nil {
		return err
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return err
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 3e-3})
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
	if err := trainer.Fit(context.Background(), batches, nil); err != nil {
		return err
	}
	test, err := testSet.Batches(100, false)
	if err != nil {
		return err
	}
	report, err := train.Evaluate(model, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "features %v\ntest accuracy %.2f%% (%d/%d)\n", enc.Features(), 100*report.Metrics["accuracy"], report.Correct(), report.N)
	x, err := enc.EncodeRow(map[string]string{"weight": "180", "softness": "0.9", "colour": "yellow"})
	if err != nil {
		return err
	}
	p, err := model.Probabilities(x)
	if err != nil {
		return err
	}
	yes := 1
	if enc.Target().Classes[yes] != "yes" {
		yes = 0
	}
	fmt.Fprintf(w, "a heavy, soft, yellow fruit is ripe with probability %.2f\n", p[yes])
	return nil
}
