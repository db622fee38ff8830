package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/safetensors"
	"github.com/tapestry-ml/tapestry/train"
)

// quick returns options for a small real run: 1,500 MNIST training images,
// 500 validation images, batch 100 (15 steps an epoch), a small MLP via the
// default preset. Dropout is on, so the dropout RNG must resume exactly too.
func quick(t *testing.T, epochs int) Options {
	o := Defaults("mlp")
	o.Epochs, o.Batch, o.Limit, o.Val, o.Quiet = epochs, 100, 1500, 500, true
	o.Out = t.TempDir()
	return o
}

// resumeOptionsFor are the options of `-resume path [-epochs N] -quiet`.
func resumeOptionsFor(path string, epochs int) Options {
	return Options{Numbers: Numbers{Epochs: epochs}, IO: IO{Resume: path, Quiet: true}}
}

func tensorsOf(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, ts := range f.Tensors {
		m[ts.Name] = ts.Data
	}
	return m
}

func sameRun(t *testing.T, a, b *Result, dirA, dirB string) {
	t.Helper()
	if len(a.Epochs) != len(b.Epochs) {
		t.Fatalf("%d epochs vs %d", len(a.Epochs), len(b.Epochs))
	}
	for i := range a.Epochs {
		x, y := a.Epochs[i], b.Epochs[i]
		if x.TrainLoss != y.TrainLoss || x.Train["accuracy"] != y.Train["accuracy"] || x.Val["accuracy"] != y.Val["accuracy"] || x.ValLoss != y.ValLoss {
			t.Errorf("epoch %d: %v vs %v", i+1, x, y)
		}
	}
	ta, tb := tensorsOf(t, filepath.Join(dirA, "last.safetensors")), tensorsOf(t, filepath.Join(dirB, "last.safetensors"))
	if len(ta) != len(tb) || len(ta) == 0 {
		t.Fatalf("%d tensors vs %d", len(ta), len(tb))
	}
	for name, d := range ta {
		if string(d) != string(tb[name]) {
			t.Errorf("tensor %s differs", name)
		}
	}
	if a.TestCorrect != b.TestCorrect {
		t.Errorf("test correct %d vs %d", a.TestCorrect, b.TestCorrect)
	}
}

