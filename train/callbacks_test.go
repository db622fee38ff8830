package train_test

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/train"
)

// TestEarlyStoppingStopsAndRestoresTheBest: validation loss that cannot
// improve by MinDelta after epoch 1 stops training after Patience more
// epochs, and the weights are put back to epoch 1's.
func TestEarlyStoppingStopsAndRestoresTheBest(t *testing.T) {
	es := &train.EarlyStopping{Patience: 2, MinDelta: 1e9, RestoreBest: true}
	tr := lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: 10, Seed: 1, Callbacks: []train.Callback{es}})
	var weights [][]graph.ParamValue
	tr.OnEpoch = func(train.EpochStats) error { weights = append(weights, tr.Model.Params.Snapshot()); return nil }
	if err := tr.Fit(context.Background(), newLineSource(1, 256, 32, false), newLineSource(2, 64, 32, false)); err != nil {
		t.Fatal(err)
	}
	if n := len(tr.History()); n != 3 || !tr.Stopped() || es.BestEpoch() != 1 {
		t.Fatalf("%d epochs, stopped %v, best epoch %d; want 3, true, 1", n, tr.Stopped(), es.BestEpoch())
	}
	now := tr.Model.Params.Snapshot()
	for i, p := range now {
		if !equal(p.Data, weights[0][i].Data) {
			t.Errorf("%s is not epoch 1's", p.Name)
		}
		if equal(p.Data, weights[2][i].Data) {
			t.Errorf("%s is still epoch 3's", p.Name)
		}
	}
}

// TestEarlyStoppingMonitorsAccuracyUpward: "val_accuracy" should rise.
func TestEarlyStoppingMonitorsAccuracyUpward(t *testing.T) {
	tr2 := newTrainer(t, 12, &train.EarlyStopping{Monitor: "val_accuracy", Patience: 1})
	if err := tr2.Fit(context.Background(), newRuleSource(1, 400, 20, true), newRuleSource(2, 100, 50, false)); err != nil {
		t.Fatal(err)
	}
	h := tr2.History()
	best := 0
	for i, s := range h {
		if s.Val["accuracy"] > h[best].Val["accuracy"] {
			best = i
		}
	}
	if len(h) == 12 && best < 10 || len(h) < 12 && len(h)-1-best != 1 {
		t.Errorf("stopped after %d epochs with the best at %d", len(h), best+1)
	}
	noVal := &train.EarlyStopping{}
	tr3 := lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: 2, Callbacks: []train.Callback{noVal}})
	if err := tr3.Fit(context.Background(), newLineSource(1, 64, 32, false), nil); err == nil || !strings.Contains(err.Error(), "is there a validation set?") {
		t.Errorf("early stopping on val_loss without a validation set: %v", err)
	}
	// A name the epochs do not have, with a validation set: the error lists
	// those they have (it asked for a validation set before).
	typo := &train.EarlyStopping{Monitor: "val_acc"}
	tr4 := newTrainer(t, 2, typo)
	err := tr4.Fit(context.Background(), newRuleSource(1, 100, 20, true), newRuleSource(2, 100, 50, false))
	if err == nil || !strings.Contains(err.Error(), `no "val_acc" (the figures it has: train_loss, train_accuracy, val_loss, val_accuracy)`) {
		t.Errorf("a misspelt monitor: %v", err)
	}
}

// TestReduceLROnPlateau: a loss that never improves by MinDelta reduces the
// rate by Factor every Patience epochs, and the history records it.
func TestReduceLROnPlateau(t *testing.T) {
	r := &train.ReduceLROnPlateau{Monitor: "train_loss", Factor: 0.5, Patience: 2, MinDelta: 1e9}
	tr := lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: 7, Seed: 1, Callbacks: []train.Callback{r}})
	if err := tr.Fit(context.Background(), newLineSource(1, 64, 32, false), nil); err != nil {
		t.Fatal(err)
	}
	// Epoch 1 sets the best; 2 and 3 do not improve: reduced from epoch 4,
	// again after 4 and 5: from epoch 6.
	for i, want := range []float64{1, 1, 1, 0.5, 0.5, 0.25, 0.25} {
		if got := tr.History()[i].LR; math.Abs(got-0.01*want) > 1e-15 {
			t.Errorf("epoch %d: rate %v, want %v", i+1, got, 0.01*want)
		}
	}
}

// TestCallbacksResumeExactly: a run with early stopping (best weights kept)
// and reduce-on-plateau, checkpointed after epoch 5 (in OnEpoch, as
// cmd/train does: before TrainEnd puts the best weights back) and resumed,
// ends bit for bit where the uninterrupted one does.
func TestCallbacksResumeExactly(t *testing.T) {
	mk := func(epochs int) *train.Trainer {
		return lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: epochs, Seed: 3, Callbacks: []train.Callback{
			&train.EarlyStopping{Patience: 3, RestoreBest: true, MinDelta: 0.002},
			&train.ReduceLROnPlateau{Patience: 1, Factor: 0.5, MinDelta: 0.002},
		}})
	}
	src, val := newLineSource(1, 256, 32, false), newLineSource(2, 64, 32, false)
	straight := mk(12)
	if err := straight.Fit(context.Background(), src, val); err != nil {
		t.Fatal(err)
	}
	first := mk(12)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	first.OnEpoch = func(s train.EpochStats) error {
		if s.Epoch == 5 {
			if err := first.Save(path); err != nil {
				return err
			}
			return train.ErrStop
		}
		return nil
	}
	if err := first.Fit(context.Background(), src, val); !errors.Is(err, train.ErrStop) {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	second := mk(12)
	if err := second.Restore(ck); err != nil {
		t.Fatal(err)
	}
	if err := second.Fit(context.Background(), src, val); err != nil {
		t.Fatal(err)
	}
	sameTrainers(t, straight, second)
}

// TestEarlyStoppingRefusesABadBestEpoch: a checkpoint whose best epoch is
// not one of its epochs is refused, whatever the digest says.
func TestEarlyStoppingRefusesABadBestEpoch(t *testing.T) {
	mk := func() *train.Trainer {
		return lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: 4, Seed: 3,
			Callbacks: []train.Callback{&train.EarlyStopping{Patience: 3, RestoreBest: true}}})
	}
	tr := mk()
	if err := tr.Fit(context.Background(), newLineSource(1, 64, 32, false), newLineSource(2, 32, 32, false)); err != nil {
		t.Fatal(err)
	}
	ck, err := tr.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"-1", "0", "9", "x"} {
		ck.Meta["early_stopping/epoch"] = bad
		if err := mk().Restore(ck); err == nil {
			t.Errorf("best epoch %s accepted", bad)
		}
	}
}
