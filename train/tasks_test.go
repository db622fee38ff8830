package train_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// lineTrainer is a 3-16-1 MLP for the line source, with loss l, in dt.
func lineTrainer(t *testing.T, l graph.Loss, dt tensor.Dtype, cfg train.Config) *train.Trainer {
	t.Helper()
	arch := graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 3, Out: 16}, graph.Tanh{},
		graph.Dense{Name: "fc2", In: 16, Out: 1}), InShape: []int{3}, Loss: l}
	m, err := graph.NewModel(arch, dt, rand.New(rand.NewPCG(5, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(m, opt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// TestRegressionLearnsTheLine: an MLP fits y = 2·x0 − x1 + 0.5 with MSE,
// in float32 and in float64 end to end (train, evaluate, predict, save,
// load); its validation R² is near 1 and its metrics are the regression's.
func TestRegressionLearnsTheLine(t *testing.T) {
	for _, dt := range []tensor.Dtype{graph.Float32, graph.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			tr := lineTrainer(t, graph.MSE{}, dt, train.Config{Batch: 32, Epochs: 8, Seed: 1})
			src, val := newLineSource(1, 1000, 32, false), newLineSource(2, 200, 50, false)
			if err := tr.Fit(context.Background(), src, val); err != nil {
				t.Fatal(err)
			}
			last := tr.History()[7]
			if last.Val["r2"] < 0.97 || last.Val["mse"] > 0.2 || math.Abs(last.ValLoss-last.Val["mse"]) > 1e-6*last.ValLoss {
				t.Errorf("after 8 epochs: %v", last)
			}
			if _, ok := last.Train["accuracy"]; ok {
				t.Errorf("a regression reports accuracy: %v", last.Train)
			}
			y, err := tr.Model.Predict([]float32{1, 0, 0})
			if err != nil || math.Abs(y[0]-2.5) > 0.3 {
				t.Errorf("predict(1, 0, 0) = %v, %v; want about 2.5", y, err)
			}
			path := filepath.Join(t.TempDir(), "line.safetensors")
			if err := tr.Save(path); err != nil {
				t.Fatal(err)
			}
			ck, err := checkpoint.Load(path)
			if err != nil || ck.Arch == nil {
				t.Fatalf("%v, %v", ck, err)
			}
			if _, ok := ck.Arch.Loss.(graph.MSE); !ok {
				t.Errorf("saved loss %T", ck.Arch.Loss)
			}
		})
	}
}

// TestBinaryClassification: one output, sigmoid cross-entropy, 0/1 targets:
// accuracy over the outputs, probabilities from the sigmoid.
func TestBinaryClassification(t *testing.T) {
	tr := lineTrainer(t, graph.SigmoidCrossEntropy{}, graph.Float32, train.Config{Batch: 32, Epochs: 6, Seed: 1})
	src, val := newLineSource(1, 1000, 32, true), newLineSource(2, 300, 50, true)
	if err := tr.Fit(context.Background(), src, val); err != nil {
		t.Fatal(err)
	}
	if acc := tr.History()[5].Val["accuracy"]; acc < 0.95 {
		t.Errorf("validation accuracy %v", acc)
	}
	p, err := tr.Model.Probabilities([]float32{3, 0, 0, -3, 0, 0})
	if err != nil || p[0] < 0.9 || p[1] > 0.1 {
		t.Errorf("probabilities %v, %v", p, err)
	}
	// Report.Correct was 0 for a sigmoid classifier: it counts here what
	// the probabilities say, example by example.
	r, err := train.Evaluate(tr.Model, val)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := tr.Model.Probabilities(val.x)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, q := range probs {
		if (q > 0.5) == (val.y[i] == 1) {
			right++
		}
	}
	if r.Correct() != right || r.Correct() == 0 || r.Metrics["accuracy"] != float64(right)/float64(r.N) {
		t.Errorf("Correct() = %d, accuracy %v; the probabilities give %d of %d", r.Correct(), r.Metrics["accuracy"], right, r.N)
	}
	// Top-k was silently ignored for a sigmoid classifier.
	if _, err := train.New(tr.Model, tr.Optimizer, train.Config{Batch: 32, Epochs: 1, TopK: 1}); err == nil || !strings.Contains(err.Error(), "needs a classifier of labels") {
		t.Errorf("TopK for a sigmoid classifier: %v", err)
	}
}

// TestPartialLastBatch: 70 examples in batches of 32 are 32, 32 and 6. Run,
// every example counts (the optimizer takes 3 steps an epoch); dropped, 2.
func TestPartialLastBatch(t *testing.T) {
	for _, drop := range []bool{false, true} {
		tr := lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: 2, Seed: 1, DropLast: drop})
		if err := tr.Fit(context.Background(), newLineSource(1, 70, 32, false), nil); err != nil {
			t.Fatal(err)
		}
		want := int64(6)
		if drop {
			want = 4
		}
		if got := tr.Optimizer.Steps(); got != want {
			t.Errorf("drop %v: %d steps in 2 epochs, want %d", drop, got, want)
		}
	}
}

