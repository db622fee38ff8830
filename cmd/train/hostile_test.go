//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
	"github.com/tapestry-ml/tapestry/internal/hostile"
	"github.com/tapestry-ml/tapestry/train"
)

var (
	hostileAll = flag.Bool("hostile.all", false, "try every hostile case, not a sample of each class")
	hostileLog = flag.Bool("hostile.v", false, "log what the command did with every hostile case")
)

// hostileSample is how many cases of each class and fixture a run tries
// without -hostile.all.
const hostileSample = 3

// hostileBudget is the address space the child running the trials may map
// beyond its start: 2 GiB, as -eval may build programs of up to evalValues
// (2^27 values, 512 MiB of float32) for an architecture crafted to be
// costly, on top of the test binary, the data and the Go heap's headroom.
const hostileBudget = 2 * memlimit.Budget

// Environment of the child: where the fixtures and the trials' files are.
const (
	envFixtures = "TAPESTRY_HOSTILE_TRAIN_FIXTURES"
	envCases    = "TAPESTRY_HOSTILE_TRAIN_CASES"
	envAll      = "TAPESTRY_HOSTILE_ALL"
)

// everyCase says whether every case is tried: -hostile.all, which the
// child learns from its environment.
func everyCase() bool { return *hostileAll || os.Getenv(envAll) == "true" }

// The files of the fixtures, under their folder.
const (
	fxData    = "data"
	fxCSV     = "rows.csv"
	fxLenet   = "lenet5/last.safetensors"
	fxMLP     = "mlp/last.safetensors"
	fxTabular = "tabular/last.safetensors"
)

// TestHostileFiles feeds damaged checkpoints (of the lenet5 and mlp presets
// and of a tabular run, each interrupted inside its second epoch by
// cmd/train itself, and the first-format test file), damaged MNIST files
// and CSV files, and paths that are no regular file, to `-resume`,
// `-eval` and training runs, all in one child process whose address space
// may grow by 2 GiB, each with a timeout. Every trial that must fail does,
// with a short message naming the file, no panic, in a few seconds, and
// leaves its run folder as it was. -hostile.all tries every case.
func TestHostileFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three models and runs a child process")
	}
	fixtures := t.TempDir()
	began := time.Now()
	makeTrainFixtures(t, fixtures)
	t.Logf("fixtures trained in %.1fs", time.Since(began).Seconds())
	cases, err := os.MkdirTemp("", "hz") // short: a Unix socket's path is at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cases) })
	began = time.Now()
	trials, counts := trainTrials(t, fixtures, cases)
	t.Logf("trials made in %.1fs", time.Since(began).Seconds())
	began = time.Now()
	defer func() { t.Logf("child ran in %.1fs", time.Since(began).Seconds()) }()
	outs := hostile.RunAll(t, "TestHelperHostileTrain", hostileBudget, 60*time.Second, trials,
		envFixtures+"="+fixtures, envCases+"="+cases, fmt.Sprintf("%s=%v", envAll, everyCase()))
	failed, ok := hostile.Check(t, trials, outs, 1200, 20*time.Second)
	slowest, sum := 0.0, 0.0
	for i, o := range outs {
		slowest, sum = max(slowest, o.Seconds), sum+o.Seconds
		if *hostileLog {
			t.Logf("%s → exit %d in %.2fs: %.200s", trials[i].Name, o.Exit, o.Seconds, strings.TrimSpace(o.Message))
		}
	}
	t.Logf("%d trials (%d failed as they should or may, %d accepted) in %.1fs, slowest %.2fs, under a %d MiB budget; cases per class: %v",
		len(trials), failed, ok, sum, slowest, hostileBudget>>20, counts)
	t.Logf("per class:%s", hostile.Summary(trials, outs))
}

// TestHelperHostileTrain is the child of TestHostileFiles.
func TestHelperHostileTrain(t *testing.T) {
	fixtures, cases := os.Getenv(envFixtures), os.Getenv(envCases)
	if fixtures == "" {
		t.Skip("the child of TestHostileFiles")
	}
	trials, _ := trainTrials(t, fixtures, cases)
	hostile.Child(t, trials, func(args []string, stdout, stderr io.Writer) int {
		return run(context.Background(), args, stdout, stderr)
	})
}

