//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/train"
)

// listDir returns the names under dir, sorted, or nil if it does not exist.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && path != dir {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// interruptedRun trains the quick MLP until batch 4 of epoch 2 and returns
// its run folder, holding last.safetensors there.
func interruptedRun(t *testing.T) (dir, last string) {
	t.Helper()
	o := quick(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.onStep = func(s train.StepInfo) {
		if s.Epoch == 2 && s.Batch == 4 {
			cancel()
		}
	}
	if _, err := Run(ctx, o, io.Discard, io.Discard); !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("%v, want an interruption", err)
	}
	return o.Out, filepath.Join(o.Out, "last.safetensors")
}

// TestResumeValidatesAndFailsClean edits a checkpoint as an attacker would
// (resaved, so its digest covers the edit): each edit is refused before
// training, with an error naming the checkpoint and the field, and the run
// folder is left exactly as it was.
func TestResumeValidatesAndFailsClean(t *testing.T) {
	dir, last := interruptedRun(t)
	good, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	for _, c := range []struct {
		name string
		edit func(ck *checkpoint.Checkpoint)
		o    func(o *Options)
		want string
	}{
		{"a negative learning rate", func(ck *checkpoint.Checkpoint) { setOption(ck, `"lr":0`, `"lr":-1`) }, nil,
			"metadata field train.options: learning rate -1 must be a positive number"},
		{"an unknown option", func(ck *checkpoint.Checkpoint) { setOption(ck, `{`, `{"zzz":1,`) }, nil,
			`metadata field train.options is not a run's options: json: unknown field "zzz"`},
		{"another preset", func(ck *checkpoint.Checkpoint) { setOption(ck, `"model":"mlp"`, `"model":"lenet5"`) }, nil,
			`metadata field arch.spec is not the architecture its options (train.options) build for model "lenet5"`},
		{"an optimizer its options do not make", func(ck *checkpoint.Checkpoint) { ck.Optimizer.Beta1 = 0.5 }, nil,
			"metadata field optimizer.config is not the optimizer its options (train.options) make"},
		{"a batch size past the data", func(ck *checkpoint.Checkpoint) { setOption(ck, `"batch":100`, `"batch":100000`) }, nil,
			"batch size 100000 is larger than the 1500 training images"},
		{"a position past the end of the epoch", nil, func(o *Options) { o.Data = smallData(t, 800) },
			"metadata field train.position is batch 4 of epoch 2, past the end of the epoch's 3 batches"},
		{"a bad shuffle state", func(ck *checkpoint.Checkpoint) { ck.Meta["rng.shuffle"] = "AAAA" }, nil,
			"rng.shuffle state (metadata field rng.shuffle) is missing or bad"},
		{"a missing optimizer tensor", func(ck *checkpoint.Checkpoint) { delete(ck.OptState.Tensors, "adam.m/fc1.bias") }, nil,
			`no saved optimizer tensor "adam.m/fc1.bias"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(last, good, 0o644); err != nil {
				t.Fatal(err)
			}
			if c.edit != nil {
				ck, err := checkpoint.Load(last)
				if err != nil {
					t.Fatal(err)
				}
				c.edit(ck)
				if err := ck.Save(last, graph.Float32); err != nil {
					t.Fatal(err)
				}
			}
			o := resumeOptionsFor(last, 0)
			if c.o != nil {
				c.o(&o)
			}
			_, err := Run(context.Background(), o, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), last) {
				t.Errorf("%v, want an error naming %s and containing %q", err, last, c.want)
			}
			if after := listDir(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("the run folder went from %v to %v", before, after)
			}
		})
	}
}

func setOption(ck *checkpoint.Checkpoint, old, new string) {
	ck.Meta[metaOptions] = strings.Replace(ck.Meta[metaOptions], old, new, 1)
}

// smallData writes a data folder of the real MNIST's first n training and
// 100 test images.
func smallData(t *testing.T, n int) string {
	dir := t.TempDir()
	if err := writeSmallMNIST(dir, n, 100); err != nil {
		t.Skip(err)
	}
	return dir
}

// TestFailedStartLeavesNothing: a fresh run that fails before it trains
// creates no run folder, nor the folders above it.
func TestFailedStartLeavesNothing(t *testing.T) {
	root := t.TempDir()
	empty := t.TempDir()
	for _, args := range [][]string{
		{"-data", empty, "-out", filepath.Join(root, "a", "b")},
		{"-limit", "100", "-val", "50", "-epochs", "1", "-dot", filepath.Join(root, "no", "such", "dir", "g.dot"), "-out", filepath.Join(root, "c")},
		{"-csv", filepath.Join(empty, "missing.csv"), "-target", "y", "-out", filepath.Join(root, "d")},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 1 {
			t.Errorf("%v: exit %d (%s), want 1", args, code, errb.String())
		}
		if left := listDir(t, root); len(left) != 0 {
			t.Errorf("%v: left %v behind", args, left)
		}
	}
}

// TestNonRegularFilesFailFast: a FIFO given to -resume, a folder given to
// -eval, a FIFO as an MNIST file: each is refused at once by what it is,
// never waited on.
func TestNonRegularFilesFailFast(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ck.safetensors")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	data := smallData(t, 200)
	badData := t.TempDir()
	for _, n := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"} {
		os.Symlink(filepath.Join(data, n), filepath.Join(badData, n))
	}
	if err := syscall.Mkfifo(filepath.Join(badData, "t10k-images-idx3-ubyte"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, last := interruptedRun(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-resume", fifo}, fifo + ": is a named pipe (FIFO), not a regular file"},
		{[]string{"-eval", dir}, dir + ": is a directory"},
		{[]string{"-eval", last, "-data", badData, "-quiet"}, "t10k-images-idx3-ubyte: is a named pipe (FIFO), not a regular file"},
	} {
		done := make(chan struct{})
		var errb bytes.Buffer
		code := 0
		go func() {
			defer close(done)
			code = run(context.Background(), c.args, io.Discard, &errb)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: still running after 10s", c.args)
		}
		if code != 1 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, %q; want 1 and %q", c.args, code, errb.String(), c.want)
		}
	}
}

// startChild runs the command in a child process (TestHelperMain) with a
// phase of start-up made slow (TAPESTRY_TRAIN_SLOW: the phase's first
// words, or "" for none), and returns it once the child says the phase
// waitFor has begun.
func startChild(t *testing.T, args []string, slow, waitFor string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$")
	cmd.Env = append(os.Environ(), "TAPESTRY_TRAIN_MAIN="+strings.Join(args, " "), "TAPESTRY_TRAIN_SLOW="+slow)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, eof: make(chan struct{})}
	began := make(chan bool, 1)
	go func() {
		defer close(c.eof)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			if !seen && strings.HasPrefix(sc.Text(), "phase: "+waitFor) {
				seen = true
				began <- true
			}
			c.stderr.WriteString(sc.Text() + "\n")
		}
		if !seen {
			began <- false
		}
	}()
	select {
	case ok := <-began:
		if !ok {
			<-c.eof
			cmd.Wait()
			t.Fatalf("the child ended before %q began:\n%s", waitFor, c.stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%q did not begin in 60s", waitFor)
	}
	return c
}

// child is a command started by startChild. Its stderr is read to the end
// (eof closed) before cmd.Wait is called: Wait closes the pipe, and a Wait
// that wins the race loses the child's last lines, which are the ones the
// test asserts (os/exec: "it is incorrect to call Wait before all reads
// from the pipe have completed").
type child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer // complete only once eof is closed
	eof    chan struct{}
}

// waitSignalled sends sig and waits for the child: it must exit with
// status 130 within a few seconds.
func waitSignalled(t *testing.T, c *child, sig os.Signal) {
	t.Helper()
	began := time.Now()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.eof:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.eof
		c.cmd.Wait()
		t.Fatalf("still running 10s after %v", sig)
	}
	var exit *exec.ExitError
	if err := c.cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("exit %v, want status 130", err)
	}
	if took := time.Since(began); took > 5*time.Second { // generous: CI machines are shared
		t.Errorf("took %v to exit after %v", took, sig)
	}
}

// TestSignalsDuringStartUp signals real processes while they load a
// checkpoint (made slow by a hook), read the data, and choose a tabular
// run's hidden layers by cross-validation (slow on its own): each exits at
// once with status 130, says what it was doing and that nothing was saved,
// and leaves its run folder as it was.
func TestSignalsDuringStartUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir, last := interruptedRun(t)
	before := listDir(t, dir)
	for _, c := range []struct {
		name, slow string
		args       []string
		sig        os.Signal
		want       string
		watch      string
	}{
		{"SIGTERM loading a checkpoint", "loading", []string{"-resume", last}, syscall.SIGTERM,
			"train: interrupted while loading " + last + "; nothing was saved", dir},
		{"SIGINT evaluating", "loading", []string{"-eval", last, "-quiet"}, os.Interrupt,
			"train: interrupted while loading " + last + "; nothing was saved", dir},
		{"SIGINT reading the data", "reading the data", []string{"-limit", "100", "-epochs", "1", "-out", filepath.Join(t.TempDir(), "run")}, os.Interrupt,
			"train: interrupted while reading the data; nothing was saved", ""},
		{"SIGTERM cross-validating", "", []string{"-csv", writeTable(t, 400), "-target", "class", "-out", filepath.Join(t.TempDir(), "run")}, syscall.SIGTERM,
			"train: interrupted while reading the data and cross-validating its hidden layers; nothing was saved", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			waitFor := c.slow
			if waitFor == "" {
				waitFor = "reading the data"
			}
			ch := startChild(t, c.args, c.slow, waitFor)
			if c.slow == "" {
				time.Sleep(500 * time.Millisecond) // well into the cross-validation
			}
			waitSignalled(t, ch, c.sig)
			if !strings.Contains(ch.stderr.String(), c.want) {
				t.Errorf("stderr %q, want %q", ch.stderr.String(), c.want)
			}
			if c.watch != "" && strings.Join(listDir(t, c.watch), " ") != strings.Join(before, " ") {
				t.Errorf("the run folder went from %v to %v", before, listDir(t, c.watch))
			}
			for i, a := range c.args {
				if a == "-out" {
					if _, err := os.Stat(c.args[i+1]); err == nil {
						t.Errorf("the run folder %s was made", c.args[i+1])
					}
				}
			}
		})
	}
}
