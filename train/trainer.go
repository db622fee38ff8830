package train

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
)

// Config holds what a Trainer does that changes the numbers it computes.
type Config struct {
	// Batch is the number of examples per optimizer step.
	Batch int
	// Epochs is the number of passes Fit makes over the training source,
	// counting those done before a resume.
	Epochs int
	// Seed seeds the two generators the trainer owns, as PCG streams: the
	// order of the examples, (Seed, 2), and the dropout masks, (Seed, 3).
	// (Stream (Seed, 1) is the initialization's, given to graph.NewModel.)
	Seed uint64
	// Schedule gives the rate of every optimizer step from the optimizer's
	// base rate (optim.Config.LR): optim.NewSchedule makes one, warm-up
	// included. If Schedule is nil, the rate is constant.
	Schedule optim.Schedule
	// DropLast skips a last training batch smaller than Batch. If DropLast
	// is false, that batch is trained on too, in a program of its own size,
	// so every example counts in every epoch.
	DropLast bool
	// TopK, if positive, adds the top-k accuracy of a classifier to its
	// metrics ("top5_accuracy" for 5).
	TopK int
	// Callbacks run after every epoch, in order: EarlyStopping,
	// ReduceLROnPlateau, or your own.
	Callbacks []Callback
}

// Trainer fits a model with an optimizer, one epoch at a time, and saves
// and restores everything an exact resume needs: the model, the optimizer's
// state, the position in the epoch, the history, the generator states and
// the callbacks' own state.
//
// The learning rate is given once, as the optimizer's base rate
// (optim.Config.LR); Config.Schedule and callbacks such as
// ReduceLROnPlateau change it from there, step by step.
type Trainer struct {
	Model     *graph.Model
	Optimizer optim.Optimizer
	// OnStep, if not nil, is called after every step (progress bars).
	OnStep func(StepInfo)
	// OnEpoch, if not nil, is called after every epoch and its callbacks,
	// once its figures are in History; an error stops training and is
	// returned by Fit. A checkpoint to resume from is taken here (or after
	// an interruption): when Fit ends normally, callbacks such as
	// EarlyStopping may then put other weights back.
	OnEpoch func(EpochStats) error
	// Meta is extra metadata written into every checkpoint the trainer
	// makes (a run's options, say). Restore does not change it: the
	// checkpoint's own Meta holds what was saved.
	Meta map[string]string

	cfg  Config
	task task
	// progs are the training programs by batch size (Batch, and a last
	// partial batch's size).
	progs map[int]*feed
	// The generators: shuffle orders the examples, dropout draws masks.
	// shuffleAtStart is shuffle's state before the current epoch's
	// shuffle, which is what a checkpoint taken inside the epoch saves.
	shuffle, dropout *rand.PCG
	shuffleRand      *rand.Rand
	dropoutRand      *rand.Rand
	shuffleAtStart   []byte
	pos              Position
	hist             []EpochStats
	stopped          bool // a callback stopped training

	optReady bool
	pending  *checkpoint.OptimizerState
	// restoredFrom names the checkpoint Restore read the position from,
	// for Fit's error when that position does not fit the source.
	restoredFrom string
}

// New compiles the model's training program for cfg.Batch.
func New(m *graph.Model, opt optim.Optimizer, cfg Config) (*Trainer, error) {
	switch {
	case m == nil:
		return nil, errors.New("train: no model")
	case m.Arch.Loss == nil:
		return nil, errors.New("train: the model's Arch.Loss is nil (NewModel fills in CrossEntropy: was it cleared after?)")
	case opt == nil:
		return nil, errors.New("train: no optimizer")
	case cfg.Batch < 1:
		return nil, errors.Errorf("train: batch size %d must be at least 1", cfg.Batch)
	case cfg.Epochs < 0:
		return nil, errors.Errorf("train: epochs %d must not be negative", cfg.Epochs)
	case cfg.TopK < 0:
		return nil, errors.Errorf("train: top-k %d must not be negative", cfg.TopK)
	}
	if cfg.TopK > 0 {
		if err := checkTopK(m, cfg.TopK); err != nil {
			return nil, errors.Wrap(err, "train")
		}
	}
	if lr := opt.Config().LR; !(lr > 0) || math.IsInf(lr, 0) {
		return nil, errors.Errorf("train: learning rate %v must be a positive number", lr)
	}
	t := &Trainer{Model: m, Optimizer: opt, cfg: cfg, task: taskOf(m.Arch.Loss), progs: map[int]*feed{},
		shuffle: rand.NewPCG(cfg.Seed, 2), dropout: rand.NewPCG(cfg.Seed, 3)}
	t.shuffleRand, t.dropoutRand = rand.New(t.shuffle), rand.New(t.dropout)
	if _, err := t.program(cfg.Batch); err != nil {
		return nil, err
	}
	return t, nil
}