// makeTrainFixtures writes a small MNIST (600 training and 200 test images
// of the real data) and trains, with cmd/train's Run, the lenet5 and mlp
// presets and a tabular MLP, each stopped at batch 2 of epoch 2.
func makeTrainFixtures(t *testing.T, dir string) {
	t.Helper()
	if err := writeSmallMNIST(filepath.Join(dir, fxData), 600, 200); err != nil {
		t.Skip(err) // no MNIST: nothing to train the fixtures on
	}
	csv := writeTable(t, 120)
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fxCSV), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		o    Options
	}{{fxLenet, Defaults("lenet5")}, {fxMLP, Defaults("mlp")}, {fxTabular, TabularDefaults()}} {
		o := f.o
		o.Epochs, o.Out, o.Quiet = 3, filepath.Join(dir, filepath.Dir(f.path)), true
		if f.path == fxTabular {
			o.CSV, o.Target, o.Hidden, o.Batch = filepath.Join(dir, fxCSV), "class", []int{8}, 16
		} else {
			o.Data, o.Limit, o.Val, o.Batch = filepath.Join(dir, fxData), 300, 100, 50
		}
		ctx, cancel := context.WithCancel(context.Background())
		o.onStep = func(s train.StepInfo) {
			if s.Epoch == 2 && s.Batch == 2 {
				cancel()
			}
		}
		_, err := Run(ctx, o, io.Discard, io.Discard)
		cancel()
		if !errors.Is(err, train.ErrInterrupted) {
			t.Fatalf("%s: %v, want an interruption", f.path, err)
		}
	}
}

