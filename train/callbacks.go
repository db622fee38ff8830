package train

import (
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
)

// A Callback runs after every epoch, as Keras's do: EarlyStopping,
// ReduceLROnPlateau, or a type of your own. A callback decides from the
// history alone, so that a resumed run decides as the uninterrupted one
// would; what it must remember beyond the history it saves in the trainer's
// checkpoints (Stateful).
type Callback interface {
	// EpochEnd is called after each epoch with the whole history, the
	// epoch just done last. Returning ErrStop ends training after this
	// epoch; any other error stops it and is returned by Fit.
	EpochEnd(t *Trainer, hist []EpochStats) error
}

// ErrStop is what a callback returns to end training early, without error.
var ErrStop = errors.New("stop training")

// A RateAdjuster is a callback that changes the learning rate: the trainer
// passes each step's scheduled rate through it, with the history of the
// epochs before the step's.
type RateAdjuster interface {
	AdjustLR(lr float64, hist []EpochStats) float64
}

// A TrainEnder is a callback with work to do when training ends (restoring
// the best weights).
type TrainEnder interface {
	TrainEnd(t *Trainer) error
}

// A Stateful callback saves what it holds beyond the history in the
// trainer's checkpoints, and takes it back on Restore.
type Stateful interface {
	SaveState(ck *checkpoint.Checkpoint) error
	RestoreState(t *Trainer, ck *checkpoint.Checkpoint) error
}

// runCallbacks runs every callback's EpochEnd; ErrStop from any stops
// training (the others still run).
func (t *Trainer) runCallbacks() error {
	for _, c := range t.cfg.Callbacks {
		err := c.EpochEnd(t, t.hist)
		switch {
		case errors.Is(err, ErrStop):
			t.stopped = true
		case err != nil:
			return err
		}
	}
	return nil
}