// TestResumeIsExact: 2 epochs then a resume for 2 more gives the same
// per-epoch losses and bit-identical weights and optimizer state as 4
// epochs straight with the same seed. The learning rate must not depend on
// the total number of epochs for that, so the runs use a constant rate, and
// a cosine schedule whose length is set explicitly (its position is the
// epoch, restored from the checkpoint).
func TestResumeIsExact(t *testing.T) {
	for _, sched := range []optim.ScheduleConfig{{Name: "constant"}, {Name: "cosine", Epochs: 4}} {
		t.Run(sched.Name, func(t *testing.T) {
			ctx := context.Background()
			straight := quick(t, 4)
			straight.Schedule = sched
			want, err := Run(ctx, straight, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			first := quick(t, 2)
			first.Schedule = sched
			if _, err := Run(ctx, first, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			resumed := resumeOptionsFor(filepath.Join(first.Out, "last.safetensors"), 4)
			got, err := Run(ctx, resumed, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			sameRun(t, want, got, straight.Out, first.Out)
			for _, f := range []string{"config.json", "metrics.jsonl", "best.safetensors", "curves.png"} {
				if _, err := os.Stat(filepath.Join(first.Out, f)); err != nil {
					t.Errorf("run folder lacks %s", f)
				}
			}
			lines, _ := os.ReadFile(filepath.Join(first.Out, "metrics.jsonl"))
			if n := strings.Count(string(lines), "\n"); n != 4 {
				t.Errorf("metrics.jsonl has %d lines after the resume, want 4", n)
			}
		})
	}
}

// TestInterruptMidEpochResumesExactly cancels the run in the middle of epoch
// 2 (as SIGINT does), checks the message says how to resume, resumes, and
// compares with an uninterrupted run.
func TestInterruptMidEpochResumesExactly(t *testing.T) {
	straight := quick(t, 3)
	want, err := Run(context.Background(), straight, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := quick(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.onStep = func(s train.StepInfo) {
		if s.Epoch == 2 && s.Batch == 6 {
			cancel()
		}
	}
	_, err = Run(ctx, o, io.Discard, io.Discard)
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("err = %v, want an interruption", err)
	}
	last := filepath.Join(o.Out, "last.safetensors")
	if !strings.Contains(err.Error(), "go run ./cmd/train -resume "+last) {
		t.Errorf("message %q does not say how to resume", err)
	}
	got, err := Run(context.Background(), resumeOptionsFor(last, 0), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, want, got, straight.Out, o.Out)
}

func TestBadSettingsRejectedBeforeTraining(t *testing.T) {
	ro := t.TempDir()
	if err := os.Chmod(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o700)
	// PyTorch weights of a 784-128-10 MLP offered to the 784-512-512-10 one.
	otherArch := filepath.Join(t.TempDir(), "other.safetensors")
	if err := safetensors.WriteFile(otherArch, &safetensors.File{Tensors: []safetensors.Tensor{
		safetensors.FromFloat32("fc1.weight", []int{128, 784}, make([]float32, 128*784)),
		safetensors.FromFloat32("fc1.bias", []int{128}, make([]float32, 128)),
	}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{"batch 0", func(o *Options) { o.Batch = 0 }, "batch size 0"},
		{"batch larger than data", func(o *Options) { o.Batch = 2000 }, "larger than the 1500 training images"},
		{"negative lr", func(o *Options) { o.LR = -1 }, "learning rate"},
		{"unwritable out", func(o *Options) { o.Out = filepath.Join(ro, "run") }, "run folder"},
		{"out under a file", func(o *Options) { o.Out = filepath.Join(otherArch, "run") }, "creating the run folder"},
		{"missing resume", func(o *Options) { o.Resume = filepath.Join(ro, "nope.safetensors") }, "nope.safetensors"},
		{"weights of another architecture", func(o *Options) { o.InitFrom = otherArch }, `tensor "fc1.weight" has shape [128 784], the model wants [512 784]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if os.Geteuid() == 0 && c.name == "unwritable out" {
				t.Skip("root can write anywhere")
			}
			o := quick(t, 1)
			c.edit(&o)
			_, err := Run(context.Background(), o, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestDivergenceStopsAndKeepsLastGood: a learning rate that blows up stops
// training with an error naming the step and the first non-finite tensor,
// and the checkpoint of the last good epoch stays loadable.
func TestDivergenceStopsAndKeepsLastGood(t *testing.T) {
	o := quick(t, 1)
	o.Optimizer, o.LR = "sgd", 0.01
	if _, err := Run(context.Background(), o, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(o.Out, "last.safetensors")
	good, _ := os.ReadFile(last)
	// Resume epoch 2 with a learning rate of 1e12: the weights explode at
	// the first update and the next loss is not finite. (The checkpoint is
	// re-saved, so that its digest covers the edit: an edit by hand is
	// refused.)
	ck, err := checkpoint.Load(last)
	if err != nil {
		t.Fatal(err)
	}
	ck.Meta[metaOptions] = strings.Replace(ck.Meta[metaOptions], `"lr":0.01`, `"lr":1e12`, 1)
	ck.Optimizer.LR = 1e12 // the optimizer config must be the one the options make
	if err := ck.Save(last, graph.Float32); err != nil {
		t.Fatal(err)
	}
	edited, _ := os.ReadFile(last)
	_, err = Run(context.Background(), resumeOptionsFor(last, 2), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("training went on with a learning rate of 1e12")
	}
	re := regexp.MustCompile(`epoch 2, step \d+: loss is (NaN|[+-]Inf) \(first non-finite tensor: (weight|gradient of) fc\d\.(weight|bias)\)`)
	if !re.MatchString(err.Error()) || !strings.Contains(err.Error(), "last good checkpoint is "+last) {
		t.Errorf("error %q does not name the step, the first non-finite tensor and the last good checkpoint", err)
	}
	after, _ := os.ReadFile(last)
	if string(after) != string(edited) || len(good) == 0 {
		t.Error("the last good checkpoint was overwritten")
	}
	if _, err := checkpoint.Load(last); err != nil {
		t.Errorf("last good checkpoint does not load: %v", err)
	}
	// The resume saved nothing, so it leaves nothing: no config.resume-*.json.
	if left, _ := filepath.Glob(filepath.Join(o.Out, "config.resume-*.json")); len(left) != 0 {
		t.Errorf("the failed resume left %v behind", left)
	}
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	var size, rss int64
	if _, err := fmt.Sscan(string(b), &size, &rss); err != nil {
		t.Fatal(err)
	}
	return rss * int64(os.Getpagesize())
}

// TestMemoryAndGoroutinesStayFlat trains the MLP for 10 short epochs and
// checks that resident memory after epoch 10 is within 5% of after epoch 2
// (each measured after the garbage is returned to the OS, so that the GC's
// pacing does not hide or fake a leak),
// and that the number of goroutines does not grow: nothing per step or per
// epoch accumulates.
func TestMemoryAndGoroutinesStayFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("10 epochs")
	}
	o := quick(t, 10)
	o.Limit = 2000
	var rss [11]int64
	var gor [11]int
	o.onStep = func(s train.StepInfo) {
		if s.Batch == s.Batches {
			// Return garbage to the OS first: what is left resident is
			// what the run holds, which is what must not grow.
			debug.FreeOSMemory()
			rss[s.Epoch] = rssBytes(t)
			gor[s.Epoch] = runtime.NumGoroutine()
		}
	}
	if _, err := Run(context.Background(), o, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Logf("RSS after epoch 2: %d MB, after epoch 10: %d MB; goroutines %d → %d", rss[2]>>20, rss[10]>>20, gor[2], gor[10])
	if d := float64(rss[10]-rss[2]) / float64(rss[2]); d > 0.05 {
		t.Errorf("resident memory grew %.1f%% from epoch 2 to epoch 10", 100*d)
	}
	if gor[10] > gor[2] {
		t.Errorf("goroutines grew from %d to %d", gor[2], gor[10])
	}
}
