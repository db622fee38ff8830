package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/preprocess"
)

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

// predictImages classifies image files with an MNIST model.
func predictImages(m *graph.Model, model string, paths []string, top int, asJSON bool, stdout, stderr io.Writer) int {
	if len(m.Arch.Inputs) != 1 || m.InSize(0) != mnist.Pixels {
		fmt.Fprintf(stderr, "predict: %s takes %d inputs of %d values, not one 28×28 image\n", model, len(m.Arch.Inputs), m.InSize(0))
		return 1
	}
	if _, ok := m.Arch.Loss.(graph.Classifier); !ok {
		fmt.Fprintf(stderr, "predict: %s outputs values, not class scores: it does not classify images\n", model)
		return 1
	}
	code := 0
	enc := json.NewEncoder(stdout)
	for _, path := range paths {
		p := Prediction{File: path}
		x, err := preprocess.File(path)
		if err == nil {
			// Standardize as in training: MNIST's mean and std.
			for i, v := range x {
				x[i] = (v - mnist.Mean) / mnist.Std
			}
			var probs []float64
			if probs, err = m.Probabilities(x); err == nil {
				p.Top = topK(probs, top)
			}
		}
		if err != nil {
			p.Error = err.Error()
			code = 1
		}
		switch {
		case asJSON:
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
