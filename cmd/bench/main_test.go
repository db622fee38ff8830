package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/bench"
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
		{"-stalls", "-1s"},
		{"-workloads", ","},
		{"-workloads", "mlp-infer-1", "-steps", "7"},
		{"-workloads", "mlp-epoch", "-warmup", "3"},
		{"-workloads", "mlp-infer-1,mlp-serve-8", "-batch", "32"},
		{"-workloads", "mlp,cnn", "-calls", "100"},
		{"-workloads", "mlp-infer-16", "-batch", "32"},
		{"-workloads", "mlp-serve-0"},
		{"-python", "/bin/false"},
		{"-torch-script", "/etc/passwd"},
		{"-stalls", "1s", "-workloads", "mlp"},
		{"-stalls", "1s", "-compare-torch"},
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
	r := runJSON(t, "-workloads", "mlp", "-batch", "32", "-procs", "1", "-steps", "2", "-warmup", "0", "-repeat", "1", "-json")
	if r.Workload != "mlp" || r.Batch != 32 || r.Procs != 1 || r.Steps != 2 || !(r.SamplesPerSec > 0) {
		t.Errorf("result %+v", r)
	}
}

// TestSizedInferenceJSON runs a serving workload whose name gives its
// callers, with -calls, and checks that both reach the result.
func TestSizedInferenceJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("predicts real MNIST images")
	}
	r := runJSON(t, "-workloads", "mlp-serve-3", "-calls", "7", "-repeat", "1", "-json")
	if r.Workload != "mlp-serve-3" || r.Batch != 1 || r.Callers != 3 || r.PredictorBatch != 3 || r.Steps != 7 ||
		!(r.ExamplesPerRun >= 1 && r.ExamplesPerRun <= 3) {
		t.Errorf("result %+v", r)
	}
}

// runJSON runs the command with args, which name one workload and -json,
// and decodes its one line of output.
func runJSON(t *testing.T, args ...string) bench.Result {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r bench.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	return r
}

// TestStallsJSON runs the stall meter briefly at two GOMAXPROCS values: one
// JSON line each, with the duration and processors asked for.
func TestStallsJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-stalls", "300ms", "-procs", "1,2", "-json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines, want 2:\n%s", len(lines), out.String())
	}
	for i, line := range lines {
		var r struct {
			Seconds float64   `json:"seconds"`
			Procs   int       `json:"procs"`
			Longest float64   `json:"longest_stall_us"`
			Windows []float64 `json:"window_longest_us"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Procs != i+1 || r.Seconds < 0.3 || r.Seconds > 5 || len(r.Windows) != 1 || r.Longest != r.Windows[0] {
			t.Errorf("line %d: %+v", i, r)
		}
	}
	if !strings.Contains(errb.String(), "stalls GOMAXPROCS 2 over 0.3 s: longest") {
		t.Errorf("stderr %q", errb.String())
	}
}
