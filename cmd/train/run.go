package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// Result is what a run measured.
type Result struct {
	// Epochs holds every epoch of the run, including those done before a
	// resume.
	Epochs []train.EpochStats
	// Test is the evaluation on the test set; for a tabular regression its
	// metrics are in the target's unit (TestLine says them).
	Test        *train.Report
	TestCorrect int
	TestTotal   int
	// TestLine is the last line printed: "test accuracy: 98.37%
	// (9837/10000)", or "test mse: 0.0213  mae: 0.1107  r2: 0.8412".
	TestLine string
	// Dir is the run folder.
	Dir string
}

// metaOptions is the checkpoint metadata key of the run's Numbers.
const metaOptions = "train.options"

// Run trains and evaluates as o says, in four phases: prepare the data,
// build (or restore) the model and its trainer, fit, and finish (curves,
// export, test), for MNIST or, with o.CSV, for a CSV file. Progress goes to
// stderr (a bar when stderr is a terminal, a line per epoch otherwise); the
// last line on stdout is "test accuracy: 98.37% (9837/10000)" (or a
// regression's "test mse: …  mae: …  r2: …"). When ctx is cancelled
// (SIGINT), the step in flight finishes, last.safetensors is written, and
// the error says how to resume.
//
// A resumed run's numbers come from its checkpoint (only Epochs may be
// given, to train further); either way they are validated first.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) (*Result, error) {
	if o.Quiet {
		stderr = io.Discard
	}
	if err := o.IO.Validate(); err != nil {
		return nil, err
	}
	var ck *checkpoint.Checkpoint
	if o.Resume != "" {
		var err error
		if ck, o, err = resumeOptions(o); err != nil {
			return nil, err
		}
	} else if err := o.Numbers.Validate(); err != nil {
		return nil, err
	}
	// The matrix multiply is most of the time of a training step
	// (docs/PERFORMANCE.md).
	if err := blas.Use(o.BLAS); err != nil {
		return nil, err
	}
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	saved, err := savedEncoder(ck)
	if err != nil {
		return nil, errors.Wrapf(err, "resuming from %s", o.Resume)
	}
	data, err := prepareData(ctx, &o, saved, stderr)
	if err != nil {
		return nil, err
	}
	tr, err := buildTrainer(o, ck, data)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	run, err := openRunDir(o, tr, ck != nil)
	if err != nil {
		return nil, err
	}
	if err := run.writeRows(data); err != nil {
		return nil, err
	}
	if err := fit(ctx, o, tr, data, run, stderr); err != nil {
		return nil, err
	}
	return finish(o, tr, data, run, stdout, stderr)
}

// resumeOptions loads the checkpoint and returns the options it was trained
// with: its Numbers (Epochs raised if o asks for more), o's IO.
func resumeOptions(o Options) (*checkpoint.Checkpoint, Options, error) {
	ck, err := checkpoint.Load(o.Resume)
	if err != nil {
		return nil, o, err
	}
	var saved Numbers
	if err := json.Unmarshal([]byte(ck.Meta[metaOptions]), &saved); err != nil {
		return nil, o, errors.Errorf("resuming from %s: the checkpoint has no run options (was it written by cmd/train?)", o.Resume)
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
	o.Numbers = saved
	if o.Out == "" {
		o.Out = filepath.Dir(o.Resume)
	}
	return ck, o, nil
}

// startProfile starts a CPU profile into path, if path is set, and returns
// the function that stops it.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, errors.Wrap(err, "cpu profile")
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, errors.Wrap(err, "cpu profile")
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func dataDir(ctx context.Context, o IO, stderr io.Writer) (string, error) {
	if o.Download {
		var progress io.Writer
		if isTerminal(stderr) {
			progress = stderr
		}
		return mnist.Download(ctx, mnist.DownloadOptions{Mirrors: o.Mirrors, Progress: progress})
	}
	return mnist.Locate(o.Data)
}

// buildTrainer makes the model (the preset's, or the checkpoint's
// architecture), its weights (fresh from the seed, from PyTorch weights, or
// the checkpoint's), the optimizer and schedule, and the trainer; a
// checkpoint also restores the trainer's position and generator states.
func buildTrainer(o Options, ck *checkpoint.Checkpoint, d *data) (*train.Trainer, error) {
	var arch graph.Arch
	var err error
	switch {
	case ck != nil:
		arch, err = models.ArchOf(ck)
	case d.enc != nil:
		arch, err = tabularArch(o, d.enc)
	default:
		arch, err = models.Preset(o.Model)
	}
	if err != nil {
		return nil, err
	}
	// One seed, three streams: initialization here, shuffling and dropout
	// in the trainer.
	model, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(o.Seed, 1)))
	if err != nil {
		return nil, err
	}
	if o.InitFrom != "" && ck == nil {
		if err := checkpoint.ImportTorch(model, o.InitFrom); err != nil {
			return nil, err
		}
	}
	opt, err := optim.New(o.optimizer())
	if err != nil {
		return nil, err
	}
	sched, err := optim.NewSchedule(o.schedule())
	if err != nil {
		return nil, err
	}
	cfg := train.Config{Batch: o.Batch, Epochs: o.Epochs, Seed: o.Seed, Schedule: sched}
	if o.Patience > 0 {
		cfg.Callbacks = []train.Callback{&train.EarlyStopping{Patience: o.Patience, RestoreBest: true}}
	}
	tr, err := train.New(model, opt, cfg)
	if err != nil {
		return nil, err
	}
	opts, err := json.Marshal(o.Numbers)
	if err != nil {
		return nil, errors.Wrap(err, "encoding the options")
	}
	tr.Meta = map[string]string{metaOptions: string(opts)}
	if d.enc != nil {
		enc, err := json.Marshal(d.enc)
		if err != nil {
			return nil, errors.Wrap(err, "encoding the tabular encoder")
		}
		tr.Meta[metaEncoder] = string(enc)
	}
	if ck != nil {
		if err := tr.Restore(ck); err != nil {
			return nil, errors.Wrapf(err, "resuming from %s", o.Resume)
		}
	}
	return tr, nil
}