// TestSourceMistakesAreErrors: what a hand-written source gets wrong is
// named, never trained on: a label it did not write (the buffer is not left
// holding the previous batch), a label out of range, a target it did not
// write, a target outside the loss's range, a Fill that fails, a batch
// larger than the trainer's.
func TestSourceMistakesAreErrors(t *testing.T) {
	rule := newRuleSource(1, 100, 20, true)
	for _, c := range []struct {
		name string
		fill func(i int, b *datasets.Batch) (int, error)
		want string
	}{
		{"no labels", func(i int, b *datasets.Batch) (int, error) {
			n, err := rule.Fill(i, &datasets.Batch{Inputs: b.Inputs}) // writes the inputs only
			return n, err
		}, "wrote no label for example 0"},
		{"label out of range", func(i int, b *datasets.Batch) (int, error) {
			n, err := rule.Fill(i, b)
			b.Labels[3] = 7
			return n, err
		}, "example 3 has label 7, want 0..2"},
		{"fill fails", func(i int, b *datasets.Batch) (int, error) { return 0, errFill }, "disk on fire"},
		{"no inputs", func(i int, b *datasets.Batch) (int, error) {
			// Writes the labels only: the inputs would still hold the
			// previous batch (or zeros at the first).
			return rule.Fill(i, &datasets.Batch{Inputs: [][]float32{make([]float32, len(b.Inputs[0]))}, Labels: b.Labels})
		}, "input 0 of example 0 is NaN or was not written"},
		{"last example's inputs cut short", func(i int, b *datasets.Batch) (int, error) {
			n, err := rule.Fill(i, b)
			x := b.Inputs[0]
			x[len(x)-1] = float32(math.NaN())
			return n, err
		}, "input 0 of example 19 is NaN or was not written"},
		{"short count", func(i int, b *datasets.Batch) (int, error) {
			n, err := rule.Fill(i, b)
			return n - 1, err
		}, "wrote 19 examples, want 20"},
	} {
		tr := newTrainer(t, 1)
		err := tr.Fit(context.Background(), funcSource{Source: rule, fill: c.fill}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	line := newLineSource(1, 64, 32, false)
	tr := lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: 1})
	err := tr.Fit(context.Background(), funcSource{Source: line, fill: func(i int, b *datasets.Batch) (int, error) {
		n, err := line.Fill(i, b)
		b.Targets[5] = float32(math.NaN())
		return n, err
	}}, nil)
	if err == nil || !strings.Contains(err.Error(), "target 0 of example 5 is NaN or was not written") {
		t.Errorf("unwritten target: %v", err)
	}
	// A label 2 fed to a one-output sigmoid classifier as its target.
	binary := lineTrainer(t, graph.SigmoidCrossEntropy{}, graph.Float32, train.Config{Batch: 32, Epochs: 1})
	bin := newLineSource(1, 64, 32, true)
	err = binary.Fit(context.Background(), funcSource{Source: bin, fill: func(i int, b *datasets.Batch) (int, error) {
		n, err := bin.Fill(i, b)
		b.Targets[7] = 2
		return n, err
	}}, nil)
	if err == nil || !strings.Contains(err.Error(), "target 0 of example 7 is 2, but graph.SigmoidCrossEntropy takes targets from 0 to 1") {
		t.Errorf("target out of the loss's range: %v", err)
	}
	// A bad label in a Dataset is named by its index in the data too, not
	// only by its place in the shuffled batch.
	x := make([]float32, 40*6)
	labels := make([]int, 40)
	labels[5] = 3
	d, err := datasets.New(x, []int{6}, labels)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := d.Batches(20, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := newTrainer(t, 1).Fit(context.Background(), batches, nil); err == nil || !strings.Contains(err.Error(), "(example 5 of the source's own order) has label 3, want 0..2") {
		t.Errorf("a bad label in a Dataset: %v", err)
	}
	big := lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 16, Epochs: 1})
	if err := big.Fit(context.Background(), line, nil); err == nil || !strings.Contains(err.Error(), "has 32 examples; the trainer's batch size is 16") {
		t.Errorf("batch larger than the trainer's: %v", err)
	}
}

var errFill = errorString("disk on fire")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestScheduleAppliedPerStep reads the rate of every step: a per-step cosine
// over the run's 12 steps with 4 steps of warm-up.
func TestScheduleAppliedPerStep(t *testing.T) {
	sched, err := optim.NewSchedule(optim.ScheduleConfig{Name: "cosine", Steps: 12, WarmupSteps: 4})
	if err != nil {
		t.Fatal(err)
	}
	tr := lineTrainer(t, graph.MSE{}, graph.Float32, train.Config{Batch: 32, Epochs: 3, Seed: 1, Schedule: sched})
	var rates []float64
	tr.OnStep = func(s train.StepInfo) { rates = append(rates, s.LR) }
	if err := tr.Fit(context.Background(), newLineSource(1, 128, 32, false), nil); err != nil {
		t.Fatal(err)
	}
	if len(rates) != 12 {
		t.Fatalf("%d steps, want 12", len(rates))
	}
	for s, got := range rates {
		want := 0.01 * (1 + math.Cos(math.Pi*float64(s)/12)) / 2
		if s < 4 {
			want *= float64(s+1) / 4
		}
		if math.Abs(got-want) > 1e-15 {
			t.Errorf("step %d: rate %v, want %v", s, got, want)
		}
	}
}

// TestFloat64ModelSavesInFloat64: a float64 model was saved with float32
// tensors and came back from models.Load as a float32 model, its weights
// rounded. Now it comes back in float64, every weight to the bit.
func TestFloat64ModelSavesInFloat64(t *testing.T) {
	tr := lineTrainer(t, graph.MSE{}, graph.Float64, train.Config{Batch: 32, Epochs: 2})
	src := newLineSource(1, 64, 32, false)
	if err := tr.Fit(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "last.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	m, ck, err := models.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Params.Dtype() != graph.Float64 || ck.Dtype != graph.Float64 {
		t.Fatalf("reloaded as %v (checkpoint %v), want float64", m.Params.Dtype(), ck.Dtype)
	}
	for _, name := range tr.Model.Params.Names() {
		if a, b := tr.Model.Params.Float64s(name), m.Params.Float64s(name); !slices.Equal(a, b) {
			t.Errorf("%s changed in the round trip", name)
		}
	}
}
