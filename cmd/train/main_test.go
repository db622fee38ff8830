package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/safetensors"
)

func TestBadFlagsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"-epochs", "0"},
		{"-batch", "-1"},
		{"-lr", "-0.1"},
		{"-lr", "NaN"},
		{"-optimizer", "lbfgs"},
		{"-model", "resnet"},
		{"-val", "60000"},
		{"-resume", "x.safetensors", "-lr", "0.1"},
		{"-schedule", "exponential"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
		if errb.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
}

func TestMissingDataExit1(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-data", t.TempDir(), "-epochs", "1"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "train") {
		t.Errorf("exit %d, stderr %q; want 1 and a message", code, errb.String())
	}
}

// TestEndToEnd trains the default MLP on 3,000 real MNIST images for two
// epochs and checks the last line's form and an accuracy far above chance
// (10%); the full default run reaches 98%.
func TestEndToEnd(t *testing.T) {
	var out, errb bytes.Buffer
	dir, files := t.TempDir(), t.TempDir()
	dot, export := filepath.Join(files, "graph.dot"), filepath.Join(files, "torch.safetensors")
	code := run(context.Background(), []string{"-limit", "3000", "-epochs", "2", "-val", "1000", "-out", dir, "-dot", dot, "-export-torch", export}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^test accuracy: (\d+\.\d\d)% \((\d+)/10000\)$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q is not of the form 'test accuracy: 98.37%% (9837/10000)'", last)
	}
	acc, _ := strconv.ParseFloat(m[1], 64)
	if acc < 85 {
		t.Errorf("accuracy %.2f%% after 2 epochs on 3,000 images, want ≥ 85%%", acc)
	}
	if !strings.Contains(errb.String(), "epoch 2/2") {
		t.Errorf("no per-epoch lines on stderr: %q", errb.String())
	}
	for _, f := range []string{"config.json", "metrics.jsonl", "last.safetensors", "best.safetensors", "curves.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	if b, err := os.ReadFile(dot); err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), "digraph") {
		t.Errorf("-dot wrote %d bytes (%v), want a digraph", len(b), err)
	}
	if _, err := safetensors.ReadFile(export); err != nil {
		t.Errorf("-export-torch: %v", err)
	}

	// -eval on the best checkpoint: the report, the heatmap, the same accuracy line form.
	out.Reset()
	evalDir := filepath.Join(t.TempDir(), "new", "folder") // created as a run folder is
	if code := run(context.Background(), []string{"-eval", filepath.Join(dir, "best.safetensors"), "-out", evalDir}, &out, &errb); code != 0 {
		t.Fatalf("-eval exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"precision", "recall", "true \\ pred", "test accuracy: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-eval output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(evalDir, "confusion.png")); err != nil {
		t.Errorf("-eval: %v", err)
	}

	// The PyTorch export of the final weights evaluates, given its
	// architecture, as the last checkpoint does; a tapestry checkpoint
	// refuses -model.
	lastLine := func(args ...string) string {
		out.Reset()
		if code := run(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		l := strings.Split(strings.TrimSpace(out.String()), "\n")
		return l[len(l)-1]
	}
	torch := lastLine("-eval", export, "-model", "mlp", "-quiet", "-out", t.TempDir())
	if want := lastLine("-eval", filepath.Join(dir, "last.safetensors"), "-quiet", "-out", t.TempDir()); torch != want {
		t.Errorf("-eval of the PyTorch export: %q, of last.safetensors: %q", torch, want)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"-eval", filepath.Join(dir, "best.safetensors"), "-model", "cnn"}, &out, &errb); code != 2 {
		t.Errorf("-model with a tapestry checkpoint: exit %d (%s), want 2", code, errb.String())
	}
}

// TestHelperMain runs main when TAPESTRY_TRAIN_MAIN is set, so that
// TestSIGINT can signal a real process.
func TestHelperMain(t *testing.T) {
	if os.Getenv("TAPESTRY_TRAIN_MAIN") == "" {
		t.Skip("helper process for TestSIGINT")
	}
	args := strings.Split(os.Getenv("TAPESTRY_TRAIN_MAIN"), " ")
	os.Args = append([]string{"train"}, args...)
	// Each phase of start-up says it has begun, and the one named by
	// TAPESTRY_TRAIN_SLOW takes an hour, so that a test can signal the
	// process there (TestSignalsDuringStartUp).
	slow := os.Getenv("TAPESTRY_TRAIN_SLOW")
	loadHook = func(what string) {
		fmt.Fprintf(os.Stderr, "phase: %s\n", what)
		if slow != "" && strings.HasPrefix(what, slow) {
			time.Sleep(time.Hour)
		}
	}
	main()
}

// TestSIGINT interrupts a real training process: it must finish the step,
// save last.safetensors, exit with status 130 and say how to resume; the
// resume must then run to the end.
func TestSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$")
	cmd.Env = append(os.Environ(), "TAPESTRY_TRAIN_MAIN=-limit 20000 -epochs 3 -val 1000 -batch 64 -out "+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once training is under way (the run folder has config.json).
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130; stderr:\n%s", err, stderr.String())
	}
	last := filepath.Join(dir, "last.safetensors")
	if !strings.Contains(stderr.String(), "resume with: go run ./cmd/train -resume "+last) {
		t.Fatalf("stderr does not say how to resume:\n%s", stderr.String())
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-resume", last, "-quiet"}, &out, &errb); code != 0 {
		t.Fatalf("resume exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "test accuracy: ") {
		t.Errorf("resumed run printed %q", out.String())
	}
}
