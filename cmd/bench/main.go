// Command bench measures tapestry's training and inference speed on MNIST,
// optionally side by side with the PyTorch peer, and prints a table (or
// JSON lines).
//
//	go run ./cmd/bench                                  # every available workload
//	go run ./cmd/bench -workloads mlp,mlp-epoch,cnn,mlp-infer-1,mlp-infer-256,mlp-serve-8 -compare-torch -json   # docs/PERFORMANCE.md's table
//	go run ./cmd/bench -workloads mlp -repeat 5 -steps 50 -compare-torch
//	go run ./cmd/bench -workloads mlp-infer-1,mlp-serve-8 -calls 2000
//	go run ./cmd/bench -workloads mlp-infer-32,mlp-serve-16,cnn-infer-1 -compare-torch
//	go run ./cmd/bench -workloads mlp,cnn -procs 1,2 -json
//	go run ./cmd/bench -stalls 2m                       # the machine's own stalls, the floor of every latency tail
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

	"github.com/tapestry-ml/tapestry/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workloads := fs.String("workloads", "", "comma-separated workloads, of "+strings.Join(names(), ", ")+
		", or PRESET-infer-B (one caller, batches of B) and PRESET-serve-N (N callers of one example sharing a Predictor) for "+
		strings.Join(bench.InferPresets, ", ")+" (empty: every listed one models.Preset accepts)")
	batch := fs.Int("batch", 0, "batch size of every training workload (0: the workload's own: mlp 128, cnn 64, lenet5 64); inference workloads keep theirs")
	procs := fs.String("procs", "2", "comma-separated GOMAXPROCS values to measure at")
	steps := fs.Int("steps", 50, "timed steps per repeat of the training workloads (mlp, cnn, lenet5)")
	warmup := fs.Int("warmup", 10, "untimed steps per repeat of the training workloads before the timed ones")
	calls := fs.Int("calls", 0, "timed predictions per caller and repeat of inference workloads (0: the workload's own)")
	repeat := fs.Int("repeat", 5, "repeats (fresh measurements) the figures are medians of")
	jsonOut := fs.Bool("json", false, "write one JSON object per workload to stdout (the table goes to stderr)")
	blasName := fs.String("blas", "tapestry", "BLAS: "+strings.Join(bench.BLASNames, ", "))
	data := fs.String("data", "", "folder of the MNIST IDX files (default: $MNIST_DIR, the GoMNIST module, the download cache)")
	seed := fs.Uint64("seed", 1, "seed for initialization, shuffling and dropout")
	torch := fs.Bool("compare-torch", false, "also run the PyTorch peer on each workload, alternating repeats (needs python3-torch)")
	torchScript := fs.String("torch-script", "", "path of the PyTorch peer script (default: bench/peers/torch_mnist.py in the module root)")
	python := fs.String("python", "", "Python interpreter of the peer (default /usr/bin/python3)")
	stalls := fs.Duration("stalls", 0, "measure only how long the machine stops a thread that never blocks, spinning on every processor for this long at each -procs value (the floor under every latency tail)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	p, err := bench.ParseProcs(*procs)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if *steps < 1 || *repeat < 1 || *calls < 0 {
		fmt.Fprintf(stderr, "bench: -steps %d and -repeat %d must be at least 1, -calls %d not negative\n", *steps, *repeat, *calls)
		return 2
	}
	if *stalls != 0 {
		// The meter runs no workload: a workload's flag beside it would be
		// ignored, so it is refused.
		var other []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "stalls" && f.Name != "procs" && f.Name != "json" {
				other = append(other, "-"+f.Name)
			}
		})
		if len(other) > 0 {
			fmt.Fprintf(stderr, "bench: -stalls measures the machine only and takes -procs and -json, not %s\n", strings.Join(other, " "))
			return 2
		}
		if *stalls < 0 {
			fmt.Fprintf(stderr, "bench: -stalls %v is negative\n", *stalls)
			return 2
		}
		if err := bench.RunStalls(ctx, *stalls, p, *jsonOut, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			if errors.Is(err, context.Canceled) {
				return 130
			}
			return 1
		}
		return 0
	}
	if err := checkApplies(fs, *workloads); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	cfg := bench.Config{
		Workloads: bench.ParseNames(*workloads), Batch: *batch, Procs: p,
		Steps: *steps, Warmup: *warmup, Calls: *calls, Repeat: *repeat, JSON: *jsonOut, BLAS: *blasName,
		Data: *data, Seed: *seed, CompareTorch: *torch, TorchScript: *torchScript, Python: *python,
		Log: stderr,
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if _, err := bench.Run(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	return 0
}

// checkApplies refuses a flag given explicitly that none of the chosen
// workloads would read: it would be ignored without a word.
func checkApplies(fs *flag.FlagSet, workloads string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	chosen := bench.ParseNames(workloads)
	if set["workloads"] && len(chosen) == 0 {
		return errors.Errorf("-workloads %q names no workload", workloads)
	}
	kinds := map[bench.Kind]bool{}
	if len(chosen) == 0 {
		for _, w := range bench.Workloads {
			kinds[w.Kind] = true
		}
	}
	for _, name := range chosen {
		// An unknown name is Validate's to report.
		if w, ok := bench.LookupWorkload(name); ok {
			kinds[w.Kind] = true
		}
	}
	for _, c := range []struct {
		flag string
		ok   bool
		why  string
	}{
		{"steps", kinds[bench.Train], "-steps and -warmup count the steps of the training workloads (mlp, cnn, lenet5); mlp-epoch runs one whole epoch, inference workloads count -calls"},
		{"warmup", kinds[bench.Train], "-steps and -warmup count the steps of the training workloads (mlp, cnn, lenet5); mlp-epoch runs one whole epoch, inference workloads count -calls"},
		{"batch", kinds[bench.Train] || kinds[bench.Epoch], "-batch sets the training workloads' batch; an inference workload's batch is its own"},
		{"calls", kinds[bench.Infer], "-calls counts the predictions of the inference workloads (mlp-infer-1, mlp-infer-256, mlp-serve-8, PRESET-infer-B, PRESET-serve-N)"},
		{"torch-script", set["compare-torch"], "-torch-script and -python are for -compare-torch"},
		{"python", set["compare-torch"], "-torch-script and -python are for -compare-torch"},
	} {
		if set[c.flag] && !c.ok {
			return errors.Errorf("-%s would do nothing here: %s", c.flag, c.why)
		}
	}
	return nil
}

func names() []string {
	var n []string
	for _, w := range bench.Workloads {
		n = append(n, w.Name)
	}
	return n
}