// writeSmallMNIST writes the first train and test images of the real MNIST
// to dir as raw IDX files.
func writeSmallMNIST(dir string, trainN, testN int) error {
	src, err := mnist.Locate("")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range []struct {
		split string
		n     int
	}{{mnist.Train, trainN}, {mnist.Test, testN}} {
		d, err := mnist.Load(src, s.split)
		if err != nil {
			return err
		}
		images := idxFile(0x803, []uint32{uint32(s.n), 28, 28}, d.Images[:s.n*784])
		labels := idxFile(0x801, []uint32{uint32(s.n)}, d.Labels[:s.n])
		if err := os.WriteFile(filepath.Join(dir, s.split+"-images-idx3-ubyte"), images, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.split+"-labels-idx1-ubyte"), labels, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func idxFile(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

// trainTrials builds the trials from the fixtures, the same in the parent
// and the child; case files go under cases. It returns the number of cases
// of each class too.
func trainTrials(t *testing.T, fixtures, cases string) ([]hostile.Trial, map[hostile.Class]int) {
	t.Helper()
	var trials []hostile.Trial
	counts := map[hostile.Class]int{}
	sample := func(cs []hostile.Case) []hostile.Case {
		if !everyCase() {
			cs = hostile.Sample(cs, hostileSample)
		}
		for c, n := range hostile.Count(cs) {
			counts[c] += n
		}
		return cs
	}
	data := filepath.Join(fixtures, fxData)
	for _, f := range []string{fxLenet, fxMLP, fxTabular, "v1"} {
		path := filepath.Join(fixtures, f)
		if f == "v1" {
			path = "../../checkpoint/testdata/v1-mlp.safetensors"
		}
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := hostile.Checkpoint(good)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Split(f, "/")[0]
		for i, c := range sample(append(cs, hostile.Special()...)) {
			trials = append(trials, checkpointTrials(name, i, c, cases, data, filepath.Join(fixtures, fxCSV))...)
		}
	}
	trials = append(trials, idxTrials(t, fixtures, cases, sample)...)
	trials = append(trials, csvTrials(t, fixtures, cases, sample)...)
	return trials, counts
}

// checkpointTrials are a checkpoint case fed to -resume (which must fail
// unless the case may be accepted) and to -eval (which must fail if every
// use of the file must). The first-format file is only evaluated: it has
// no run options to resume with, and its model is no MNIST model, so
// every one of its trials must fail.
func checkpointTrials(name string, i int, c hostile.Case, cases, data, csv string) []hostile.Trial {
	var out []hostile.Trial
	mnistArgs := []string{"-data", data}
	if name == "tabular" {
		mnistArgs = nil
	}
	if name != "v1" {
		file := filepath.Join(cases, name+"-resume", fmt.Sprint(i), "last.safetensors")
		out = append(out, hostile.Trial{Name: fmt.Sprintf("%s -resume: %s: %s", name, c.Class, c.Name), Case: c, File: file,
			Args: append([]string{"-resume", file, "-quiet"}, mnistArgs...), Watch: filepath.Dir(file), MustFail: c.Scope != hostile.Any})
	}
	file := filepath.Join(cases, name+"-eval", fmt.Sprint(i), "model.safetensors")
	args := append([]string{"-eval", file, "-quiet", "-out", filepath.Dir(file)}, mnistArgs...)
	if name == "tabular" {
		args = append(args, "-csv", csv)
	}
	return append(out, hostile.Trial{Name: fmt.Sprintf("%s -eval: %s: %s", name, c.Class, c.Name), Case: c, File: file,
		Args: args, Watch: filepath.Dir(file), MustFail: c.Scope == hostile.All || name == "v1"})
}

// idxTrials are damaged MNIST files in a data folder whose other three
// files are the good ones: a test file fed to -eval of the lenet5
// checkpoint, a training file to a fresh run.
func idxTrials(t *testing.T, fixtures, cases string, sample func([]hostile.Case) []hostile.Case) []hostile.Trial {
	var out []hostile.Trial
	data := filepath.Join(fixtures, fxData)
	names := []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}
	for _, name := range names {
		good, err := os.ReadFile(filepath.Join(data, name))
		if err != nil {
			t.Fatal(err)
		}
		cs, err := hostile.IDX(good)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range sample(append(cs, hostile.Special()...)) {
			dir := filepath.Join(cases, name, fmt.Sprint(i))
			file := filepath.Join(dir, name)
			args := []string{"-eval", filepath.Join(fixtures, fxLenet), "-data", dir, "-quiet", "-out", dir}
			if strings.HasPrefix(name, "train") {
				args = []string{"-data", dir, "-model", "lenet5", "-limit", "100", "-val", "50", "-batch", "50", "-epochs", "1", "-quiet", "-out", filepath.Join(dir, "run")}
			}
			out = append(out, hostile.Trial{Name: fmt.Sprintf("%s: %s: %s", name, c.Class, c.Name), Case: c, File: file, Args: args, Watch: dir,
				MustFail: c.Scope == hostile.All, Setup: linkOthers(data, dir, name, names)})
		}
	}
	return out
}

// linkOthers makes dir hold links to the good MNIST files but one.
func linkOthers(data, dir, except string, names []string) func() error {
	return func() error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, n := range names {
			if n != except {
				os.Remove(filepath.Join(dir, n))
				if err := os.Symlink(filepath.Join(data, n), filepath.Join(dir, n)); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// csvTrials are damaged CSV files fed to -eval of the tabular checkpoint
// (which must fail when some row cannot be encoded) and to a fresh tabular
// run (which may accept another table: only its safety is checked).
func csvTrials(t *testing.T, fixtures, cases string, sample func([]hostile.Case) []hostile.Case) []hostile.Trial {
	good, err := os.ReadFile(filepath.Join(fixtures, fxCSV))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := hostile.CSV(string(good), "x", "colour")
	if err != nil {
		t.Fatal(err)
	}
	var out []hostile.Trial
	for i, c := range sample(append(cs, hostile.Special()...)) {
		dir := filepath.Join(cases, "csv", fmt.Sprint(i))
		file := filepath.Join(dir, "rows.csv")
		out = append(out, hostile.Trial{Name: fmt.Sprintf("-eval -csv: %s: %s", c.Class, c.Name), Case: c, File: file, Watch: dir,
			Args: []string{"-eval", filepath.Join(fixtures, fxTabular), "-csv", file, "-quiet", "-out", dir}, MustFail: c.Scope == hostile.All},
			hostile.Trial{Name: fmt.Sprintf("-csv run: %s: %s", c.Class, c.Name), Case: c, File: file, Watch: dir,
				Args:     []string{"-csv", file, "-target", "class", "-hidden", "8", "-epochs", "1", "-quiet", "-out", filepath.Join(dir, "run")},
				MustFail: c.Class == hostile.NotRegular})
	}
	return out
}
