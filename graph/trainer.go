package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/optim"
)

// Batches is a source of labelled batches, such as mnist.Batches.
type Batches interface {
	// Len is the number of batches in one pass.
	Len() int
	// Size is the number of examples in batch i; only the last batch may
	// be smaller than the first.
	Size(i int) int
	// Shuffle draws a new order for the next pass.
	Shuffle()
	// Fill writes batch i: inputs into x, one-hot targets into y (may be
	// nil) and class labels into labels (may be nil); it returns the number
	// of examples written, which is less than the batch size only for a
	// last partial batch.
	Fill(i int, x, y []float32, labels []int) int
}

// EpochStats are the figures of one training epoch.
type EpochStats struct {
	Epoch     int     `json:"epoch"` // 1-based
	Steps     int64   `json:"steps"` // optimizer steps taken so far, in all epochs
	LR        float64 `json:"lr"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	// ValAcc is NaN when there is no validation set.
	ValAcc        float64 `json:"val_acc"`
	Seconds       float64 `json:"seconds"`
	SamplesPerSec float64 `json:"samples_per_s"`
}

// Schedule gives the learning rate of an epoch (0-based) from the base rate;
// optim's schedules implement it.
type Schedule interface {
	LR(base float64, epoch int) float64
}

// StepInfo is passed to Trainer.OnStep after each optimizer step.
type StepInfo struct {
	Epoch, Batch, Batches int
	Loss                  float64
}

// Trainer fits a model with an optimizer over batches, one epoch at a time.
type Trainer struct {
	Model     *Model
	Optimizer optim.Optimizer
	// LR is the base learning rate; Schedule, if not nil, scales it by epoch.
	LR       float64
	Schedule Schedule
	// OnStep, if not nil, is called after every step (progress bars).
	OnStep func(StepInfo)
	// OnEpoch, if not nil, is called after every epoch; an error stops
	// training and is returned by Fit.
	OnEpoch func(EpochStats) error
	// OnEpochStart, if not nil, is called at the start of every epoch
	// (1-based), before the training batches are shuffled.
	OnEpochStart func(epoch int)

	prog     *Program
	labels   []int
	pred     []int
	optReady bool
	pending  *OptimizerState
}

// OptimizerState is an optimizer's saved state: its tensors by name and its
// step count.
type OptimizerState struct {
	Tensors map[string][]float64
	Steps   int64
}

// ResumeOptimizer makes the trainer load st into the optimizer when it
// initializes it, just before the first step. (The optimizer can only be
// initialized once the gradients exist, after the first run.)
func (t *Trainer) ResumeOptimizer(st *OptimizerState) { t.pending = st }

// initOptimizer initializes the optimizer for the program's parameters and
// loads any pending state into it.
func (t *Trainer) initOptimizer(params []optim.Param) error {
	if err := t.Optimizer.Init(params); err != nil {
		return err
	}
	if st := t.pending; st != nil {
		for _, nt := range t.Optimizer.State() {
			v, ok := st.Tensors[nt.Name]
			if !ok {
				return errors.Errorf("resuming the optimizer: no saved tensor %q", nt.Name)
			}
			if n := nt.T.Shape().TotalSize(); n != len(v) {
				return errors.Errorf("resuming the optimizer: tensor %s has %d values, want %d", nt.Name, len(v), n)
			}
			setFloat64s(nt.T, v)
		}
		t.Optimizer.SetSteps(st.Steps)
		t.pending = nil
	}
	t.optReady = true
	return nil
}

// NewTrainer compiles the model's training program for the batch size. rng
// draws the dropout masks.
func NewTrainer(m *Model, opt optim.Optimizer, lr float64, batch int, rng *rand.Rand) (*Trainer, error) {
	if m.Params.Dtype() != Float32 {
		return nil, errors.Errorf("the trainer trains float32 models, not %v", m.Params.Dtype())
	}
	if opt == nil {
		return nil, errors.New("the trainer needs an optimizer")
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, errors.Errorf("learning rate %v must be a positive number", lr)
	}
	p, err := m.Train(batch, rng)
	if err != nil {
		return nil, err
	}
	return &Trainer{Model: m, Optimizer: opt, LR: lr, prog: p, labels: make([]int, batch), pred: make([]int, batch)}, nil
}

// Program returns the training program.
func (t *Trainer) Program() *Program { return t.prog }

// Step trains on one batch already written into the training program's X
// and Y with the given labels, and returns the loss and the number of
// correct predictions.
func (t *Trainer) Step(labels []int, lr float64) (loss float64, correct int, err error) {
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
	Argmax(p.Logits(), t.pred[:len(labels)])
	for i, l := range labels {
		if t.pred[i] == l {
			correct++
		}
	}
	return loss, correct, nil
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
	switch d := t.Data().(type) {
	case []float32:
		for _, v := range d {
			if v-v != 0 {
				return false
			}
		}
	case []float64:
		for _, v := range d {
			if v-v != 0 {
				return false
			}
		}
	}
	return true
}

// Position is where training stands: Epoch whole epochs done, and Batch
// batches done of the next one, with that epoch's running sums so that its
// figures come out the same when it is resumed.
type Position struct {
	Epoch   int     `json:"epoch"`
	Batch   int     `json:"batch"`
	LossSum float64 `json:"loss_sum"`
	Correct int     `json:"correct"`
	Seen    int     `json:"seen"`
	Seconds float64 `json:"seconds"`
}

// ErrInterrupted is returned (wrapped) by Fit when its context is done.
var ErrInterrupted = errors.New("training interrupted")

// Fit trains from pos until epoch epochs (1-based, inclusive) is done,
// evaluating on val (may be nil) after each epoch. It checks ctx after every
// step: when ctx is done, the step in flight completes and Fit returns the
// position reached and an error wrapping ErrInterrupted. The first pass
// shuffles train before its first batch (call OnEpochStart hooks first).
func (t *Trainer) Fit(ctx context.Context, train, val Batches, pos Position, epochs int) ([]EpochStats, Position, error) {
	var hist []EpochStats
	p := t.prog
	x := p.X.Data().([]float32)
	y := p.Y.Data().([]float32)
	for pos.Epoch < epochs {
		epoch := pos.Epoch + 1
		lr := t.LR
		if t.Schedule != nil {
			lr = t.Schedule.LR(t.LR, epoch-1)
		}
		if t.OnEpochStart != nil {
			t.OnEpochStart(epoch)
		}
		train.Shuffle()
		nb := train.Len()
		for pos.Batch < nb {
			began := time.Now()
			n := train.Fill(pos.Batch, x, y, t.labels)
			if n != p.Batch {
				return hist, pos, errors.Errorf("training batch %d has %d examples, want %d (use whole batches)", pos.Batch, n, p.Batch)
			}
			loss, c, err := t.Step(t.labels, lr)
			if err != nil {
				return hist, pos, errors.Wrapf(err, "epoch %d, step %d", epoch, t.Optimizer.Steps()+1)
			}
			pos.Batch++
			pos.LossSum += loss * float64(n)
			pos.Correct += c
			pos.Seen += n
			pos.Seconds += time.Since(began).Seconds()
			if t.OnStep != nil {
				t.OnStep(StepInfo{Epoch: epoch, Batch: pos.Batch, Batches: nb, Loss: loss})
			}
			if ctx.Err() != nil && pos.Batch < nb {
				return hist, pos, errors.Wrapf(ErrInterrupted, "at epoch %d, batch %d of %d", epoch, pos.Batch, nb)
			}
		}
		st := EpochStats{Epoch: epoch, Steps: t.Optimizer.Steps(), LR: lr, Seconds: pos.Seconds, ValAcc: math.NaN()}
		if pos.Seen > 0 {
			st.TrainLoss = pos.LossSum / float64(pos.Seen)
			st.TrainAcc = float64(pos.Correct) / float64(pos.Seen)
			st.SamplesPerSec = float64(pos.Seen) / pos.Seconds
		}
		if val != nil {
			c, n, err := Evaluate(t.Model, val, nil)
			if err != nil {
				return hist, pos, errors.Wrapf(err, "epoch %d validation", epoch)
			}
			st.ValAcc = float64(c) / float64(n)
		}
		pos = Position{Epoch: epoch}
		hist = append(hist, st)
		if t.OnEpoch != nil {
			if err := t.OnEpoch(st); err != nil {
				return hist, pos, err
			}
		}
		if ctx.Err() != nil && pos.Epoch < epochs {
			return hist, pos, errors.Wrapf(ErrInterrupted, "after epoch %d", epoch)
		}
	}
	return hist, pos, nil
}

// Evaluate runs the model's inference programs over every example of b
// exactly once (a last partial batch runs in a program of its own size) and
// returns the number classified correctly and the total. If pred is not nil,
// each example's predicted class is appended to it.
func Evaluate(m *Model, b Batches, pred *[]int) (correct, total int, err error) {
	nb := b.Len()
	prog, err := m.Infer(b.Size(0))
	if err != nil {
		return 0, 0, err
	}
	x := prog.X.Data().([]float32)
	labels := make([]int, prog.Batch)
	guess := make([]int, prog.Batch)
	for i := 0; i < nb; i++ {
		n := b.Fill(i, x, nil, labels)
		run := prog
		if n != prog.Batch {
			if run, err = m.Infer(n); err != nil {
				return 0, 0, err
			}
			copy(run.X.Data().([]float32), x[:n*m.InSize()])
		}
		if err := run.Run(); err != nil {
			return 0, 0, errors.Wrapf(err, "evaluating batch %d", i)
		}
		Argmax(run.Logits(), guess[:n])
		for j := 0; j < n; j++ {
			if guess[j] == labels[j] {
				correct++
			}
		}
		if pred != nil {
			*pred = append(*pred, guess[:n]...)
		}
		total += n
	}
	return correct, total, nil
}
