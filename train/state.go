package train

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/internal/strictjson"
	"github.com/tapestry-ml/tapestry/optim"
)

// Checkpoint metadata keys of the trainer's state.
const (
	metaPosition = "train.position"
	metaHistory  = "train.history"
	metaShuffle  = "rng.shuffle"
	metaDropout  = "rng.dropout"
	metaStopped  = "train.stopped"
	// metaBatching is the trainer's batch size and DropLast: a position
	// inside an epoch counts batches of that size.
	metaBatching = "train.batching"
)

// Checkpoint captures everything an exact resume needs: the model's
// parameters, the optimizer's config and state, the position, the history,
// the two generators' states, the callbacks' state, and Meta.
func (t *Trainer) Checkpoint() (*checkpoint.Checkpoint, error) {
	ck, err := checkpoint.New(t.Model, t.Optimizer, t.pos.Epoch)
	if err != nil {
		return nil, err
	}
	if t.pending != nil {
		// Restored, and no step taken since: the optimizer has no state yet
		// (see initOptimizer), the restored one is still to be loaded.
		ck.OptState = checkpoint.OptimizerState{Tensors: map[string][]float64{}, Steps: t.pending.Steps}
		for name, v := range t.pending.Tensors {
			ck.OptState.Tensors[name] = append([]float64(nil), v...)
		}
	}
	for k, v := range t.Meta {
		ck.Meta[k] = v
	}
	// Inside an epoch its shuffle has been drawn already: save the state
	// from before it, so that a resume draws the same order again.
	shuffle := t.shuffleAtStart
	if t.pos.Batch == 0 || shuffle == nil {
		if shuffle, err = t.shuffle.MarshalBinary(); err != nil {
			return nil, errors.Wrap(err, "saving the shuffle state")
		}
	}
	dropout, err := t.dropout.MarshalBinary()
	if err != nil {
		return nil, errors.Wrap(err, "saving the dropout state")
	}
	pos, err := json.Marshal(t.pos)
	if err != nil {
		return nil, errors.Wrap(err, "encoding the position")
	}
	hist, err := json.Marshal(t.hist)
	if err != nil {
		return nil, errors.Wrap(err, "encoding the history")
	}
	ck.Meta[metaBatching] = batching(t.cfg)
	ck.Meta[metaPosition] = string(pos)
	ck.Meta[metaHistory] = string(hist)
	ck.Meta[metaShuffle] = base64.StdEncoding.EncodeToString(shuffle)
	ck.Meta[metaDropout] = base64.StdEncoding.EncodeToString(dropout)
	if t.stopped {
		ck.Meta[metaStopped] = "true"
	}
	for _, c := range t.cfg.Callbacks {
		if s, ok := c.(Stateful); ok {
			if err := s.SaveState(ck); err != nil {
				return nil, err
			}
		}
	}
	return ck, nil
}

// Save writes Checkpoint to path, atomically, with tensors of the model's
// element type (float32, or float64 for a float64 model).
func (t *Trainer) Save(path string) error {
	ck, err := t.Checkpoint()
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	return ck.Save(path, t.Model.Params.Dtype())
}

// Restore makes the trainer continue exactly where the checkpoint ck was
// taken: it copies the weights into the model, loads the position, history
// and generator states, and makes the optimizer take the saved state (and
// step count) before its first step. The trainer must have been made for
// the same architecture, optimizer and batching (Config.Batch and
// DropLast: a position inside an epoch counts batches), and must not have
// trained yet.
//
// Everything is checked before anything changes, so that a damaged
// checkpoint fails here, naming the metadata field, and not in the middle
// of the next epoch: the position (its epoch the checkpoint's, its running
// sums ones its batches could have made), the history (one entry per epoch
// done, in order, its step counts adding up to the optimizer's), the
// generator states, the weights' names and shapes, and the optimizer state,
// loaded into a scratch optimizer of the same config initialized for the
// model's trainable parameters. (The optimizer itself is initialized only
// at the first step, from the gradient tensors; a layer that declares a
// trainable parameter its graph never uses has no state for it, and cannot
// be resumed.) Whether the position lies inside the epoch depends on the
// training source: Fit checks that.
//
// Errors begin "restore from <ck.Path>" (or "restore", for a checkpoint
// not read from a file) and name the metadata field or tensor.
func (t *Trainer) Restore(ck *checkpoint.Checkpoint) error {
	if err := t.restore(ck); err != nil {
		if ck.Path != "" {
			return errors.Wrapf(err, "restore from %s", ck.Path)
		}
		return errors.Wrap(err, "restore")
	}
	return nil
}

