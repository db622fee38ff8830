// Package train runs the MNIST training experiments behind cmd/train: it
// finds and loads the data, builds the model a name selects, trains it with
// progress on stderr, and evaluates it on the 10,000 test images.
//
//	res, err := train.Run(ctx, train.Defaults("mlp"), os.Stdout, os.Stderr)
//	fmt.Println(res.TestAccuracy)
package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"
)

// Options are the settings of one run; cmd/train's flags map onto them.
type Options struct {
	// Model names the architecture: one of Models.
	Model string `json:"model"`
	// Epochs is the number of passes over the training set.
	Epochs int `json:"epochs"`
	// Batch is the number of examples per training step.
	Batch int `json:"batch"`
	// LR is the base learning rate. If LR is 0, the optimizer's default
	// (optim.DefaultLR) is used.
	LR float64 `json:"lr"`
	// Optimizer is one of optim's names ("adam", "sgd", …).
	Optimizer string `json:"optimizer"`
	// Seed drives initialization, shuffling and dropout masks.
	Seed uint64 `json:"seed"`
	// Data is the folder of the MNIST files. If Data is "", $MNIST_DIR
	// and then the GoMNIST module in the Go module cache are tried.
	Data string `json:"data"`
	// Val is the number of training images held out for validation; 0
	// turns validation off.
	Val int `json:"val"`
	// Quiet prints only the final line.
	Quiet bool `json:"quiet"`
	// Limit, if positive, trains on only the first Limit training images
	// (after the validation split): for quick runs and tests.
	Limit int `json:"limit,omitempty"`
}

// Models lists the architectures Run knows.
var Models = []string{"mlp"}

// Defaults returns the settings that reach the documented accuracy for a
// model: for "mlp", Adam 1e-3, batch 128, 10 epochs (≥ 98% test accuracy).
func Defaults(model string) Options {
	o := Options{Model: model, Seed: 1, Val: 5000}
	switch model {
	default:
		o.Epochs, o.Batch, o.Optimizer = 10, 128, "adam"
	}
	return o
}

// Validate reports the first bad setting, before any work is done.
func (o Options) Validate() error {
	known := false
	for _, m := range Models {
		known = known || m == o.Model
	}
	switch {
	case !known:
		return errors.Errorf("unknown model %q (want one of %s)", o.Model, strings.Join(Models, ", "))
	case o.Epochs < 1:
		return errors.Errorf("epochs %d must be at least 1", o.Epochs)
	case o.Batch < 1:
		return errors.Errorf("batch size %d must be at least 1", o.Batch)
	case math.IsNaN(o.LR) || math.IsInf(o.LR, 0) || o.LR < 0:
		return errors.Errorf("learning rate %v must be a positive number", o.LR)
	case o.Val < 0 || o.Val >= 60000:
		return errors.Errorf("validation size %d must be in [0, 60000)", o.Val)
	case o.Limit < 0:
		return errors.Errorf("limit %d must not be negative", o.Limit)
	}
	if _, err := optim.New(optim.Config{Name: o.Optimizer, LR: o.lr()}); err != nil {
		return err
	}
	return nil
}

func (o Options) lr() float64 {
	if o.LR == 0 {
		return optim.DefaultLR(o.Optimizer)
	}
	return o.LR
}

// Result is what a run measured.
type Result struct {
	Epochs       []graph.EpochStats
	TestCorrect  int
	TestTotal    int
	TestAccuracy float64
}

// NewArch returns the architecture of a model name.
func NewArch(name string) (graph.Arch, error) {
	switch name {
	case "mlp":
		return mlp.New(mlp.Config{})
	}
	return graph.Arch{}, errors.Errorf("unknown model %q", name)
}

