package train

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/checkpoint"
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
	// Schedule scales the optimizer's base rate (optim.Config.LR) by epoch.
	// If Schedule is nil, the rate is constant.
	Schedule optim.Schedule
}

// Trainer fits a model with an optimizer, one epoch at a time, and saves
// and restores everything an exact resume needs: the model, the optimizer's
// state, the position in the epoch, the history and the generator states.
//
// The learning rate is the optimizer's: optim.Config.LR, scaled by
// Config.Schedule.
type Trainer struct {
	Model     *graph.Model
	Optimizer optim.Optimizer
	// OnStep, if not nil, is called after every step (progress bars).
	OnStep func(StepInfo)
	// OnEpoch, if not nil, is called after every epoch, once its figures
	// are in History; an error stops training and is returned by Fit.
	OnEpoch func(EpochStats) error
	// Meta is extra metadata written into every checkpoint the trainer
	// makes (a run's options, say). Restore does not change it: the
	// checkpoint's own Meta holds what was saved.
	Meta map[string]string

	cfg  Config
	prog *graph.Program
	// The generators: shuffle orders the examples, dropout draws masks.
	// shuffleAtStart is shuffle's state before the current epoch's
	// shuffle, which is what a checkpoint taken inside the epoch saves.
	shuffle, dropout *rand.PCG
	shuffleRand      *rand.Rand
	shuffleAtStart   []byte
	pos              Position
	hist             []EpochStats

	labels, pred []int
	optReady     bool
	pending      *checkpoint.OptimizerState
}

// New compiles the model's training program for cfg.Batch.
func New(m *graph.Model, opt optim.Optimizer, cfg Config) (*Trainer, error) {
	switch {
	case m == nil:
		return nil, errors.New("train: no model")
	case opt == nil:
		return nil, errors.New("train: no optimizer")
	case m.Params.Dtype() != graph.Float32:
		return nil, errors.Errorf("train: the trainer trains float32 models, not %v", m.Params.Dtype())
	case cfg.Batch < 1:
		return nil, errors.Errorf("train: batch size %d must be at least 1", cfg.Batch)
	case cfg.Epochs < 0:
		return nil, errors.Errorf("train: epochs %d must not be negative", cfg.Epochs)
	}
	if lr := opt.Config().LR; !(lr > 0) || math.IsInf(lr, 0) {
		return nil, errors.Errorf("train: learning rate %v must be a positive number", lr)
	}
	t := &Trainer{Model: m, Optimizer: opt, cfg: cfg,
		shuffle: rand.NewPCG(cfg.Seed, 2), dropout: rand.NewPCG(cfg.Seed, 3),
		labels: make([]int, cfg.Batch), pred: make([]int, cfg.Batch)}
	t.shuffleRand = rand.New(t.shuffle)
	p, err := m.Train(cfg.Batch, rand.New(t.dropout))
	if err != nil {
		return nil, errors.Wrap(err, "train")
	}
	t.prog = p
	return t, nil
}

// Program returns the training program.
func (t *Trainer) Program() *graph.Program { return t.prog }

// Config returns the trainer's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Position returns where training stands.
func (t *Trainer) Position() Position { return t.pos }

// History returns the figures of every epoch done, including those done
// before a resume.
func (t *Trainer) History() []EpochStats { return append([]EpochStats(nil), t.hist...) }

// LR returns the learning rate of 1-based epoch.
func (t *Trainer) LR(epoch int) float64 {
	lr := t.Optimizer.Config().LR
	if t.cfg.Schedule != nil {
		lr = t.cfg.Schedule.LR(lr, epoch-1)
	}
	return lr
}

// Close releases the training program.
func (t *Trainer) Close() error { return t.prog.Close() }

// TrainBatch fills the training program with batch i of src and takes one
// optimizer step at rate lr. It returns the batch's mean loss and the number
// of examples whose largest logit is their label. The batch must be whole:
// a static graph has one batch size.
func (t *Trainer) TrainBatch(src Source, i int, lr float64) (loss float64, correct int, err error) {
	p := t.prog
	n := src.Fill(i, p.X.Data().([]float32), p.Y.Data().([]float32), t.labels)
	if n != p.Batch {
		return 0, 0, errors.Errorf("training batch %d has %d examples, want %d (use whole batches)", i, n, p.Batch)
	}
	return t.step(lr)
}