// program returns the training program of a batch size, compiling it on
// first use. All share the dropout generator, so the masks drawn do not
// depend on which program runs.
func (t *Trainer) program(batch int) (*feed, error) {
	if f, ok := t.progs[batch]; ok {
		return f, nil
	}
	p, err := t.Model.Train(batch, t.dropoutRand)
	if err != nil {
		return nil, errors.Wrap(err, "train")
	}
	f := newFeed(t.Model, p)
	t.progs[batch] = f
	return f, nil
}

// Program returns the training program of Config.Batch.
func (t *Trainer) Program() *graph.Program { return t.progs[t.cfg.Batch].prog }

// Config returns the trainer's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Position returns where training stands.
func (t *Trainer) Position() Position { return t.pos }

// History returns the figures of every epoch done, including those done
// before a resume.
func (t *Trainer) History() []EpochStats { return append([]EpochStats(nil), t.hist...) }

// Steps returns the number of optimizer steps taken over the run, those of
// a restored checkpoint included. (The optimizer itself counts them only
// from the first step after Restore, when its state is loaded: it is
// initialized from gradient tensors that exist only after a run.) A loop of
// your own gets each step's rate as t.LR(t.Steps(), epoch).
func (t *Trainer) Steps() int64 {
	if t.pending != nil {
		return t.pending.Steps
	}
	return t.Optimizer.Steps()
}

// LR returns the rate of the optimizer step numbered step (0-based over the
// run) in 1-based epoch: the schedule's, then each callback that adjusts
// rates (ReduceLROnPlateau), given the history before the epoch.
func (t *Trainer) LR(step int64, epoch int) float64 {
	lr := t.Optimizer.Config().LR
	if t.cfg.Schedule != nil {
		lr = t.cfg.Schedule.LR(lr, step, epoch-1)
	}
	hist := t.hist[:min(len(t.hist), max(epoch-1, 0))]
	for _, c := range t.cfg.Callbacks {
		if a, ok := c.(RateAdjuster); ok {
			lr = a.AdjustLR(lr, hist)
		}
	}
	return lr
}

