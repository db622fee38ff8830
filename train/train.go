// Package train runs the MNIST experiments behind cmd/train: it finds (or
// downloads) and loads the data, builds or resumes the model, trains it with
// progress on stderr while keeping a run folder (config.json, metrics.jsonl,
// last and best checkpoints, curves.png), and evaluates it on the 10,000
// test images.
//
//	res, err := train.Run(ctx, train.Defaults("mlp"), os.Stdout, os.Stderr)
//	fmt.Println(res.TestAccuracy)
package train

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
)

// Result is what a run measured.
type Result struct {
	// Epochs holds every epoch of the run, including those done before a
	// resume.
	Epochs       []graph.EpochStats
	TestCorrect  int
	TestTotal    int
	TestAccuracy float64
	// Dir is the run folder.
	Dir string
}

// Checkpoint metadata keys written by Run.
const (
	metaOptions  = "train.options"
	metaPosition = "train.position"
	metaHistory  = "train.history"
	metaBestVal  = "train.best_val"
	metaShuffle  = "rng.shuffle"
	metaDropout  = "rng.dropout"
)

// Run trains and evaluates as o says. Progress goes to stderr (a bar when
// stderr is a terminal, a line per epoch otherwise); the last line on
// stdout is "test accuracy: 98.37% (9837/10000)". When ctx is cancelled
// (SIGINT), the step in flight finishes, last.safetensors is written, and
// the error says how to resume.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Quiet {
		stderr = io.Discard
	}
	useBLAS(o.BLAS)
	var ck *checkpoint.Checkpoint
	if o.Resume != "" {
		var err error
		if ck, o, err = resumeOptions(o); err != nil {
			return nil, err
		}
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return nil, errors.Wrap(err, "cpu profile")
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, errors.Wrap(err, "cpu profile")
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := dataDir(ctx, o, stderr)
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

	// The model, from the preset or the checkpoint, then its weights.
	var arch graph.Arch
	if ck != nil {
		arch, err = models.FromConfig(ck.Kind, ck.Config)
	} else {
		arch, err = models.Preset(o.Model)
	}
	if err != nil {
		return nil, err
	}
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(o.Seed, 1)))
	if err != nil {
		return nil, err
	}
	switch {
	case ck != nil:
		if err := ck.Restore(model); err != nil {
			return nil, errors.Wrapf(err, "resuming from %s", o.Resume)
		}
	case o.InitFrom != "":
		if err := checkpoint.ImportTorch(model, o.InitFrom); err != nil {
			return nil, err
		}
	}
	opt, err := optim.New(optim.Config{Name: o.Optimizer, LR: o.lr()})
	if err != nil {
		return nil, err
	}
	sched, err := optim.NewSchedule(o.schedule())
	if err != nil {
		return nil, err
	}

	// One seed, three streams: initialization (above), shuffling, dropout.
	shufflePCG, dropoutPCG := rand.NewPCG(o.Seed, 2), rand.NewPCG(o.Seed, 3)
	trainer, err := graph.NewTrainer(model, opt, o.lr(), o.Batch, rand.New(dropoutPCG))
	if err != nil {
		return nil, err
	}
	trainer.Schedule = sched
	batches, err := mnist.NewBatches(trainSet, o.Batch, rand.New(shufflePCG), true)
	if err != nil {
		return nil, err
	}
	var val graph.Batches
	if valSet != nil {
		if val, err = mnist.NewBatches(valSet, 1000, nil, false); err != nil {
			return nil, err
		}
	}

	run := &runDir{opts: o, bestVal: math.Inf(-1)}
	var pos graph.Position
	if ck != nil {
		if pos, err = run.resume(ck, shufflePCG, dropoutPCG, trainer); err != nil {
			return nil, errors.Wrapf(err, "resuming from %s", o.Resume)
		}
	}
	if err := run.open(o, arch, ck != nil); err != nil {
		return nil, err
	}
	if o.Dot != "" {
		if err := writeDot(o.Dot, trainer.Program()); err != nil {
			return nil, err
		}
	}

	fmt.Fprintf(stderr, "%s: %d parameters; training on %d images, validating on %d, batch %d, %s lr %g, epochs %d..%d; run folder %s\n",
		arch.Kind, model.Params.Count(), trainSet.Len(), lenOf(valSet), o.Batch, o.Optimizer, o.lr(), pos.Epoch+1, o.Epochs, run.dir)
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
	if o.onStep != nil {
		prev := trainer.OnStep
		trainer.OnStep = func(s graph.StepInfo) {
			if prev != nil {
				prev(s)
			}
			o.onStep(s)
		}
	}
	var shuffleAtStart []byte
	trainer.OnEpochStart = func(int) { shuffleAtStart, _ = shufflePCG.MarshalBinary() }
	save := func(name string, p graph.Position) error {
		state := shuffleAtStart
		if p.Batch == 0 {
			// Between epochs the next shuffle has not been drawn yet.
			state, _ = shufflePCG.MarshalBinary()
		}
		drop, _ := dropoutPCG.MarshalBinary()
		return run.save(name, model, opt, p, state, drop)
	}
	trainer.OnEpoch = func(s graph.EpochStats) error {
		fmt.Fprintln(stderr, FormatEpoch(s, o.Epochs))
		if err := run.record(s); err != nil {
			return err
		}
		if err := save("last.safetensors", graph.Position{Epoch: s.Epoch}); err != nil {
			return err
		}
		if !math.IsNaN(s.ValAcc) && s.ValAcc > run.bestVal {
			run.bestVal = s.ValAcc
			return save("best.safetensors", graph.Position{Epoch: s.Epoch})
		}
		return nil
	}
	_, pos, err = trainer.Fit(ctx, batches, val, pos, o.Epochs)
	if errors.Is(err, graph.ErrInterrupted) {
		if pos.Batch > 0 {
			if serr := save("last.safetensors", pos); serr != nil {
				return nil, errors.Wrapf(serr, "saving after the interruption (%v)", err)
			}
		}
		last := filepath.Join(run.dir, "last.safetensors")
		return nil, errors.Wrapf(err, "checkpoint saved to %s; resume with: go run ./cmd/train -resume %s", last, last)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "training (the last good checkpoint is %s)", filepath.Join(run.dir, "last.safetensors"))
	}
	if err := run.curves(); err != nil {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
	if o.ExportTorch != "" {
		if err := checkpoint.ExportTorch(model, o.ExportTorch); err != nil {
			return nil, err
		}
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
	res := &Result{Epochs: run.hist, TestCorrect: correct, TestTotal: total, TestAccuracy: float64(correct) / float64(total), Dir: run.dir}
	fmt.Fprintln(stdout, FormatAccuracy(correct, total))
	return res, nil
}

// useBLAS makes name the BLAS that Gorgonia calls: the matrix multiply is
// most of the time of a training step (docs/PERFORMANCE.md).
func useBLAS(name string) {
	if name == "gonum" {
		gorgonia.Use(gonum.Implementation{})
		return
	}
	blas.Install()
}

// resumeOptions loads the checkpoint and returns the options it was trained
// with, with the settings that do not change the numbers taken from o.
func resumeOptions(o Options) (*checkpoint.Checkpoint, Options, error) {
	ck, err := checkpoint.Load(o.Resume)
	if err != nil {
		return nil, o, err
	}
	var saved Options
	if err := json.Unmarshal([]byte(ck.Meta[metaOptions]), &saved); err != nil {
		return nil, o, errors.Errorf("resuming from %s: the checkpoint has no run options (was it written by cmd/train?)", o.Resume)
	}
	saved.Data, saved.Download, saved.Mirrors, saved.Resume = o.Data, o.Download, o.Mirrors, o.Resume
	saved.Dot, saved.CPUProfile, saved.Quiet, saved.Out, saved.ExportTorch = o.Dot, o.CPUProfile, o.Quiet, o.Out, o.ExportTorch
	saved.BLAS = o.BLAS
	if saved.Out == "" {
		saved.Out = filepath.Dir(o.Resume)
	}
	if o.Epochs > 0 {
		saved.Epochs = o.Epochs
	}
	if saved.Epochs <= ck.Epoch {
		return nil, o, errors.Errorf("resuming from %s: it has done %d of %d epochs; pass -epochs N with N > %d to train further", o.Resume, ck.Epoch, saved.Epochs, ck.Epoch)
	}
	if err := saved.Validate(); err != nil {
		return nil, o, errors.Wrapf(err, "resuming from %s", o.Resume)
	}
	return ck, saved, nil
}

func dataDir(ctx context.Context, o Options, stderr io.Writer) (string, error) {
	if o.Download {
		var progress io.Writer
		if isTerminal(stderr) {
			progress = stderr
		}
		return mnist.Download(ctx, mnist.DownloadOptions{Mirrors: o.Mirrors, Progress: progress})
	}
	return mnist.Locate(o.Data)
}

func writeDot(path string, p *graph.Program) error {
	dot := p.Graph().ToDot()
	return errors.Wrapf(writeAtomic(path, []byte(dot)), "writing the graph to %s", path)
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

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
