package train_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// ruleArch is a 6-16-3 MLP with dropout, so that the dropout generator's
// state matters to an exact resume.
func ruleArch() graph.Arch {
	return graph.Arch{Net: graph.NewSequential(
		graph.Dense{Name: "fc1", In: 6, Out: 16}, graph.ReLU{}, graph.Dropout{Name: "drop1", P: 0.3},
		graph.Dense{Name: "fc2", In: 16, Out: 3}), InShape: []int{6}}
}

// newTrainer makes a fresh model (seed stream 1) and a trainer with Adam
// and a cosine schedule over 4 epochs.
func newTrainer(t *testing.T, epochs int, callbacks ...train.Callback) *train.Trainer {
	t.Helper()
	return newTrainerWith(t, epochs, optim.Cosine{Epochs: 4}, callbacks...)
}

// newTrainerWith is newTrainer with another schedule.
func newTrainerWith(t *testing.T, epochs int, sched optim.Schedule, callbacks ...train.Callback) *train.Trainer {
	t.Helper()
	m, err := graph.NewModel(ruleArch(), graph.Float32, rand.New(rand.NewPCG(7, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(m, opt, train.Config{Batch: 20, Epochs: epochs, Seed: 7, Schedule: sched, Callbacks: callbacks})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestFitLearnsAndReports(t *testing.T) {
	tr := newTrainer(t, 4)
	src, val := newRuleSource(1, 2000, 20, true), newRuleSource(2, 130, 50, false)
	var steps int
	tr.OnStep = func(s train.StepInfo) { steps++ }
	var epochs []int
	tr.OnEpoch = func(s train.EpochStats) error { epochs = append(epochs, s.Epoch); return nil }
	if err := tr.Fit(context.Background(), src, val); err != nil {
		t.Fatal(err)
	}
	h := tr.History()
	if len(h) != 4 || len(epochs) != 4 || steps != 4*100 {
		t.Fatalf("%d epochs in history, %d OnEpoch calls, %d steps; want 4, 4, 400", len(h), len(epochs), steps)
	}
	for i, s := range h {
		if s.Epoch != i+1 || s.Steps != int64(100*(i+1)) || s.Seconds <= 0 || s.SamplesPerSec <= 0 {
			t.Errorf("epoch %d: %+v", i+1, s)
		}
		if want := 0.01 * (1 + math.Cos(math.Pi*float64(i)/4)) / 2; math.Abs(s.LR-want) > 1e-15 {
			t.Errorf("epoch %d: rate %v, want the cosine schedule's %v", i+1, s.LR, want)
		}
	}
	if !(h[3].TrainLoss < h[0].TrainLoss) || h[3].Train["accuracy"] < 0.8 || h[3].Val["accuracy"] < 0.9 || !(h[3].ValLoss < h[0].ValLoss) {
		t.Errorf("did not learn the rule: first %+v, last %+v", h[0], h[3])
	}
	if p := tr.Position(); p.Epoch != 4 || p.Batch != 0 || p.Seen != 0 {
		t.Errorf("position %+v after 4 epochs", tr.Position())
	}
	// Fit again does nothing: the epochs are done.
	if err := tr.Fit(context.Background(), src, val); err != nil || len(tr.History()) != 4 {
		t.Errorf("a second Fit: %v, %d epochs", err, len(tr.History()))
	}
}

func TestTrainBatchRefusesABatchLargerThanTheTrainers(t *testing.T) {
	tr := newTrainer(t, 1)
	src := newRuleSource(1, 60, 30, false)
	if _, err := tr.TrainBatch(src, 0, 0.01); err == nil || !strings.Contains(err.Error(), "has 30 examples; the trainer's batch size is 20") {
		t.Errorf("batch of 30: %v", err)
	}
}

// TestResumeIsExact: a run stopped in the middle of epoch 2 (as SIGINT
// does), saved, and restored into a fresh trainer, ends bit for bit where
// an uninterrupted run ends: weights, optimizer state, history.
func TestResumeIsExact(t *testing.T) {
	src, val := newRuleSource(1, 400, 20, true), newRuleSource(2, 100, 50, false)
	straight := newTrainer(t, 4)
	if err := straight.Fit(context.Background(), src, val); err != nil {
		t.Fatal(err)
	}
	for _, stop := range []struct{ epoch, batch int }{{2, 7}, {2, 20}} {
		first := newTrainer(t, 4)
		ctx, cancel := context.WithCancel(context.Background())
		first.OnStep = func(s train.StepInfo) {
			if s.Epoch == stop.epoch && s.Batch == stop.batch {
				cancel()
			}
		}
		err := first.Fit(ctx, src, val)
		cancel()
		if !errors.Is(err, train.ErrInterrupted) {
			t.Fatalf("stop at %v: %v, want an interruption", stop, err)
		}
		path := filepath.Join(t.TempDir(), "last.safetensors")
		if err := first.Save(path); err != nil {
			t.Fatal(err)
		}
		ck, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		second := newTrainer(t, 4)
		if err := second.Restore(ck); err != nil {
			t.Fatal(err)
		}
		if err := second.Fit(context.Background(), src, val); err != nil {
			t.Fatal(err)
		}
		sameTrainers(t, straight, second)
	}
}

// TestResumeIsExactWithAStepSchedule: with a rate that changes at every
// step (a warm-up of 30 steps, then a cosine over the 80 steps), a resume
// inside the warm-up and one at an epoch's end are the uninterrupted run.
// The first resumed step took step 0's rate: the optimizer counts its steps
// only once its restored state is loaded, at that step. A checkpoint saved
// before that step keeps the restored optimizer state.
func TestResumeIsExactWithAStepSchedule(t *testing.T) {
	sched, err := optim.NewSchedule(optim.ScheduleConfig{Name: "cosine", Steps: 80, WarmupSteps: 30})
	if err != nil {
		t.Fatal(err)
	}
	src, val := newRuleSource(1, 400, 20, true), newRuleSource(2, 100, 50, false)
	straight := newTrainerWith(t, 4, sched)
	if err := straight.Fit(context.Background(), src, val); err != nil {
		t.Fatal(err)
	}
	for _, stop := range []struct{ epoch, batch int }{{2, 7}, {2, 20}} {
		first := newTrainerWith(t, 4, sched)
		ctx, cancel := context.WithCancel(context.Background())
		first.OnStep = func(s train.StepInfo) {
			if s.Epoch == stop.epoch && s.Batch == stop.batch {
				cancel()
			}
		}
		if err := first.Fit(ctx, src, val); !errors.Is(err, train.ErrInterrupted) {
			t.Fatalf("stop at %v: %v, want an interruption", stop, err)
		}
		cancel()
		dir := t.TempDir()
		path := filepath.Join(dir, "last.safetensors")
		if err := first.Save(path); err != nil {
			t.Fatal(err)
		}
		ck, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		// Restored and saved again before any step: the same state.
		again := newTrainerWith(t, 4, sched)
		if err := again.Restore(ck); err != nil {
			t.Fatal(err)
		}
		if again.Steps() != first.Steps() {
			t.Errorf("restored trainer: %d steps, want %d", again.Steps(), first.Steps())
		}
		path2 := filepath.Join(dir, "again.safetensors")
		if err := again.Save(path2); err != nil {
			t.Fatal(err)
		}
		ck2, err := checkpoint.Load(path2)
		if err != nil {
			t.Fatal(err)
		}
		if ck2.OptState.Steps != ck.OptState.Steps || len(ck2.OptState.Tensors) != len(ck.OptState.Tensors) || len(ck.OptState.Tensors) == 0 {
			t.Fatalf("saved after a restore: %d steps, %d tensors; want %d, %d", ck2.OptState.Steps, len(ck2.OptState.Tensors), ck.OptState.Steps, len(ck.OptState.Tensors))
		}
		for name, v := range ck.OptState.Tensors {
			if !equal(v, ck2.OptState.Tensors[name]) {
				t.Errorf("optimizer tensor %s changed in a restore and save", name)
			}
		}
		second := newTrainerWith(t, 4, sched)
		if err := second.Restore(ck2); err != nil {
			t.Fatal(err)
		}
		if err := second.Fit(context.Background(), src, val); err != nil {
			t.Fatal(err)
		}
		sameTrainers(t, straight, second)
	}
}

func sameTrainers(t *testing.T, a, b *train.Trainer) {
	t.Helper()
	ha, hb := a.History(), b.History()
	if len(ha) != len(hb) {
		t.Fatalf("%d epochs vs %d", len(ha), len(hb))
	}
	for i := range ha {
		x, y := ha[i], hb[i]
		if x.TrainLoss != y.TrainLoss || x.Train["accuracy"] != y.Train["accuracy"] || x.ValLoss != y.ValLoss ||
			x.Val["accuracy"] != y.Val["accuracy"] || x.Steps != y.Steps || x.LR != y.LR {
			t.Errorf("epoch %d: %+v vs %+v", i+1, x, y)
		}
	}
	for _, name := range a.Model.Params.Names() {
		if !equal(a.Model.Params.Float64s(name), b.Model.Params.Float64s(name)) {
			t.Errorf("parameter %s differs", name)
		}
	}
	sa, sb := a.Optimizer.State(), b.Optimizer.State()
	if len(sa) != len(sb) || len(sa) == 0 || a.Optimizer.Steps() != b.Optimizer.Steps() {
		t.Fatalf("optimizer: %d tensors, %d steps vs %d, %d", len(sa), a.Optimizer.Steps(), len(sb), b.Optimizer.Steps())
	}
	for i := range sa {
		if !equal(graph.Float64s(sa[i].T), graph.Float64s(sb[i].T)) {
			t.Errorf("optimizer tensor %s differs", sa[i].Name)
		}
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestRestoreRefuses(t *testing.T) {
	tr := newTrainer(t, 2)
	src := newRuleSource(1, 100, 20, true)
	if err := tr.Fit(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	ck, err := tr.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Restore(ck); err == nil || !strings.Contains(err.Error(), "trained already") {
		t.Errorf("restore into a trained trainer: %v", err)
	}
	m, _ := graph.NewModel(ruleArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
	sgd, _ := optim.New(optim.Config{Name: "sgd"})
	other, err := train.New(m, sgd, train.Config{Batch: 20, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Restore(ck); err == nil || !strings.Contains(err.Error(), "optimizer is adam, not sgd") {
		t.Errorf("restore with another optimizer: %v", err)
	}
	// Another batch size: the position and the order would not carry over.
	m2, _ := graph.NewModel(ruleArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
	adam, _ := optim.New(optim.Config{Name: "adam", LR: 0.01})
	wider, err := train.New(m2, adam, train.Config{Batch: 25, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer wider.Close()
	if err := wider.Restore(ck); err == nil || !strings.Contains(err.Error(), "trained with batch size 20, drop last false, this trainer has batch size 25") {
		t.Errorf("restore with another batch size: %v", err)
	}
	// Another model: said by its weights, not by the optimizer's state
	// for them.
	narrow := graph.Arch{Net: graph.NewSequential(
		graph.Dense{Name: "fc1", In: 6, Out: 8}, graph.ReLU{}, graph.Dropout{Name: "drop1", P: 0.3},
		graph.Dense{Name: "fc2", In: 8, Out: 3}), InShape: []int{6}}
	m3, _ := graph.NewModel(narrow, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	adam3, _ := optim.New(optim.Config{Name: "adam", LR: 0.01})
	small, err := train.New(m3, adam3, train.Config{Batch: 20, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if err := small.Restore(ck); err == nil || !strings.Contains(err.Error(), `tensor "fc1.weight" has shape [6 16] in the checkpoint, the model wants [6 8]`) {
		t.Errorf("restore into another model: %v", err)
	}
	delete(ck.Meta, "train.position")
	fresh := newTrainer(t, 2)
	if err := fresh.Restore(ck); err == nil || !strings.Contains(err.Error(), "no training position") {
		t.Errorf("restore without a position: %v", err)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	m, _ := graph.NewModel(ruleArch(), graph.Float32, rand.New(rand.NewPCG(1, 1)))
	opt, _ := optim.New(optim.Config{Name: "adam"})
	for _, c := range []struct {
		cfg  train.Config
		want string
	}{
		{train.Config{Batch: 0, Epochs: 1}, "batch size 0"},
		{train.Config{Batch: 4, Epochs: -1}, "epochs -1"},
		{train.Config{Batch: 4, Epochs: 1, TopK: 3}, "top-3 accuracy of 3 classes is always 100%"},
	} {
		if _, err := train.New(m, opt, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := train.New(m, nil, train.Config{Batch: 4}); err == nil {
		t.Error("no optimizer accepted")
	}
	// A loss cleared after NewModel was a nil-pointer panic in New and
	// Evaluate.
	m.Arch.Loss = nil
	if _, err := train.New(m, opt, train.Config{Batch: 4, Epochs: 1}); err == nil || !strings.Contains(err.Error(), "Arch.Loss is nil") {
		t.Errorf("a model with no loss: %v", err)
	}
	d, err := datasets.New(make([]float32, 4*6), []int{6}, make([]int, 4))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Batches(4, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Evaluate(m, b); err == nil || !strings.Contains(err.Error(), "Arch.Loss is nil") {
		t.Errorf("evaluating a model with no loss: %v", err)
	}
}

// TestEvaluateCountsEveryExampleOnce: a model whose logits are its first
// three inputs predicts the largest of them; Evaluate's count must be the
// one worked out here, over 47 examples in batches of 10 (the partial last
// batch runs in a program of its own size).
func TestEvaluateCountsEveryExampleOnce(t *testing.T) {
	arch := graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc", In: 6, Out: 3, NoBias: true}), InShape: []int{6}}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, 18)
	w[0*3+0], w[1*3+1], w[2*3+2] = 1, 1, 1 // logits = (x0, x1, x2)
	if err := m.Params.Set("fc.weight", w); err != nil {
		t.Fatal(err)
	}
	src := newRuleSource(3, 47, 10, false)
	want := 0
	for i := range 47 {
		row := src.x[i*6 : i*6+3]
		best := 0
		for c := 1; c < 3; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		if best == src.labels[i] {
			want++
		}
	}
	r, err := train.Evaluate(m, src)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 47 || r.Correct() != want || len(r.Predicted) != 47 || r.Metrics["accuracy"] != float64(want)/47 {
		t.Errorf("Evaluate: %d/%d correct (accuracy %v), %d predictions; want %d/47", r.Correct(), r.N, r.Metrics["accuracy"], len(r.Predicted), want)
	}
	// Top 2 of 3: the label is not the smallest of the three logits.
	want2 := 0
	for i := range 47 {
		row, l := src.x[i*6:i*6+3], src.labels[i]
		below := 0
		for c := range 3 {
			if row[c] > row[l] {
				below++
			}
		}
		if below < 2 {
			want2++
		}
	}
	r2, err := train.EvaluateTopK(m, src, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Metrics["top2_accuracy"]; got != float64(want2)/47 || r2.Metrics["accuracy"] != r.Metrics["accuracy"] {
		t.Errorf("EvaluateTopK 2: top-2 accuracy %v (accuracy %v), want %d/47", got, r2.Metrics["accuracy"], want2)
	}
	if _, err := train.EvaluateTopK(m, src, 0); err == nil {
		t.Error("top-0 accepted")
	}
}
