package graph

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"

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

	prog   *Program
	labels []int
	pred   []int
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
		return loss, 0, errors.Errorf("loss is %v", loss)
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

// Fit trains from epoch start+1 to epochs (1-based, inclusive) on train,
// evaluating on val (may be nil) after each epoch.
func (t *Trainer) Fit(train, val Batches, start, epochs int) ([]EpochStats, error) {
	if err := t.Optimizer.Init(mustParams(t)); err != nil {
		return nil, err
	}
	var hist []EpochStats
	p := t.prog
	x := p.X.Data().([]float32)
	y := p.Y.Data().([]float32)
	for epoch := start + 1; epoch <= epochs; epoch++ {
		lr := t.LR
		if t.Schedule != nil {
			lr = t.Schedule.LR(t.LR, epoch-1)
		}
		train.Shuffle()
		began := time.Now()
		var lossSum float64
		var correct, seen int
		nb := train.Len()
		for i := 0; i < nb; i++ {
			n := train.Fill(i, x, y, t.labels)
			if n != p.Batch {
				return hist, errors.Errorf("training batch %d has %d examples, want %d (use whole batches)", i, n, p.Batch)
			}
			loss, c, err := t.Step(t.labels, lr)
			if err != nil {
				return hist, errors.Wrapf(err, "epoch %d, step %d", epoch, t.Optimizer.Steps()+1)
			}
			lossSum += loss * float64(n)
			correct += c
			seen += n
			if t.OnStep != nil {
				t.OnStep(StepInfo{Epoch: epoch, Batch: i + 1, Batches: nb, Loss: loss})
			}
		}
		secs := time.Since(began).Seconds()
		st := EpochStats{Epoch: epoch, Steps: t.Optimizer.Steps(), LR: lr, Seconds: secs, ValAcc: math.NaN()}
		if seen > 0 {
			st.TrainLoss = lossSum / float64(seen)
			st.TrainAcc = float64(correct) / float64(seen)
			st.SamplesPerSec = float64(seen) / secs
		}
		if val != nil {
			c, n, err := Evaluate(t.Model, val, nil)
			if err != nil {
				return hist, errors.Wrapf(err, "epoch %d validation", epoch)
			}
			st.ValAcc = float64(c) / float64(n)
		}
		hist = append(hist, st)
		if t.OnEpoch != nil {
			if err := t.OnEpoch(st); err != nil {
				return hist, err
			}
		}
	}
	return hist, nil
}

func mustParams(t *Trainer) []optim.Param {
	// The gradient tensors exist only once the machine has run; a run on
	// the zero input creates them, and its gradients are zeroed here.
	if t.prog.params == nil {
		if err := t.prog.Run(); err == nil {
			if ps, err := t.prog.Params(); err == nil {
				for _, p := range ps {
					p.Grad.Zero()
				}
			}
		}
	}
	return t.prog.params
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