// batching says how the trainer cuts the data into batches.
func batching(cfg Config) string {
	return fmt.Sprintf("batch size %d, drop last %t", cfg.Batch, cfg.DropLast)
}

func (t *Trainer) restore(ck *checkpoint.Checkpoint) error {
	if t.optReady || t.pos.Epoch != 0 || t.pos.Batch != 0 || len(t.hist) > 0 {
		return errors.New("the trainer has trained already")
	}
	if ck.Optimizer == nil {
		return errors.New("the checkpoint has no optimizer state")
	}
	if got, want := ck.Optimizer.Name, t.Optimizer.Config().Name; got != want {
		return errors.Errorf("the checkpoint's optimizer is %.20s, not %s", got, want)
	}
	// Checkpoints from before the field was written have none.
	if b, ok := ck.Meta[metaBatching]; ok && b != batching(t.cfg) {
		return errors.Errorf("metadata field %s: the checkpoint was trained with %.40s, this trainer has %s: "+
			"its position and the order of the examples would not carry over, and the resume would not be exact", metaBatching, b, batching(t.cfg))
	}
	pos, hist, err := t.readProgress(ck)
	if err != nil {
		return err
	}
	states := map[string][]byte{}
	for _, key := range []string{metaShuffle, metaDropout} {
		b, err := base64.StdEncoding.DecodeString(ck.Meta[key])
		if err == nil {
			// A scratch generator proves the state good before ours take it.
			err = new(rand.PCG).UnmarshalBinary(b)
		}
		if err != nil {
			return errors.Errorf("the checkpoint's %s state (metadata field %s) is missing or bad", key, key)
		}
		states[key] = b
	}
	// The weights first: a checkpoint of another model is best told by them,
	// not by the optimizer's state for them.
	if err := ck.Fits(t.Model); err != nil {
		return err
	}
	if err := t.checkOptState(ck.OptState); err != nil {
		return errors.Wrap(err, "the checkpoint's optimizer state")
	}
	if err := ck.Restore(t.Model); err != nil {
		return err
	}
	for _, c := range t.cfg.Callbacks {
		if s, ok := c.(Stateful); ok {
			if err := s.RestoreState(t, ck); err != nil {
				return err
			}
		}
	}
	// Checked above: these cannot fail.
	_ = t.shuffle.UnmarshalBinary(states[metaShuffle])
	_ = t.dropout.UnmarshalBinary(states[metaDropout])
	st := ck.OptState
	t.pending = &st
	t.pos, t.hist = pos, hist
	t.shuffleAtStart = nil
	t.stopped = ck.Meta[metaStopped] == "true"
	t.restoredFrom = ck.Path
	if t.restoredFrom == "" {
		t.restoredFrom = "the checkpoint"
	}
	return nil
}

