package train_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/train"
)

// interrupted trains a trainer until batch 3 of epoch 2 and saves it: a
// checkpoint with a position inside an epoch, a history and optimizer state.
func interrupted(t *testing.T) string {
	t.Helper()
	tr := newTrainer(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr.OnStep = func(s train.StepInfo) {
		if s.Epoch == 2 && s.Batch == 3 {
			cancel()
		}
	}
	if err := tr.Fit(ctx, newRuleSource(1, 200, 20, true), nil); !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("%v, want an interruption", err)
	}
	path := filepath.Join(t.TempDir(), "last.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRestoreChecksTheState: every part of the training state is checked
// before anything is restored, and the error names the file and the field.
func TestRestoreChecksTheState(t *testing.T) {
	path := interrupted(t)
	for _, c := range []struct {
		name string
		edit func(ck *checkpoint.Checkpoint)
		want string
	}{
		{"negative batch", func(ck *checkpoint.Checkpoint) { setPos(ck, `"batch":3`, `"batch":-1`) }, "inconsistent position (epoch 1, batch -1)"},
		{"more seen than batches hold", func(ck *checkpoint.Checkpoint) { setPos(ck, `"seen":60`, `"seen":61`) }, "metadata field train.position: 61 examples seen in 3 batches of at most 20"},
		{"more correct than seen", func(ck *checkpoint.Checkpoint) {
			ck.Meta["train.position"] = strings.Replace(ck.Meta["train.position"], `"correct":`, `"correct":1000`, 1)
		}, "do not fit 60 examples"},
		{"per-output sums of another model", func(ck *checkpoint.Checkpoint) {
			ck.Meta["train.position"] = strings.Replace(ck.Meta["train.position"], `{`, `{"sum_y":[1,2],`, 1)
		}, "a per-output sum has 2 values for a model of 3 outputs"},
		{"an unknown position field", func(ck *checkpoint.Checkpoint) { setPos(ck, `{`, `{"zzz":1,`) }, "no training position (metadata field train.position)"},
		{"a history of another length", func(ck *checkpoint.Checkpoint) { ck.Meta["train.history"] = "[]" }, "metadata field train.history holds 0 epochs, the position says 1 are done"},
		{"steps that do not add up", func(ck *checkpoint.Checkpoint) { ck.OptState.Steps++ }, "metadata field optimizer.steps is 14; 10 steps to the end of epoch 1 and 3 batches since make 13"},
		{"a bad generator state", func(ck *checkpoint.Checkpoint) { ck.Meta["rng.dropout"] = "AAAA" }, "rng.dropout state (metadata field rng.dropout) is missing or bad"},
		{"a missing optimizer tensor", func(ck *checkpoint.Checkpoint) { delete(ck.OptState.Tensors, "adam.v/fc2.bias") }, "optimizer state: no saved optimizer tensor \"adam.v/fc2.bias\""},
		{"an optimizer tensor of no slot", func(ck *checkpoint.Checkpoint) {
			ck.OptState.Tensors["adam.w/fc2.bias"] = ck.OptState.Tensors["adam.v/fc2.bias"]
		}, `tensor "adam.w/fc2.bias" is not state of this adam optimizer`},
		{"an optimizer tensor of the wrong size", func(ck *checkpoint.Checkpoint) { ck.OptState.Tensors["adam.m/fc1.bias"] = []float64{1} }, "optimizer tensor \"adam.m/fc1.bias\": 1 values"},
	} {
		ck, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		c.edit(ck)
		tr := newTrainer(t, 4)
		err = tr.Restore(ck)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "restore from "+path+": ") {
			t.Errorf("%s: %v, want an error naming %s and containing %q", c.name, err, path, c.want)
		}
		if p := tr.Position(); p.Epoch != 0 || p.Batch != 0 || len(tr.History()) != 0 {
			t.Errorf("%s: a failed restore moved the trainer to %+v", c.name, p)
		}
	}
}

func setPos(ck *checkpoint.Checkpoint, old, new string) {
	ck.Meta["train.position"] = strings.Replace(ck.Meta["train.position"], old, new, 1)
}

// TestFitRefusesAPositionPastTheEnd: a position inside an epoch must lie
// inside the source's batches; one past their end (a checkpoint of other
// data) trains nothing and names the checkpoint.
func TestFitRefusesAPositionPastTheEnd(t *testing.T) {
	path := interrupted(t)
	ck, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTrainer(t, 4)
	if err := tr.Restore(ck); err != nil {
		t.Fatal(err)
	}
	steps := 0
	tr.OnStep = func(train.StepInfo) { steps++ }
	// Batch 3 of epoch 2 is past the end of a source of 3 batches.
	err = tr.Fit(context.Background(), newRuleSource(1, 60, 20, true), nil)
	if err == nil || !strings.Contains(err.Error(), "the position from "+path+", batch 3 of epoch 2, is past the end of the epoch's 3 batches") || steps != 0 {
		t.Errorf("Fit: %v after %d steps, want a refusal naming %s before any step", err, steps, path)
	}
	// The source it was taken on resumes.
	tr2 := newTrainer(t, 4)
	if err := tr2.Restore(ck); err != nil {
		t.Fatal(err)
	}
	if err := tr2.Fit(context.Background(), newRuleSource(1, 200, 20, true), nil); err != nil {
		t.Errorf("resuming on the source it was taken on: %v", err)
	}
}
