// Command train trains a model on MNIST (or on a CSV file, -csv) and prints its test
// metric.
//
//	go run ./cmd/train                           # the MLP, ≥ 98%
//	go run ./cmd/train -model cnn                # the CNN, ≥ 99.2%
//	go run ./cmd/train -resume runs/X/last.safetensors -epochs 20
//	go run ./cmd/train -eval runs/X/best.safetensors
//
// Each run keeps a folder (-out, default runs/<time>-<model>) with
// config.json, metrics.jsonl, last.safetensors, best.safetensors and
// curves.png. SIGINT or SIGTERM during training finishes the current step,
// saves last.safetensors and prints how to resume; during start-up (loading
// a checkpoint or the data, choosing a tabular run's hidden layers,
// building the model) it exits at once, writing nothing.
//
// Every file read is untrusted: a checkpoint is checked whole (digest,
// architecture against its tensors within checkpoint.MaxActivations, saved
// options validated as flags are, training state against the model) before
// anything is built from it, and a path that is no regular file (a folder,
// a FIFO, a device) is refused by type without blocking. A start that fails
// leaves the run folder as it was.
//
// The application lives beside this file: options.go (the settings, split
// once into those that change the numbers and those that are only I/O),
// run.go (the phases of a run), data.go (MNIST or a CSV file into sources),
// select.go (choosing a tabular run's hidden layers by cross-validation),
// rundir.go (the run folder) and eval.go. Everything it does goes through
// the library (train, checkpoint, models, datasets/mnist, datasets/tabular).
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
	"syscall"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, set, err := parseFlags(args, stderr)
	if err == nil {
		err = dispatch(ctx, o, set, stdout, stderr)
	}
	var usage usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		if usage.error != errFlags { // the flag package has said what is wrong
			fmt.Fprintf(stderr, "train: %v\n", usage)
		}
		return 2
	case errors.Is(err, train.ErrInterrupted):
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 130
	default:
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
}

// startInterrupted is the error of a start-up cut short by a signal: it is
// an interruption (exit status 130) before anything was saved.
type startInterrupted struct{ what string }

func (e startInterrupted) Error() string {
	return "interrupted while " + e.what + "; nothing was saved"
}

// Is makes the error an interruption for errors.Is.
func (e startInterrupted) Is(target error) bool { return target == train.ErrInterrupted }

// loadHook, if set, is called as each interruptible phase begins, with what
// it does: tests make a phase slow with it, to signal a real process there.
var loadHook func(what string)

// interruptible runs a phase of start-up that cannot be stopped midway (a
// read of a large or slow file, its decoding, a cross-validation) and
// returns when it ends or as soon as ctx is done, whichever comes first. On
// a signal the phase is abandoned to finish on its own: it writes nothing
// but variables its caller no longer reads, and the process is about to
// exit.
func interruptible(ctx context.Context, what string, phase func() error) error {
	if ctx.Err() != nil {
		return startInterrupted{what}
	}
	done := make(chan error, 1)
	go func() {
		if loadHook != nil {
			loadHook(what)
		}
		done <- phase()
	}()
	select {
	case err := <-done:
		if err != nil && ctx.Err() != nil && errors.Is(err, train.ErrInterrupted) {
			// A cross-validation fold saw the signal first.
			return startInterrupted{what}
		}
		return err
	case <-ctx.Done():
		return startInterrupted{what}
	}
}

// usageError is a bad flag or setting: exit status 2.
type usageError struct{ error }

// errFlags is the usage error of flags that the flag package rejected with
// a message of its own.
var errFlags = errors.New("bad flags")

// parseFlags reads the flags in two passes: the first finds the model, whose
// defaults the second starts from, so that only the flags given override
// them. It returns the names of the flags given.
func parseFlags(args []string, stderr io.Writer) (Options, map[string]bool, error) {
	probe := Defaults("mlp")
	fs := newFlagSet(&probe, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return probe, nil, err
		}
		return probe, nil, usageError{errFlags}
	}
	if fs.NArg() > 0 {
		return probe, nil, usageError{errors.Errorf("unexpected arguments %q", fs.Args())}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o := Defaults(probe.Model)
	if probe.CSV != "" && probe.Eval == "" {
		o = TabularDefaults()
	}
	fs = newFlagSet(&o, io.Discard)
	_ = fs.Parse(args) // the same arguments parsed once already
	return o, set, nil
}

func newFlagSet(o *Options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.Numbers.flags(fs)
	o.IO.flags(fs)
	return fs
}

// dispatch checks the settings for the mode the flags ask for and runs it.
func dispatch(ctx context.Context, o Options, set map[string]bool, stdout, stderr io.Writer) error {
	if err := o.IO.Validate(); err != nil {
		return usageError{err}
	}
	switch {
	case o.Eval != "":
		if err := refuseNumbers(set, "-eval", "the checkpoint says how it was trained", "model", "csv", "test-csv", "delimiter"); err != nil {
			return err
		}
		if set["dot"] {
			return usageError{errors.New("-dot cannot be given with -eval: it writes the training graph")}
		}
		if !set["model"] {
			o.Model = ""
		}
		return Eval(ctx, o, stdout)
	case o.Resume != "":
		if err := refuseNumbers(set, "-resume", "a resumed run keeps its checkpoint's settings", "epochs"); err != nil {
			return err
		}
		o.Numbers = Numbers{Epochs: o.Epochs}
		if !set["epochs"] {
			o.Numbers.Epochs = 0
		}
	default:
		if err := o.Numbers.Validate(); err != nil {
			return usageError{err}
		}
		if o.tabular() && (set["data"] || set["download"] || set["mirrors"]) {
			return usageError{errors.New("-data, -download and -mirrors find MNIST; a -csv run reads its file")}
		}
	}
	_, err := Run(ctx, o, stdout, stderr)
	return err
}

// refuseNumbers returns a usage error if a flag of the numeric group other
// than those allowed was given with mode.
func refuseNumbers(set map[string]bool, mode, why string, allowed ...string) error {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	var n Numbers
	n.flags(fs)
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		for _, a := range allowed {
			if f.Name == a {
				return
			}
		}
		if set[f.Name] && err == nil {
			err = usageError{errors.Errorf("-%s cannot be given with %s: %s", f.Name, mode, why)}
		}
	})
	return err
}
