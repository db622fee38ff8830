// Command train trains a model on MNIST and prints its test accuracy.
//
//	go run ./cmd/train                           # the MLP, ≥ 98%
//	go run ./cmd/train -model cnn                # the CNN, ≥ 99.2%
//	go run ./cmd/train -resume runs/X/last.safetensors -epochs 20
//	go run ./cmd/train -eval runs/X/best.safetensors
//
// Each run keeps a folder (-out, default runs/<time>-<model>) with
// config.json, metrics.jsonl, last.safetensors, best.safetensors and
// curves.png. SIGINT or SIGTERM finishes the current step, saves
// last.safetensors and prints how to resume.
//
// Exit status: 2 for bad flags or settings, 130 when interrupted, 1 for any
// other failure.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// numeric lists the flags that change what a run computes: a resumed run
// takes them from its checkpoint, so they cannot be given with -resume.
var numeric = []string{"model", "batch", "lr", "optimizer", "seed", "val", "limit", "schedule", "lr-step", "lr-gamma", "init-from"}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "mlp", "architecture: "+strings.Join(models.Presets, ", "))
	epochs := fs.Int("epochs", 0, "passes over the training set (0: the model's default)")
	batch := fs.Int("batch", 0, "examples per step (0: the model's default)")
	lr := fs.Float64("lr", 0, "learning rate (0: the optimizer's default)")
	opt := fs.String("optimizer", "", "one of "+strings.Join(optim.Names, ", ")+" (empty: the model's default)")
	schedule := fs.String("schedule", "", "learning-rate schedule: "+strings.Join(optim.ScheduleNames, ", ")+" (empty: the model's default)")
	lrStep := fs.Int("lr-step", 1, "epochs between decays of the step schedule")
	lrGamma := fs.Float64("lr-gamma", 0.7, "factor of each decay of the step schedule")
	seed := fs.Uint64("seed", 1, "seed for initialization, shuffling and dropout")
	data := fs.String("data", "", "folder of the MNIST IDX files (default: $MNIST_DIR, the GoMNIST module, the download cache)")
	download := fs.Bool("download", false, "download MNIST into the user cache folder first, verifying SHA-256 digests")
	mirrors := fs.String("mirrors", "", "comma-separated mirror base URLs for -download (empty: the defaults)")
	val := fs.Int("val", 5000, "training images held out for validation (0: none)")
	limit := fs.Int("limit", 0, "train on only the first N training images (quick runs; 0: all)")
	out := fs.String("out", "", "run folder (default runs/<time>-<model>, or the checkpoint's folder with -resume)")
	resume := fs.String("resume", "", "continue the run saved in this checkpoint")
	initFrom := fs.String("init-from", "", "start from PyTorch state_dict weights in this safetensors file")
	eval := fs.String("eval", "", "evaluate this checkpoint on the test set (report and confusion.png) instead of training")
	dot := fs.String("dot", "", "write the training graph in Graphviz DOT to this file")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	exportTorch := fs.String("export-torch", "", "write the trained (or -eval'ed) weights in PyTorch state_dict layout to this safetensors file")
	quiet := fs.Bool("quiet", false, "print only the final accuracy line")
	blasName := fs.String("blas", "tapestry", "matrix multiply: tapestry (pure Go, AVX-512/AVX2 kernels) or gonum")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "train: unexpected arguments %q\n", fs.Args())
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	o := train.Defaults(*model)
	if *resume != "" {
		for _, name := range numeric {
			if set[name] {
				fmt.Fprintf(stderr, "train: -%s cannot be given with -resume: a resumed run keeps its checkpoint's settings\n", name)
				return 2
			}
		}
		o = train.Options{Resume: *resume}
	}
	if set["epochs"] || *resume != "" {
		o.Epochs = *epochs
	}
	if set["batch"] {
		o.Batch = *batch
	}
	if set["optimizer"] {
		o.Optimizer = *opt
	}
	if set["schedule"] {
		o.Schedule = optim.ScheduleConfig{Name: *schedule}
	}
	if o.Schedule.Name == "step" {
		if set["lr-step"] || o.Schedule.StepSize == 0 {
			o.Schedule.StepSize = *lrStep
		}
		if set["lr-gamma"] || o.Schedule.Gamma == 0 {
			o.Schedule.Gamma = *lrGamma
		}
	}
	if set["lr"] {
		o.LR = *lr
	}
	if set["seed"] {
		o.Seed = *seed
	}
	if set["val"] {
		o.Val = *val
	}
	o.Limit, o.InitFrom = *limit, *initFrom
	o.Data, o.Download, o.Out, o.Dot, o.CPUProfile, o.Quiet = *data, *download, *out, *dot, *cpuprofile, *quiet
	o.ExportTorch, o.BLAS = *exportTorch, *blasName
	if *mirrors != "" {
		o.Mirrors = strings.Split(*mirrors, ",")
	}

	if *eval != "" {
		if _, err := train.Eval(ctx, *eval, o, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "train: %v\n", err)
			return 1
		}
		return 0
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 2
	}
	if _, err := train.Run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		if errors.Is(err, graph.ErrInterrupted) {
			return 130
		}
		return 1
	}
	return 0
}
