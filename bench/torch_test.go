package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTorchEpoch(t *testing.T) {
	// A line as torch_mnist.py prints it (its rec dict), after a stray line.
	out := []byte("note\n" + `{"model": "mlp", "epoch": 1, "batch": 128, "threads": 2, "train_samples": 7680, "train_seconds": 0.337, "train_samples_per_s": 22789.3, "test_acc": null, "test_seconds": 0.0, "train_loss": 0.9123, "optim": "adam", "blas_threads": null}` + "\n")
	e, err := parseTorchEpoch(out)
	if err != nil {
		t.Fatal(err)
	}
	if e.Samples != 7680 || e.SamplesPerSec != 22789.3 || e.Batch != 128 || e.Threads != 2 {
		t.Errorf("parsed %+v", e)
	}
	// 7680 / 22789.3 = 0.33700…, the unrounded train_seconds.
	if s := e.seconds(); s < 0.3369 || s > 0.3371 {
		t.Errorf("seconds %v, want about 0.337", s)
	}
	for _, bad := range []string{"", "no json here\n", `{"model": "mlp"}` + "\n", "{broken\n"} {
		if _, err := parseTorchEpoch([]byte(bad)); err == nil {
			t.Errorf("parseTorchEpoch(%q): no error", bad)
		}
	}
}

func TestParseTorchInfer(t *testing.T) {
	out := []byte("note\n" + `{"model": "mlp", "mode": "infer", "batch": 1, "threads": 2, "calls": 3, "p50_us": 61.5, "samples_per_s": 15000.0, "latencies_us": [60.1, 61.5, 90.0]}` + "\n")
	r, err := parseTorchInfer(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Calls != 3 || r.P50us != 61.5 || r.SamplesPerSec != 15000 || len(r.LatenciesUs) != 3 || r.LatenciesUs[2] != 90 {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []string{"", "{broken\n",
		// A training line, and an inference line missing latencies.
		`{"model": "mlp", "epoch": 1, "train_samples": 10, "train_samples_per_s": 5.0}` + "\n",
		`{"mode": "infer", "calls": 3, "samples_per_s": 5.0, "latencies_us": [1, 2]}` + "\n"} {
		if _, err := parseTorchInfer([]byte(bad)); err == nil {
			t.Errorf("parseTorchInfer(%q): no error", bad)
		}
	}
}

func TestTorchRate(t *testing.T) {
	for _, tc := range []struct {
		samples     int
		short, long []float64
		want        float64
	}{
		// Medians 0.6 and 1.6: 1000 samples in 1 s. The outliers (a slow
		// start-up of 9 s) do not move the medians.
		{1000, []float64{0.6, 9, 0.5}, []float64{1.6, 1.7, 1.5}, 1000},
		{1000, []float64{1}, []float64{1}, 0},
		{1000, []float64{2}, []float64{1}, 0},
		{0, []float64{1}, []float64{2}, 0},
		{1000, nil, nil, 0},
	} {
		if got := torchRate(tc.samples, tc.short, tc.long); got != tc.want {
			t.Errorf("torchRate(%d, %v, %v) = %v, want %v", tc.samples, tc.short, tc.long, got, tc.want)
		}
	}
}

func TestFindTorchScript(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "main")
	deep := filepath.Join(repo, "cmd", "bench")
	peers := filepath.Join(repo, "bench", "peers")
	for _, d := range []string{deep, peers} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findTorchScript(deep); err == nil || !strings.Contains(err.Error(), "-torch-script") {
		t.Errorf("no script yet: error %v", err)
	}
	want := filepath.Join(peers, "torch_mnist.py")
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := findTorchScript(deep); err != nil || got != want {
		t.Errorf("findTorchScript = %q, %v; want %q", got, err, want)
	}
	if _, err := findTorchScript(t.TempDir()); err == nil {
		t.Error("a folder outside any module: no error")
	}
}

func TestTorchEpochSeconds(t *testing.T) {
	for _, tc := range []struct {
		e    torchEpoch
		want float64
	}{
		// A real run: the rate's rounding error, 7680·0.05/22789.3² ≈ 7e-7 s,
		// beats train_seconds' 5e-4 s.
		{torchEpoch{Samples: 7680, SamplesPerSec: 22789.3, Seconds: 0.337}, 7680 / 22789.3},
		// A slow one: 10·0.05/3.3² ≈ 0.046 s, so train_seconds is better.
		{torchEpoch{Samples: 10, SamplesPerSec: 3.3, Seconds: 3.03}, 3.03},
		{torchEpoch{Samples: 10, Seconds: 3.03}, 3.03},
	} {
		if got := tc.e.seconds(); got != tc.want {
			t.Errorf("%+v: seconds %v, want %v", tc.e, got, tc.want)
		}
	}
}

// TestPeerScriptIsInTheRepository: the script that -compare-torch runs by
// default ships with the module.
func TestPeerScriptIsInTheRepository(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p, err := findTorchScript(wd)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(wd), "bench", "peers", "torch_mnist.py"); p != want {
		t.Errorf("findTorchScript = %s, want %s", p, want)
	}
}