// readProgress reads and checks the saved position and history.
func (t *Trainer) readProgress(ck *checkpoint.Checkpoint) (Position, []EpochStats, error) {
	var pos Position
	if err := strictjson.Decode([]byte(ck.Meta[metaPosition]), &pos); err != nil {
		return pos, nil, errors.Errorf("the checkpoint has no training position (metadata field %s)", metaPosition)
	}
	if pos.Epoch != ck.Epoch || pos.Batch < 0 {
		return pos, nil, errors.Errorf("metadata field %s: inconsistent position (epoch %d, batch %d) for epoch %d", metaPosition, pos.Epoch, pos.Batch, ck.Epoch)
	}
	if err := pos.check(t.cfg.Batch, t.Model.OutSize()); err != nil {
		return pos, nil, errors.Wrapf(err, "metadata field %s", metaPosition)
	}
	var hist []EpochStats
	if err := json.Unmarshal([]byte(ck.Meta[metaHistory]), &hist); err != nil {
		return pos, nil, errors.Errorf("the checkpoint's history (metadata field %s) is missing or bad", metaHistory)
	}
	if len(hist) != pos.Epoch {
		return pos, nil, errors.Errorf("metadata field %s holds %d epochs, the position says %d are done", metaHistory, len(hist), pos.Epoch)
	}
	var steps int64
	for i, h := range hist {
		if h.Epoch != i+1 || h.Steps < steps {
			return pos, nil, errors.Errorf("metadata field %s: entry %d is epoch %d after %d steps, not epoch %d after at least %d", metaHistory, i, h.Epoch, h.Steps, i+1, steps)
		}
		steps = h.Steps
	}
	// Every batch inside an epoch is one step: only a last, partial batch
	// can be skipped (Config.DropLast), and it ends the epoch.
	if want := steps + int64(pos.Batch); ck.OptState.Steps != want {
		return pos, nil, errors.Errorf("metadata field optimizer.steps is %d; %d steps to the end of epoch %d and %d batches since make %d", ck.OptState.Steps, steps, pos.Epoch, pos.Batch, want)
	}
	return pos, hist, nil
}

// check says what makes p impossible for a trainer of batch size batch and
// a model of out output values: counts beyond what p.Batch batches make,
// sums that are not finite, per-output sums of the wrong length.
func (p Position) check(batch, out int) error {
	s := p.sums
	switch {
	case p.Seen < 0 || p.Seen > p.Batch*batch || (p.Batch > 0 && p.Seen < p.Batch):
		return errors.Errorf("%d examples seen in %d batches of at most %d", p.Seen, p.Batch, batch)
	case s.Correct < 0 || s.TopK < 0 || s.Values < 0 || s.TopK > p.Seen || s.Values > p.Seen*out || s.Correct > max(p.Seen, s.Values):
		return errors.Errorf("counts correct %d, top-k %d, values %d do not fit %d examples", s.Correct, s.TopK, s.Values, p.Seen)
	case !finiteSum(p.Seconds) || p.Seconds < 0 || !finiteSum(s.LossSum) || !finiteSum(s.SqErr) || !finiteSum(s.AbsErr):
		return errors.New("a running sum is not a finite number")
	}
	for _, col := range [][]float64{s.SumY, s.SumY2, s.ColErr} {
		if col != nil && len(col) != out {
			return errors.Errorf("a per-output sum has %d values for a model of %d outputs", len(col), out)
		}
		for _, v := range col {
			if !finiteSum(v) {
				return errors.New("a per-output sum is not a finite number")
			}
		}
	}
	return nil
}

func finiteSum(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkOptState loads st into a scratch optimizer of the trainer's config,
// initialized for the model's trainable parameters, and refuses state the
// optimizer does not have.
func (t *Trainer) checkOptState(st checkpoint.OptimizerState) error {
	probe, err := optim.New(t.Optimizer.Config())
	if err != nil {
		return err
	}
	var params []optim.Param
	for _, name := range t.Model.Params.Trainable() {
		v := t.Model.Params.Get(name)
		g := tensor.New(tensor.Of(v.Dtype()), tensor.WithShape(v.Shape().Clone()...))
		params = append(params, optim.Param{Name: name, Value: v, Grad: g})
	}
	if err := probe.Init(params); err != nil {
		return err
	}
	if err := st.LoadInto(probe); err != nil {
		return err
	}
	known := map[string]bool{}
	for _, nt := range probe.State() {
		known[nt.Name] = true
	}
	for name := range st.Tensors {
		if !known[name] {
			return errors.Errorf("tensor %.60q is not state of this %s optimizer", name, t.Optimizer.Config().Name)
		}
	}
	return nil
}