// endTraining runs the callbacks' TrainEnd, once the epochs are done or a
// callback stopped training.
func (t *Trainer) endTraining() error {
	for _, c := range t.cfg.Callbacks {
		if e, ok := c.(TrainEnder); ok {
			if err := e.TrainEnd(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// monitor is a figure a callback watches and whether it should fall or rise.
type monitor struct {
	name   string
	higher bool
}

func newMonitor(name string) monitor {
	if name == "" {
		name = "val_loss"
	}
	return monitor{name: name, higher: higherIsBetter(name)}
}

// value returns the monitored figure of an epoch, or an error naming what
// is missing.
func (m monitor) value(s EpochStats) (float64, error) {
	v, ok := s.Get(m.name)
	if !ok || math.IsNaN(v) {
		hint := "the figures it has: " + strings.Join(s.Names(), ", ")
		if strings.HasPrefix(m.name, "val_") && math.IsNaN(s.ValLoss) {
			hint = "it has no validation figures: is there a validation set?"
		}
		return 0, errors.Errorf("epoch %d has no %.40q (%s)", s.Epoch, m.name, hint)
	}
	return v, nil
}

// improves reports whether v beats best by more than delta.
func (m monitor) improves(v, best, delta float64) bool {
	if m.higher {
		return v > best+delta
	}
	return v < best-delta
}

// EarlyStopping stops training when the monitored figure has not improved
// for Patience epochs, as Keras's EarlyStopping, and with RestoreBest puts
// back the weights of the best epoch when training ends.
type EarlyStopping struct {
	// Monitor is the figure watched: "val_loss" (the zero value),
	// "val_accuracy", "val_mse", "train_loss", …; accuracies and r2 should
	// rise, the others fall.
	Monitor string
	// Patience is the number of epochs in a row without improvement after
	// which training stops; zero stops at the first epoch that does not
	// improve.
	Patience int
	// MinDelta is the smallest change that counts as an improvement.
	MinDelta float64
	// RestoreBest puts the best epoch's weights back when training ends.
	// The trainer's checkpoints then carry those weights too, so that a
	// resumed run restores them as well.
	RestoreBest bool

	best      []graph.ParamValue // the best epoch's weights, with RestoreBest
	bestEpoch int
}

// best returns the index in hist of the best epoch (the first, on ties
// within MinDelta) and how many epochs have come since.
func bestEpoch(m monitor, delta float64, hist []EpochStats) (best, since int, err error) {
	var bv float64
	for i, s := range hist {
		v, err := m.value(s)
		if err != nil {
			return 0, 0, err
		}
		if i == 0 || m.improves(v, bv, delta) {
			best, bv = i, v
		}
	}
	return best, len(hist) - 1 - best, nil
}

// EpochEnd implements Callback.
func (e *EarlyStopping) EpochEnd(t *Trainer, hist []EpochStats) error {
	if e.Patience < 0 || e.MinDelta < 0 {
		return errors.Errorf("early stopping: patience %d and min delta %v must not be negative", e.Patience, e.MinDelta)
	}
	best, since, err := bestEpoch(newMonitor(e.Monitor), e.MinDelta, hist)
	if err != nil {
		return errors.Wrap(err, "early stopping")
	}
	if e.RestoreBest && since == 0 {
		e.best, e.bestEpoch = t.Model.Params.Snapshot(), hist[best].Epoch
	}
	if since > 0 && since >= e.Patience {
		return ErrStop
	}
	return nil
}

// TrainEnd implements TrainEnder: with RestoreBest, the best epoch's weights
// go back into the model.
func (e *EarlyStopping) TrainEnd(t *Trainer) error {
	if !e.RestoreBest || e.best == nil {
		return nil
	}
	return errors.Wrap(t.Model.Params.Load(e.best), "early stopping: restoring the best weights")
}

// BestEpoch returns the 1-based epoch whose weights RestoreBest keeps, or 0.
func (e *EarlyStopping) BestEpoch() int { return e.bestEpoch }

const earlyPrefix = "early_stopping/"

// SaveState implements Stateful: the best weights, when kept.
func (e *EarlyStopping) SaveState(ck *checkpoint.Checkpoint) error {
	for _, p := range e.best {
		ck.Extra[earlyPrefix+p.Name] = checkpoint.ParamValue{Shape: p.Shape, Data: p.Data}
	}
	if e.best != nil {
		ck.Meta[earlyPrefix+"epoch"] = strconv.Itoa(e.bestEpoch)
	}
	return nil
}

// RestoreState implements Stateful.
func (e *EarlyStopping) RestoreState(t *Trainer, ck *checkpoint.Checkpoint) error {
	e.best, e.bestEpoch = nil, 0
	if !e.RestoreBest {
		return nil
	}
	for _, name := range t.Model.Params.Names() {
		v, ok := ck.Extra[earlyPrefix+name]
		if !ok {
			if e.best != nil {
				return errors.Errorf("early stopping: the checkpoint's best weights lack %s", name)
			}
			continue
		}
		e.best = append(e.best, graph.ParamValue{Name: name, Shape: v.Shape, Data: v.Data})
	}
	if e.best != nil {
		n, err := strconv.Atoi(ck.Meta[earlyPrefix+"epoch"])
		if err != nil || n < 1 || n > ck.Epoch {
			return errors.Errorf("early stopping: the checkpoint's best epoch %.20q is not one of its %d epochs", ck.Meta[earlyPrefix+"epoch"], ck.Epoch)
		}
		e.bestEpoch = n
	}
	return nil
}

// ReduceLROnPlateau multiplies the learning rate by Factor whenever the
// monitored figure has not improved for Patience epochs, as Keras's
// ReduceLROnPlateau. It decides from the history alone: the factor in force
// at an epoch is worked out again from the epochs before it.
type ReduceLROnPlateau struct {
	// Monitor is the figure watched, as in EarlyStopping ("val_loss" if
	// empty).
	Monitor string
	// Factor multiplies the rate at each reduction, in (0, 1). If Factor is
	// 0, 0.1 is used.
	Factor float64
	// Patience is the number of epochs without improvement before a
	// reduction. If Patience is 0, 10 is used (Keras's default).
	Patience int
	// MinDelta is the smallest change that counts as an improvement.
	MinDelta float64
	// Cooldown is the number of epochs after a reduction before the count
	// of epochs without improvement starts again.
	Cooldown int
	// MinLR is the lowest rate the reductions go to.
	MinLR float64
}

func (r *ReduceLROnPlateau) settings() (factor float64, patience int, err error) {
	factor, patience = r.Factor, r.Patience
	if factor == 0 {
		factor = 0.1
	}
	if patience == 0 {
		patience = 10
	}
	if !(factor > 0 && factor < 1) || patience < 0 || r.MinDelta < 0 || r.Cooldown < 0 || r.MinLR < 0 {
		return 0, 0, errors.Errorf("reduce on plateau: factor %v must be in (0, 1) and patience %d, min delta %v, cooldown %d, min lr %v not negative",
			r.Factor, r.Patience, r.MinDelta, r.Cooldown, r.MinLR)
	}
	return factor, patience, nil
}

// EpochEnd implements Callback: it checks the settings and that the
// monitored figure exists.
func (r *ReduceLROnPlateau) EpochEnd(_ *Trainer, hist []EpochStats) error {
	if _, _, err := r.settings(); err != nil {
		return err
	}
	_, err := newMonitor(r.Monitor).value(hist[len(hist)-1])
	return errors.Wrap(err, "reduce on plateau")
}

// AdjustLR implements RateAdjuster: lr times Factor for every reduction the
// history has earned, at least MinLR.
func (r *ReduceLROnPlateau) AdjustLR(lr float64, hist []EpochStats) float64 {
	factor, patience, err := r.settings()
	if err != nil {
		return lr // EpochEnd reports it
	}
	m := newMonitor(r.Monitor)
	scale, wait, cooldown := 1.0, 0, 0
	best := math.Inf(1)
	if m.higher {
		best = math.Inf(-1)
	}
	for _, s := range hist {
		v, err := m.value(s)
		if err != nil {
			break
		}
		if cooldown > 0 {
			cooldown--
			wait = 0
		}
		switch {
		case m.improves(v, best, r.MinDelta):
			best, wait = v, 0
		case cooldown == 0:
			wait++
			if wait >= patience {
				scale *= factor
				wait, cooldown = 0, r.Cooldown
			}
		}
	}
	return max(lr*scale, min(lr, r.MinLR))
}
