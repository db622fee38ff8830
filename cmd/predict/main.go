// Command predict runs a checkpoint of cmd/train on new inputs: images of
// handwritten digits for an MNIST model, rows of a CSV file for a tabular
// one.
//
//	go run ./cmd/predict -model runs/X/best.safetensors digit.png [more.jpg ...]
//	go run ./cmd/predict -model runs/Y/best.safetensors -csv rows.csv
//
// Each image (PNG, JPEG or GIF, at most 50 megapixels; a JPEG turned upright
// by its EXIF orientation) is prepared the way MNIST digits were:
// grayscale, inverted if the background is light, cropped to the ink,
// scaled to fit 20×20 and centred by centre of mass in 28×28. It prints the
// top 3 classes per file, or one JSON object per file with -json.
//
// With -csv, each row is encoded as the model's training rows were (the
// standardization and vocabulary saved in the checkpoint) and one line per
// row goes to stdout as CSV: the row number (1 for the first row after the
// header), the predicted class and its probability, or the predicted value.
// With -top N, a classifier's line has the N most probable classes, each
// with its probability, most probable first (columns <target>,probability,
// <target>_2,probability_2, …); a regression refuses -top.
//
// An image or a row that cannot be used (for a row: a missing value, an
// unseen category, fewer or more fields than the header) is reported on
// stderr and the others still go through; the exit status is then 1 (2
// for bad flags).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/models"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "checkpoint to predict with (a .safetensors file written by cmd/train)")
	csvPath := fs.String("csv", "", "CSV file of rows to predict, for a model trained with cmd/train -csv")
	delim := fs.String("delimiter", "", "field separator of the -csv file: one character, or tab (default ,)")
	asJSON := fs.Bool("json", false, "print one JSON object per image")
	top := fs.Int("top", 0, "number of classes to print per image (default 3), or per row of -csv for a classifier (default 1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	topSet := false
	fs.Visit(func(f *flag.Flag) { topSet = topSet || f.Name == "top" })
	images := fs.NArg() > 0
	if *model == "" || images == (*csvPath != "") || (topSet && *top < 1) || (*csvPath != "" && *asJSON) || (*delim != "" && *csvPath == "") {
		fmt.Fprintln(stderr, "usage: predict -model CHECKPOINT [-json] [-top N] IMAGE...\n       predict -model CHECKPOINT -csv ROWS.csv [-delimiter C] [-top N]")
		return 2
	}
	comma, err := tabular.ParseDelimiter(*delim)
	if err != nil {
		fmt.Fprintf(stderr, "predict: %v\n", err)
		return 2
	}
	m, ck, err := models.Load(*model)
	if err != nil {
		fmt.Fprintf(stderr, "predict: %v\n", err)
		return 1
	}
	if *csvPath != "" {
		// 0 when -top is not given: the one most probable class.
		return predictRows(m, ck, *model, *csvPath, comma, *top, stdout, stderr)
	}
	if !topSet {
		*top = 3
	}
	return predictImages(m, *model, fs.Args(), *top, *asJSON, stdout, stderr)
}
