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
	"github.com/tapestry-ml/tapestry/internal/strictjson"
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

// Run trains and evaluates as o says, in four phases: start (read and check
// everything, build the model and its trainer, then open the run folder),
// fit, and finish (curves, export, test), for MNIST or, with o.CSV, for a
// CSV file. Progress goes to stderr (a bar when stderr is a terminal, a
// line per epoch otherwise); the last line on stdout is "test accuracy:
// 98.37% (9837/10000)" (or a regression's "test mse: …  mae: …  r2: …").
// When ctx is cancelled (SIGINT) during training, the step in flight
// finishes, last.safetensors is written, and the error says how to resume;
// when it is cancelled before training starts, Run returns at once and
// nothing is written.
//
// A resumed run's numbers come from its checkpoint (only Epochs may be
// given, to train further); either way they are validated first, and every
// error of a resumed run names its checkpoint.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) (*Result, error) {
	if o.Quiet {
		stderr = io.Discard
	}
	if err := o.IO.Validate(); err != nil {
		return nil, err
	}
	s, err := start(ctx, o, stderr)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := fit(ctx, s.o, s.tr, s.data, s.run, stderr); err != nil {
		return nil, err
	}
	return finish(s.o, s.tr, s.data, s.run, stdout, stderr)
}

// started is a run ready to train: its options (a resumed run's from its
// checkpoint), data, trainer and run folder.
type started struct {
	o           Options
	data        *data
	tr          *train.Trainer
	run         *runDir
	stopProfile func()
}

func (s *started) close() {
	if s.tr != nil {
		s.tr.Close()
	}
	if s.stopProfile != nil {
		s.stopProfile()
	}
}