// Run trains and evaluates as o says. Progress goes to stderr (a bar when
// stderr is a terminal, a line per epoch otherwise); the last line on
// stdout is "test accuracy: 98.37% (9837/10000)".
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Quiet {
		stderr = io.Discard
	}
	dir, err := mnist.Locate(o.Data)
	if err != nil {
		return nil, err
	}
	full, err := mnist.Load(dir, "train")
	if err != nil {
		return nil, err
	}
	test, err := mnist.Load(dir, "t10k")
	if err != nil {
		return nil, err
	}
	trainSet, valSet, err := full.Split(o.Val)
	if err != nil {
		return nil, err
	}
	if o.Limit > 0 && o.Limit < trainSet.Len() {
		trainSet = trainSet.Subset(0, o.Limit)
	}
	if o.Batch > trainSet.Len() {
		return nil, errors.Errorf("batch size %d is larger than the %d training images", o.Batch, trainSet.Len())
	}
	arch, err := NewArch(o.Model)
	if err != nil {
		return nil, err
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(o.Seed, 1)))
	if err != nil {
		return nil, err
	}
	opt, err := optim.New(optim.Config{Name: o.Optimizer, LR: o.lr()})
	if err != nil {
		return nil, err
	}
	trainer, err := graph.NewTrainer(model, opt, o.lr(), o.Batch, rand.New(rand.NewPCG(o.Seed, 3)))
	if err != nil {
		return nil, err
	}
	batches, err := mnist.NewBatches(trainSet, o.Batch, rand.New(rand.NewPCG(o.Seed, 2)), true)
	if err != nil {
		return nil, err
	}
	var val graph.Batches
	if valSet != nil {
		if val, err = mnist.NewBatches(valSet, 1000, nil, false); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(stderr, "%s: %d parameters; training on %d images, validating on %d, batch %d, %s lr %g, %d epochs\n",
		o.Model, model.Params.Count(), trainSet.Len(), lenOf(valSet), o.Batch, o.Optimizer, o.lr(), o.Epochs)
	var bar *progressbar.ProgressBar
	if isTerminal(stderr) {
		trainer.OnStep = func(s graph.StepInfo) {
			if bar == nil || s.Batch == 1 {
				bar = progressbar.NewOptions(s.Batches, progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", s.Epoch, o.Epochs)),
					progressbar.OptionShowIts(), progressbar.OptionClearOnFinish())
			}
			_ = bar.Add(1)
		}
	}
	trainer.OnEpoch = func(s graph.EpochStats) error {
		fmt.Fprintln(stderr, FormatEpoch(s, o.Epochs))
		return ctx.Err()
	}
	hist, _, err := trainer.Fit(ctx, batches, val, graph.Position{}, o.Epochs)
	if err != nil {
		return nil, errors.Wrap(err, "training")
	}
	testBatches, err := mnist.NewBatches(test, 1000, nil, false)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	correct, total, err := graph.Evaluate(model, testBatches, nil)
	if err != nil {
		return nil, errors.Wrap(err, "testing")
	}
	fmt.Fprintf(stderr, "evaluated %d test images in %.1fs\n", total, time.Since(began).Seconds())
	res := &Result{Epochs: hist, TestCorrect: correct, TestTotal: total, TestAccuracy: float64(correct) / float64(total)}
	fmt.Fprintln(stdout, FormatAccuracy(correct, total))
	return res, nil
}

// FormatAccuracy is the last line of a run: "test accuracy: 98.37% (9837/10000)".
func FormatAccuracy(correct, total int) string {
	return fmt.Sprintf("test accuracy: %.2f%% (%d/%d)", 100*float64(correct)/float64(total), correct, total)
}

// FormatEpoch is the per-epoch progress line.
func FormatEpoch(s graph.EpochStats, epochs int) string {
	val := ""
	if !math.IsNaN(s.ValAcc) {
		val = fmt.Sprintf("  val acc %.2f%%", 100*s.ValAcc)
	}
	return fmt.Sprintf("epoch %d/%d  loss %.4f  train acc %.2f%%%s  %.1fs  %.0f samples/s",
		s.Epoch, epochs, s.TrainLoss, 100*s.TrainAcc, val, s.Seconds, s.SamplesPerSec)
}

func lenOf(d *mnist.Dataset) int {
	if d == nil {
		return 0
	}
	return d.Len()
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
