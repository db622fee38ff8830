package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
	evalDir := t.TempDir()
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
}
