// Command train trains a model on MNIST and prints its test accuracy.
//
//	go run ./cmd/train                    # the MLP, ≥ 98% in about a minute
//	go run ./cmd/train -epochs 3 -lr 5e-4
//
// Exit status: 2 for bad flags or settings, 1 for a failed run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "mlp", "architecture: "+strings.Join(train.Models, ", "))
	epochs := fs.Int("epochs", 0, "passes over the training set (0: the model's default)")
	batch := fs.Int("batch", 0, "examples per step (0: the model's default)")
	lr := fs.Float64("lr", 0, "learning rate (0: the optimizer's default)")
	opt := fs.String("optimizer", "", "one of "+strings.Join(optim.Names, ", ")+" (empty: the model's default)")
	seed := fs.Uint64("seed", 1, "seed for initialization, shuffling and dropout")
	data := fs.String("data", "", "folder of the MNIST IDX files (default: $MNIST_DIR, then the GoMNIST module)")
	val := fs.Int("val", 5000, "training images held out for validation (0: none)")
	quiet := fs.Bool("quiet", false, "print only the final accuracy line")
	limit := fs.Int("limit", 0, "train on only the first N training images (quick runs; 0: all)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "train: unexpected arguments %q\n", fs.Args())
		return 2
	}
	o := train.Defaults(*model)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["epochs"] {
		o.Epochs = *epochs
	}
	if set["batch"] {
		o.Batch = *batch
	}
	if set["optimizer"] {
		o.Optimizer = *opt
	}
	o.LR, o.Seed, o.Data, o.Val, o.Quiet, o.Limit = *lr, *seed, *data, *val, *quiet, *limit
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := train.Run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	return 0
}