// start does everything a run does before its first step, reading and
// checking before it writes anything: a resume's checkpoint and options,
// the data, the model and trainer, the graph file, and last the run
// folder's files. A failure returns with the run folder as it was, and so
// does a signal (ctx cancelled): each phase that cannot be stopped midway
// (reading a file, cross-validating) is left to finish on its own while
// start returns at once.
func start(ctx context.Context, o Options, stderr io.Writer) (_ *started, err error) {
	s := &started{}
	var ck *checkpoint.Checkpoint
	var enc *tabular.Encoder
	if o.Resume != "" {
		var r *resumed
		if err := interruptible(ctx, "loading "+o.Resume, func() (err error) { r, err = loadResume(o); return err }); err != nil {
			return nil, err
		}
		ck, o, enc = r.ck, r.o, r.enc
		defer func() {
			// Every error of a resume names its checkpoint, once.
			if err != nil && !strings.Contains(err.Error(), o.Resume) {
				err = errors.Wrapf(err, "resuming from %s", o.Resume)
			}
		}()
	} else if err := o.Numbers.Validate(); err != nil {
		return nil, err
	} else if o.tabular() {
		if err := o.refuseMNIST("-csv, whose run reads its file"); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	// The matrix multiply is most of the time of a training step
	// (docs/PERFORMANCE.md).
	if err := blas.Use(o.BLAS); err != nil {
		return nil, err
	}
	if s.stopProfile, err = startProfile(o.CPUProfile); err != nil {
		return nil, err
	}
	// The phase gets its own copy of o: prepareData sets the hidden layers
	// it chooses, and an abandoned phase must write to nothing start reads.
	phase, what := o, "reading the data"
	if o.tabular() && o.Hidden == nil {
		what += " and cross-validating its hidden layers"
	}
	if err := interruptible(ctx, what, func() (err error) { s.data, err = prepareData(ctx, &phase, enc, stderr); return err }); err != nil {
		return nil, err
	}
	o = phase
	if err := interruptible(ctx, "building the model", func() (err error) { s.tr, err = buildTrainer(o, ck, s.data); return err }); err != nil {
		return nil, err
	}
	if p := s.tr.Position(); ck != nil && p.Batch > 0 && p.Batch >= s.data.train.Len() {
		return nil, errors.Errorf("metadata field train.position is batch %d of epoch %d, past the end of the epoch's %d batches: the checkpoint was not taken on this data",
			p.Batch, p.Epoch+1, s.data.train.Len())
	}
	if o.Dot != "" {
		if err := writeFile(o.Dot, []byte(s.tr.Program().Graph().ToDot())); err != nil {
			return nil, errors.Wrapf(err, "writing the graph to %s", o.Dot)
		}
	}
	if ctx.Err() != nil {
		return nil, startInterrupted{"starting"}
	}
	if s.run, err = openRunDir(o, s.tr, s.data, ck != nil); err != nil {
		return nil, err
	}
	s.o = o
	return s, nil
}

// resumed is what a resume reads before any data: the checkpoint, the
// options it was trained with, and a tabular run's encoder.
type resumed struct {
	ck  *checkpoint.Checkpoint
	o   Options
	enc *tabular.Encoder
}

// loadResume loads the checkpoint to resume and checks what it says before
// anything is built or read from it (checkResume). Errors name the file.
func loadResume(o Options) (*resumed, error) {
	ck, err := checkpoint.Load(o.Resume)
	if err != nil {
		return nil, err
	}
	r, err := checkResume(ck, o)
	return r, errors.Wrapf(err, "resuming from %s", o.Resume)
}

// checkResume returns the options a checkpoint was trained with (its
// Numbers, Epochs raised if o asks for more; o's IO), validated exactly as
// flags are, and checks the rest of the file against them: the
// architecture must be the one those options build (so that the run costs
// what the same flags would), the optimizer config the one they make, and
// a tabular run's encoder must be there, and its hidden layers chosen. A
// tabular run refuses o's settings that find MNIST (a usage error).
func checkResume(ck *checkpoint.Checkpoint, o Options) (*resumed, error) {
	raw, ok := ck.Meta[metaOptions]
	if !ok {
		return nil, errors.New("the checkpoint has no run options (was it written by cmd/train?)")
	}
	var saved Numbers
	if err := strictjson.Decode([]byte(raw), &saved); err != nil {
		return nil, errors.Errorf("metadata field %s is not a run's options: %s", metaOptions, cut(err.Error()))
	}
	if saved.tabular() {
		if err := o.refuseMNIST(fmt.Sprintf("-resume of %s, a tabular run's checkpoint, which reads its own CSV file (%.200q)", o.Resume, saved.CSV)); err != nil {
			return nil, err
		}
	}
	if o.Epochs > 0 {
		saved.Epochs = o.Epochs
	}
	if saved.Epochs <= ck.Epoch {
		return nil, errors.Errorf("it has done %d of %d epochs; pass -epochs N with N > %d to train further", ck.Epoch, saved.Epochs, ck.Epoch)
	}
	if err := saved.Validate(); err != nil {
		return nil, errors.Wrapf(err, "metadata field %s", metaOptions)
	}
	enc, err := savedEncoder(ck)
	switch {
	case err != nil:
		return nil, err
	case saved.tabular() != (enc != nil):
		return nil, errors.Errorf("metadata field %s: a run on a CSV file saves its encoder (%s), and only such a run", metaOptions, metaEncoder)
	case saved.tabular() && saved.Hidden == nil:
		return nil, errors.Errorf("metadata field %s has no hidden layers: a tabular run records those it chose", metaOptions)
	}
	want, err := runArch(saved, enc)
	if err != nil {
		return nil, errors.Wrapf(err, "metadata field %s", metaOptions)
	}
	got, err := models.ArchOf(ck)
	if err != nil {
		return nil, err
	}
	if a, b := archJSON(want), archJSON(got); a == "" || a != b {
		return nil, errors.Errorf("metadata field arch.spec is not the architecture its options (%s) build for model %.40q", metaOptions, saved.Model)
	}
	opt, err := optim.New(saved.optimizer())
	if err != nil {
		return nil, errors.Wrapf(err, "metadata field %s", metaOptions)
	}
	if ck.Optimizer == nil || *ck.Optimizer != opt.Config() {
		return nil, errors.Errorf("metadata field optimizer.config is not the optimizer its options (%s) make", metaOptions)
	}
	o.Numbers = saved
	if o.Out == "" {
		o.Out = filepath.Dir(o.Resume)
	}
	return &resumed{ck: ck, o: o, enc: enc}, nil
}

// runArch is the architecture a run of n builds: the preset's, or a tabular
// run's MLP for its encoder.
func runArch(n Numbers, enc *tabular.Encoder) (graph.Arch, error) {
	if enc != nil {
		return tabularArch(Options{Numbers: n}, enc)
	}
	return models.Preset(n.Model)
}

// archJSON is an architecture's specification, "" if it has none.
func archJSON(a graph.Arch) string {
	b, err := json.Marshal(a)
	if err != nil {
		return ""
	}
	return string(b)
}

// cut shortens a message that may quote a file's text.
func cut(s string) string {
	const n = 120
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
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
	// No batch is larger than the training set (encodeRows cuts a tabular
	// run's to it), so neither need the program be: the numbers are the
	// same, and a batch size far beyond the data allocates nothing.
	cfg := train.Config{Batch: min(o.Batch, d.trainN), Epochs: o.Epochs, Seed: o.Seed, Schedule: sched}
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
			tr.Close()
			return nil, err
		}
	}
	return tr, nil
}

// fit trains, printing a line per epoch, keeping the run folder, and on an
// interruption saving where it stopped. A run that fails before it has
// saved anything takes its start's files out of the run folder again.
func fit(ctx context.Context, o Options, tr *train.Trainer, d *data, run *runDir, stderr io.Writer) error {
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
	if err == nil {
		return nil
	}
	last := filepath.Join(run.dir, "last.safetensors")
	if errors.Is(err, train.ErrInterrupted) && tr.Position().Batch > 0 {
		if serr := tr.Save(last); serr != nil {
			err = errors.Wrapf(serr, "saving after the interruption (%v)", err)
		} else {
			run.saved = true
			return errors.Wrapf(err, "checkpoint saved to %s; resume with: go run ./cmd/train -resume %s", last, last)
		}
	}
	if !run.saved {
		run.discard()
	}
	switch {
	case run.saved:
		return errors.Wrapf(err, "training (the last good checkpoint is %s)", last)
	case o.Resume != "":
		return errors.Wrapf(err, "training (this run saved nothing: the last good checkpoint is %s, the one it resumed from)", o.Resume)
	}
	return errors.Wrapf(err, "training (nothing was saved)")
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
