// Command predict classifies images of handwritten digits with a trained
// checkpoint.
//
//	go run ./cmd/predict -model runs/X/best.safetensors digit.png [more.jpg ...]
//
// Each image (PNG, JPEG or GIF, any size) is prepared the way MNIST digits
// were: grayscale, inverted if the background is light, cropped to the ink,
// scaled to fit 20×20 and centred by centre of mass in 28×28. It prints the
// top 3 classes per file, or one JSON object per file with -json. A file that
// cannot be read is reported and the others are still classified; the exit
// status is then 1.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/preprocess"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Guess is one class and its probability.
type Guess struct {
	Class       int     `json:"class"`
	Probability float64 `json:"probability"`
}

// Prediction is the result for one file.
type Prediction struct {
	File  string  `json:"file"`
	Top   []Guess `json:"top,omitempty"`
	Error string  `json:"error,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "checkpoint to classify with (a .safetensors file written by cmd/train)")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	top := fs.Int("top", 3, "number of classes to print per file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *model == "" || fs.NArg() == 0 || *top < 1 {
		fmt.Fprintln(stderr, "usage: predict -model CHECKPOINT [-json] [-top N] IMAGE...")
		return 2
	}
	m, _, err := models.Load(*model)
	if err != nil {
		fmt.Fprintf(stderr, "predict: %v\n", err)
		return 1
	}
	if len(m.Arch.Inputs) != 1 || m.InSize(0) != mnist.Pixels {
		fmt.Fprintf(stderr, "predict: %s takes %v, not one 28×28 image\n", *model, m.Arch.Inputs)
		return 1
	}
	// Standardize as in training: MNIST's mean and std.
	code := 0
	enc := json.NewEncoder(stdout)
	for _, path := range fs.Args() {
		p := Prediction{File: path}
		x, err := preprocess.File(path)
		if err == nil {
			for i, v := range x {
				x[i] = (v - mnist.Mean) / mnist.Std
			}
			var probs []float64
			if probs, err = m.Probabilities(x); err == nil {
				p.Top = topK(probs, *top)
			}
		}
		if err != nil {
			p.Error = err.Error()
			code = 1
		}
		switch {
		case *asJSON:
			_ = enc.Encode(p)
		case p.Error != "":
			fmt.Fprintf(stderr, "predict: %s\n", p.Error)
		default:
			fmt.Fprintf(stdout, "%s:", path)
			for _, g := range p.Top {
				fmt.Fprintf(stdout, "  %d (%.1f%%)", g.Class, 100*g.Probability)
			}
			fmt.Fprintln(stdout)
		}
	}
	return code
}

func topK(probs []float64, k int) []Guess {
	gs := make([]Guess, len(probs))
	for i, p := range probs {
		gs[i] = Guess{Class: i, Probability: p}
	}
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].Probability > gs[j].Probability })
	return gs[:min(k, len(gs))]
}
