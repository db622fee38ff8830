package train

import (
	"encoding/base64"
	"encoding/json"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
)

// Checkpoint metadata keys of the trainer's state.
const (
	metaPosition = "train.position"
	metaHistory  = "train.history"
	metaShuffle  = "rng.shuffle"
	metaDropout  = "rng.dropout"
	metaStopped  = "train.stopped"
)

// Checkpoint captures everything an exact resume needs: the model's
// parameters, the optimizer's config and state, the position, the history,
// the two generators' states, the callbacks' state, and Meta.
func (t *Trainer) Checkpoint() (*checkpoint.Checkpoint, error) {
	ck, err := checkpoint.New(t.Model, t.Optimizer, t.pos.Epoch)
	if err != nil {
		return nil, err
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

// Save writes Checkpoint to path, atomically, with float32 tensors.
func (t *Trainer) Save(path string) error {
	ck, err := t.Checkpoint()
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	return ck.Save(path, graph.Float32)
}

// Restore makes the trainer continue exactly where the checkpoint ck was
// taken: it copies the weights into the model, loads the position, history
// and generator states, and makes the optimizer take the saved state (and
// step count) before its first step. The trainer must have been made for
// the same architecture and optimizer, and must not have trained yet.
func (t *Trainer) Restore(ck *checkpoint.Checkpoint) error {
	if t.optReady || t.pos.Epoch != 0 || t.pos.Batch != 0 || len(t.hist) > 0 {
		return errors.New("restore: the trainer has trained already")
	}
	if ck.Optimizer == nil {
		return errors.New("restore: the checkpoint has no optimizer state")
	}
	if got, want := ck.Optimizer.Name, t.Optimizer.Config().Name; got != want {
		return errors.Errorf("restore: the checkpoint's optimizer is %s, not %s", got, want)
	}
	var pos Position
	if err := json.Unmarshal([]byte(ck.Meta[metaPosition]), &pos); err != nil {
		return errors.New("restore: the checkpoint has no training position")
	}
	if pos.Epoch != ck.Epoch || pos.Batch < 0 {
		return errors.Errorf("restore: inconsistent position %+v for epoch %d", pos, ck.Epoch)
	}
	var hist []EpochStats
	if err := json.Unmarshal([]byte(ck.Meta[metaHistory]), &hist); err != nil {
		return errors.New("restore: the checkpoint's history is missing or bad")
	}
	for key, pcg := range map[string]interface{ UnmarshalBinary([]byte) error }{metaShuffle: t.shuffle, metaDropout: t.dropout} {
		b, err := base64.StdEncoding.DecodeString(ck.Meta[key])
		if err == nil {
			err = pcg.UnmarshalBinary(b)
		}
		if err != nil {
			return errors.Errorf("restore: the checkpoint's %s state is missing or bad", key)
		}
	}
	if err := ck.Restore(t.Model); err != nil {
		return errors.Wrap(err, "restore")
	}
	for _, c := range t.cfg.Callbacks {
		if s, ok := c.(Stateful); ok {
			if err := s.RestoreState(t, ck); err != nil {
				return errors.Wrap(err, "restore")
			}
		}
	}
	st := ck.OptState
	t.pending = &st
	t.pos, t.hist = pos, hist
	t.shuffleAtStart = nil
	t.stopped = ck.Meta[metaStopped] == "true"
	return nil
}
