package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBadFlagsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"-workloads", "resnet"},
		{"-procs", "0"},
		{"-procs", "1,two"},
		{"-batch", "-1"},
		{"-steps", "0"},
		{"-repeat", "0"},
		{"-calls", "-1"},
		{"-warmup", "-1"},
		{"-blas", "mkl"},
		{"-compare-torch", "-torch-script", "/nonexistent/torch_mnist.py"},
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
	code := run(context.Background(), []string{"-workloads", "mlp", "-data", t.TempDir()}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "MNIST") {
		t.Errorf("exit %d, stderr %q; want 1 and a message about MNIST", code, errb.String())
	}
}

// TestJSON runs the MLP for 2 timed steps on real MNIST (the GoMNIST module)
// and checks the flags reach the result.
func TestJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real MNIST")
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-workloads", "mlp", "-batch", "32", "-procs", "1", "-steps", "2", "-warmup", "0", "-repeat", "1", "-json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r struct {
		Workload string  `json:"workload"`
		Batch    int     `json:"batch"`
		Procs    int     `json:"procs"`
		Steps    int     `json:"steps"`
		Rate     float64 `json:"samples_per_s"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if r.Workload != "mlp" || r.Batch != 32 || r.Procs != 1 || r.Steps != 2 || !(r.Rate > 0) {
		t.Errorf("result %+v", r)
	}
}