// fit trains, printing a line per epoch, keeping the run folder, and on an
// interruption saving where it stopped.
func fit(ctx context.Context, o Options, tr *train.Trainer, d *data, run *runDir, stderr io.Writer) error {
	if o.Dot != "" {
		dot := tr.Program().Graph().ToDot()
		if err := writeFile(o.Dot, []byte(dot)); err != nil {
			return errors.Wrapf(err, "writing the graph to %s", o.Dot)
		}
	}
	pos := tr.Position()
	fmt.Fprintf(stderr, "%s: %d parameters; training on %d examples, validating on %d, batch %d, %s lr %g, epochs %d..%d; run folder %s\n",
		o.Model, tr.Model.Params.Count(), d.trainN, d.valN, o.Batch, o.Optimizer,
		tr.Optimizer.Config().LR, pos.Epoch+1, o.Epochs, run.dir)
	tr.OnStep = progress(stderr, o.Epochs, o.onStep)
	tr.OnEpoch = func(s train.EpochStats) error {
		fmt.Fprintln(stderr, FormatEpoch(s, o.Epochs))
		return run.epochDone(tr, s)
	}
	err := tr.Fit(ctx, d.train, d.val)
	last := filepath.Join(run.dir, "last.safetensors")
	if errors.Is(err, train.ErrInterrupted) {
		if tr.Position().Batch > 0 {
			if serr := tr.Save(last); serr != nil {
				return errors.Wrapf(serr, "saving after the interruption (%v)", err)
			}
		}
		return errors.Wrapf(err, "checkpoint saved to %s; resume with: go run ./cmd/train -resume %s", last, last)
	}
	return errors.Wrapf(err, "training (the last good checkpoint is %s)", last)
}

// progress returns the trainer's OnStep: a bar on a terminal, and the
// tests' hook.
func progress(stderr io.Writer, epochs int, hook func(train.StepInfo)) func(train.StepInfo) {
	var bar *progressbar.ProgressBar
	terminal := isTerminal(stderr)
	return func(s train.StepInfo) {
		if terminal {
			if bar == nil || s.Batch == 1 {
				bar = progressbar.NewOptions(s.Batches, progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", s.Epoch, epochs)),
					progressbar.OptionShowIts(), progressbar.OptionClearOnFinish())
			}
			_ = bar.Add(1)
		}
		if hook != nil {
			hook(s)
		}
	}
}

// finish draws the curves, exports the weights if asked, and evaluates on
// the test set.
func finish(o Options, tr *train.Trainer, d *data, run *runDir, stdout, stderr io.Writer) (*Result, error) {
	if err := run.curves(tr.History()); err != nil {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
	if o.ExportTorch != "" {
		if err := checkpoint.ExportTorch(tr.Model, o.ExportTorch); err != nil {
			return nil, err
		}
	}
	began := time.Now()
	r, err := train.Evaluate(tr.Model, d.test)
	if err != nil {
		return nil, errors.Wrap(err, "testing")
	}
	fmt.Fprintf(stderr, "evaluated %d test examples in %.1fs\n", r.N, time.Since(began).Seconds())
	res := &Result{Epochs: tr.History(), Test: r, Dir: run.dir}
	res.TestLine, res.TestCorrect, res.TestTotal = testLine(r, d.enc)
	fmt.Fprintln(stdout, res.TestLine)
	return res, nil
}

// testLine is the last line of a run: "test accuracy: 98.37% (9837/10000)"
// for a classifier; for a regression "test mse: 0.0213  mae: 0.1107  r2:
// 0.8412", in the target's unit when an encoder standardized it.
func testLine(r *train.Report, enc *tabular.Encoder) (line string, correct, total int) {
	if r.Predicted != nil {
		return FormatAccuracy(r.Correct(), r.N), r.Correct(), r.N
	}
	std := 1.0
	if enc != nil && enc.Target().Task == tabular.Regress {
		std = enc.Target().Std
	}
	m := r.Metrics
	return fmt.Sprintf("test mse: %.4f  mae: %.4f  r2: %.4f", m["mse"]*std*std, m["mae"]*std, m["r2"]), 0, r.N
}

// FormatAccuracy is the last line of a classifier's run: "test accuracy:
// 98.37% (9837/10000)".
func FormatAccuracy(correct, total int) string {
	return fmt.Sprintf("test accuracy: %.2f%% (%d/%d)", 100*float64(correct)/float64(total), correct, total)
}

// FormatEpoch is the per-epoch progress line: the losses and metrics, the
// time and the speed.
func FormatEpoch(s train.EpochStats, epochs int) string {
	line := strings.TrimPrefix(s.String(), fmt.Sprintf("epoch %d", s.Epoch))
	return fmt.Sprintf("epoch %d/%d%s  %.1fs  %.0f samples/s", s.Epoch, epochs, line, s.Seconds, s.SamplesPerSec)
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
