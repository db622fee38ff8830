package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
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
	code := run(context.Background(), []string{"-limit", "3000", "-epochs", "2", "-val", "1000", "-out", t.TempDir()}, &out, &errb)
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
}