// Close releases the training programs.
func (t *Trainer) Close() error {
	var first error
	for _, f := range t.progs {
		if err := f.prog.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// TrainBatch fills a training program with batch i of src and takes one
// optimizer step at rate lr. It returns the batch's mean loss. A batch
// larger than Config.Batch is an error; a smaller one runs in a program of
// its own size.
func (t *Trainer) TrainBatch(src datasets.Source, i int, lr float64) (loss float64, err error) {
	f, err := t.feedFor(src, i)
	if err != nil {
		return 0, err
	}
	if err := f.fill(src, i); err != nil {
		return 0, err
	}
	return t.step(f, lr)
}

// feedFor returns the program batch i of src runs in.
func (t *Trainer) feedFor(src datasets.Source, i int) (*feed, error) {
	n := src.Size(i)
	if n < 1 || n > t.cfg.Batch {
		return nil, errors.Errorf("training batch %d has %d examples; the trainer's batch size is %d", i, n, t.cfg.Batch)
	}
	return t.program(n)
}

// step runs the program on the batch it holds and updates the parameters.
func (t *Trainer) step(f *feed, lr float64) (loss float64, err error) {
	p := f.prog
	if err := p.Run(); err != nil {
		return 0, err
	}
	params, err := p.Params()
	if err != nil {
		return 0, err
	}
	loss = p.Loss()
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, errors.Errorf("loss is %v (%s)", loss, firstNonFinite(params, p.Output()))
	}
	if !t.optReady {
		if err := t.initOptimizer(params); err != nil {
			return loss, err
		}
	}
	return loss, t.Optimizer.Step(params, lr)
}

// initOptimizer initializes the optimizer for the program's parameters and
// loads a restored state into it. (An optimizer is initialized from the
// gradient tensors, which exist only after the first run.)
func (t *Trainer) initOptimizer(params []optim.Param) error {
	if err := t.Optimizer.Init(params); err != nil {
		return err
	}
	if st := t.pending; st != nil {
		if err := st.LoadInto(t.Optimizer); err != nil {
			return errors.Wrap(err, "restoring the optimizer")
		}
		t.pending = nil
	}
	t.optReady = true
	return nil
}

// ErrInterrupted is returned (wrapped) by Fit when its context is done.
var ErrInterrupted = errors.New("training interrupted")

// Fit trains from the trainer's position until Config.Epochs epochs are
// done or a callback stops it, evaluating on val (may be nil) after each
// epoch. It checks ctx after every step: when ctx is done, the step in
// flight completes and Fit returns an error wrapping ErrInterrupted; the
// position is kept, so that Save then writes a checkpoint that resumes
// exactly there. A position inside an epoch must lie inside train's
// batches: one past their end (a checkpoint of other data) is an error
// before anything is trained.
func (t *Trainer) Fit(ctx context.Context, train, val datasets.Source) error {
	if nb := train.Len(); t.pos.Batch > 0 && t.pos.Batch >= nb {
		from := t.restoredFrom
		if from == "" {
			from = "an earlier Fit"
		}
		return errors.Errorf("train: the position from %s, batch %d of epoch %d, is past the end of the epoch's %d batches: it was not taken on this training source", from, t.pos.Batch, t.pos.Epoch+1, nb)
	}
	for t.pos.Epoch < t.cfg.Epochs && !t.stopped {
		if err := t.fitEpoch(ctx, train); err != nil {
			return err
		}
		st, err := t.endEpoch(val)
		if err != nil {
			return err
		}
		if err := t.runCallbacks(); err != nil {
			return err
		}
		if t.OnEpoch != nil {
			if err := t.OnEpoch(st); err != nil {
				return err
			}
		}
		if ctx.Err() != nil && t.pos.Epoch < t.cfg.Epochs && !t.stopped {
			return errors.Wrapf(ErrInterrupted, "after epoch %d", st.Epoch)
		}
	}
	return t.endTraining()
}

// Stopped reports whether a callback has stopped training.
func (t *Trainer) Stopped() bool { return t.stopped }

// fitEpoch runs the batches of the current epoch from the position on. The
// examples are shuffled at the start of every epoch; a resumed epoch draws
// the same order again from the restored state.
func (t *Trainer) fitEpoch(ctx context.Context, train datasets.Source) error {
	epoch := t.pos.Epoch + 1
	state, err := t.shuffle.MarshalBinary()
	if err != nil {
		return errors.Wrap(err, "saving the shuffle state")
	}
	t.shuffleAtStart = state
	train.Shuffle(t.shuffleRand)
	nb := train.Len()
	if nb == 0 {
		return errors.New("the training source has no batches")
	}
	for t.pos.Batch < nb {
		if err := t.fitBatch(train, epoch, nb); err != nil {
			return err
		}
		if ctx.Err() != nil && t.pos.Batch < nb {
			return errors.Wrapf(ErrInterrupted, "at epoch %d, batch %d of %d", epoch, t.pos.Batch, nb)
		}
	}
	return nil
}

// fitBatch trains on the batch at the position and counts it.
func (t *Trainer) fitBatch(train datasets.Source, epoch, nb int) error {
	i := t.pos.Batch
	began := time.Now()
	n := train.Size(i)
	if n < t.cfg.Batch && t.cfg.DropLast {
		t.pos.Batch++
		return nil
	}
	lr := t.LR(t.Steps(), epoch)
	f, err := t.feedFor(train, i)
	if err == nil {
		err = f.fill(train, i)
	}
	var loss float64
	if err == nil {
		loss, err = t.step(f, lr)
	}
	if err != nil {
		return errors.Wrapf(err, "epoch %d, step %d", epoch, t.Steps()+1)
	}
	t.pos.add(t.task, t.cfg.TopK, f.output(), f, n, loss)
	t.pos.Batch++
	t.pos.Seconds += time.Since(began).Seconds()
	if t.OnStep != nil {
		t.OnStep(StepInfo{Epoch: epoch, Batch: t.pos.Batch, Batches: nb, Loss: loss, LR: lr})
	}
	return nil
}

// endEpoch computes the figures of the epoch just trained, validates, and
// moves the position to the next epoch.
func (t *Trainer) endEpoch(val datasets.Source) (EpochStats, error) {
	epoch := t.pos.Epoch + 1
	p := t.pos
	st := EpochStats{Epoch: epoch, Steps: t.Steps(), LR: t.LR(max(t.Steps()-1, 0), epoch),
		Seconds: p.Seconds, ValLoss: math.NaN(), Train: p.metrics(t.task, t.cfg.TopK)}
	if p.Seen > 0 {
		st.TrainLoss = p.LossSum / float64(p.Seen)
		st.SamplesPerSec = float64(p.Seen) / p.Seconds
	}
	if val != nil {
		r, err := evaluate(t.Model, val, t.cfg.TopK, false)
		if err != nil {
			return st, errors.Wrapf(err, "epoch %d validation", epoch)
		}
		st.ValLoss, st.Val = r.Loss, r.Metrics
	}
	t.pos = Position{Epoch: epoch}
	t.hist = append(t.hist, st)
	return st, nil
}

// firstNonFinite names the first tensor holding a NaN or an infinity: a
// weight, then a gradient (in parameter order), then the outputs.
func firstNonFinite(params []optim.Param, out *tensor.Dense) string {
	for _, p := range params {
		if !finite(p.Value) {
			return "first non-finite tensor: weight " + p.Name
		}
	}
	for _, p := range params {
		if !finite(p.Grad) {
			return "first non-finite tensor: gradient of " + p.Name
		}
	}
	if out != nil && !finite(out) {
		return "first non-finite tensor: the outputs"
	}
	return "every weight, gradient and output is finite"
}

func finite(t *tensor.Dense) bool {
	for _, v := range graph.Float64s(t) {
		if v-v != 0 {
			return false
		}
	}
	return true
}