// step runs the program on the batch it holds and updates the parameters.
func (t *Trainer) step(lr float64) (loss float64, correct int, err error) {
	p := t.prog
	if err := p.Run(); err != nil {
		return 0, 0, err
	}
	params, err := p.Params()
	if err != nil {
		return 0, 0, err
	}
	loss = p.Loss()
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, 0, errors.Errorf("loss is %v (%s)", loss, firstNonFinite(params, p.Logits()))
	}
	if !t.optReady {
		if err := t.initOptimizer(params); err != nil {
			return loss, 0, err
		}
	}
	if err := t.Optimizer.Step(params, lr); err != nil {
		return loss, 0, err
	}
	graph.Argmax(p.Logits(), t.pred)
	for i, l := range t.labels {
		if t.pred[i] == l {
			correct++
		}
	}
	return loss, correct, nil
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
// done, evaluating on val (may be nil) after each epoch. It checks ctx after
// every step: when ctx is done, the step in flight completes and Fit returns
// an error wrapping ErrInterrupted; the position is kept, so that Save then
// writes a checkpoint that resumes exactly there.
func (t *Trainer) Fit(ctx context.Context, train, val Source) error {
	for t.pos.Epoch < t.cfg.Epochs {
		if err := t.fitEpoch(ctx, train); err != nil {
			return err
		}
		st, err := t.endEpoch(val)
		if err != nil {
			return err
		}
		if t.OnEpoch != nil {
			if err := t.OnEpoch(st); err != nil {
				return err
			}
		}
		if ctx.Err() != nil && t.pos.Epoch < t.cfg.Epochs {
			return errors.Wrapf(ErrInterrupted, "after epoch %d", st.Epoch)
		}
	}
	return nil
}

// fitEpoch runs the batches of the current epoch from the position on. The
// examples are shuffled at the start of every epoch; a resumed epoch draws
// the same order again from the restored state.
func (t *Trainer) fitEpoch(ctx context.Context, train Source) error {
	epoch := t.pos.Epoch + 1
	lr := t.LR(epoch)
	state, err := t.shuffle.MarshalBinary()
	if err != nil {
		return errors.Wrap(err, "saving the shuffle state")
	}
	t.shuffleAtStart = state
	train.Shuffle(t.shuffleRand)
	nb := train.Len()
	for t.pos.Batch < nb {
		began := time.Now()
		loss, c, err := t.TrainBatch(train, t.pos.Batch, lr)
		if err != nil {
			return errors.Wrapf(err, "epoch %d, step %d", epoch, t.Optimizer.Steps()+1)
		}
		t.pos.Batch++
		t.pos.LossSum += loss * float64(t.prog.Batch)
		t.pos.Correct += c
		t.pos.Seen += t.prog.Batch
		t.pos.Seconds += time.Since(began).Seconds()
		if t.OnStep != nil {
			t.OnStep(StepInfo{Epoch: epoch, Batch: t.pos.Batch, Batches: nb, Loss: loss})
		}
		if ctx.Err() != nil && t.pos.Batch < nb {
			return errors.Wrapf(ErrInterrupted, "at epoch %d, batch %d of %d", epoch, t.pos.Batch, nb)
		}
	}
	return nil
}

// endEpoch computes the figures of the epoch just trained, validates, and
// moves the position to the next epoch.
func (t *Trainer) endEpoch(val Source) (EpochStats, error) {
	epoch := t.pos.Epoch + 1
	st := EpochStats{Epoch: epoch, Steps: t.Optimizer.Steps(), LR: t.LR(epoch), Seconds: t.pos.Seconds, ValAcc: math.NaN()}
	if p := t.pos; p.Seen > 0 {
		st.TrainLoss = p.LossSum / float64(p.Seen)
		st.TrainAcc = float64(p.Correct) / float64(p.Seen)
		st.SamplesPerSec = float64(p.Seen) / p.Seconds
	}
	if val != nil {
		c, n, err := Evaluate(t.Model, val, nil)
		if err != nil {
			return st, errors.Wrapf(err, "epoch %d validation", epoch)
		}
		st.ValAcc = float64(c) / float64(n)
	}
	t.pos = Position{Epoch: epoch}
	t.hist = append(t.hist, st)
	return st, nil
}

// firstNonFinite names the first tensor holding a NaN or an infinity: a
// weight, then a gradient (in parameter order), then the logits.
func firstNonFinite(params []optim.Param, logits *tensor.Dense) string {
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
	if logits != nil && !finite(logits) {
		return "first non-finite tensor: the logits"
	}
	return "every weight, gradient and logit is finite"
}

func finite(t *tensor.Dense) bool {
	for _, v := range graph.Float64s(t) {
		if v-v != 0 {
			return false
		}
	}
	return true
}
