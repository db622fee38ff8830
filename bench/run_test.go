package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
)

// writeMNIST writes the four IDX files of a tiny MNIST (n training images,
// 10 test images, pixels and labels cycling) into a new folder.
func writeMNIST(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for split, count := range map[string]int{"train": n, "t10k": 10} {
		// IDX: magic 0x00000803 then count, rows, cols for images; magic
		// 0x00000801 then count for labels (yann.lecun.com/exdb/mnist).
		var img, lbl bytes.Buffer
		binary.Write(&img, binary.BigEndian, []uint32{0x803, uint32(count), 28, 28})
		binary.Write(&lbl, binary.BigEndian, []uint32{0x801, uint32(count)})
		for i := range count {
			for p := range 28 * 28 {
				img.WriteByte(byte(i*7 + p))
			}
			lbl.WriteByte(byte(i % 10))
		}
		for name, b := range map[string][]byte{split + "-images-idx3-ubyte": img.Bytes(), split + "-labels-idx1-ubyte": lbl.Bytes()} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestRunJSON measures the MLP for 3 steps and checks that its JSON line
// has every field with values that fit together.
func TestRunJSON(t *testing.T) {
	procsBefore, blasBefore := runtime.GOMAXPROCS(0), G.WhichBLAS()
	var stdout, log bytes.Buffer
	cfg := Config{Workloads: []string{"mlp"}, Procs: []int{1}, Steps: 3, Warmup: 1, Repeat: 1, JSON: true,
		Data: writeMNIST(t, 256), Log: &log}
	results, err := Run(context.Background(), cfg, &stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if runtime.GOMAXPROCS(0) != procsBefore || fmt.Sprintf("%T", G.WhichBLAS()) != fmt.Sprintf("%T", blasBefore) {
		t.Errorf("Run left GOMAXPROCS %d and BLAS %T, was %d and %T", runtime.GOMAXPROCS(0), G.WhichBLAS(), procsBefore, blasBefore)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 || len(results) != 1 {
		t.Fatalf("%d results, stdout %q; want one JSON line", len(results), stdout.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("%v: %s", err, lines[0])
	}
	for _, k := range []string{"workload", "batch", "procs", "samples_per_s", "ms_per_step_median", "ms_per_step_p90",
		"allocs_per_step", "bytes_per_step", "peak_rss_mb", "gflops", "flops_per_step", "go_version", "gomaxprocs", "blas"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON line lacks %q: %s", k, lines[0])
		}
	}
	num := func(k string) float64 { v, _ := got[k].(float64); return v }
	// Batch 128 is the mlp workload's own; its FLOPs are TestFLOPsDefaultMLP's.
	if got["workload"] != "mlp" || num("batch") != 128 || num("procs") != 1 || num("gomaxprocs") != 1 ||
		got["blas"] != "tapestry" || got["go_version"] != runtime.Version() || num("flops_per_step") != 410_779_648 {
		t.Errorf("identity fields wrong: %s", lines[0])
	}
	sps, med, p90 := num("samples_per_s"), num("ms_per_step_median"), num("ms_per_step_p90")
	if !(sps > 0) || !(med > 0) || !(p90 >= med) {
		t.Errorf("samples/s %v, median %v ms, p90 %v ms: want positive and p90 ≥ median", sps, med, p90)
	}
	// One repeat of 3 steps: samples/s is 3·128 over their sum, which lies
	// between 3 times the smallest and 3 times the largest step; the median
	// step lies between those too, so the two agree within a factor of 3.
	if r := sps * med / 1000 / 128; r < 1.0/3 || r > 3 {
		t.Errorf("samples/s %v and median step %v ms disagree (ratio %v)", sps, med, r)
	}
	if want := 410_779_648 / (med / 1000) / 1e9; math.Abs(num("gflops")-want) > 1e-9*want {
		t.Errorf("gflops %v, want FLOPs / median step = %v", num("gflops"), want)
	}
	if num("allocs_per_step") < 0 || num("bytes_per_step") < 0 {
		t.Errorf("negative allocations: %s", lines[0])
	}
	if runtime.GOOS == "linux" && !(num("peak_rss_mb") > 0 && num("peak_rss_mb") < 1<<16) {
		t.Errorf("peak RSS %v MiB", num("peak_rss_mb"))
	}
	if runtime.GOOS == "linux" && len(results[0].LoadAvg1) != 2 {
		t.Errorf("load averages %v, want one before and one after", results[0].LoadAvg1)
	}
	if _, ok := got["torch_samples_per_s"]; ok {
		t.Errorf("torch figures without -compare-torch: %s", lines[0])
	}
	if !strings.Contains(log.String(), "samples/s") || !strings.Contains(log.String(), "mlp ") {
		t.Errorf("the table should go to the log in JSON mode; log:\n%s", log.String())
	}
}

// fakeTorch is a stand-in for python running torch_mnist.py: it imports
// "torch" (-c exits 0), checks LD_LIBRARY_PATH, and reports training that
// takes 0.1 s to start and 10 ms per batch, or with --infer calls that
// take 100 µs each but every tenth, 1 ms.
const fakeTorch = `#!/bin/sh
if [ "$1" = "-c" ]; then exit 0; fi
case "$LD_LIBRARY_PATH" in /fake/openblas*) ;; *) echo "LD_LIBRARY_PATH is $LD_LIBRARY_PATH" >&2; exit 3;; esac
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift;; --max-batches) n=$2; shift;; --model) model=$2; shift;; --threads) threads=$2; shift;;
    --epochs|--data) shift;; --no-test) ;; --infer) infer=1;; --calls) calls=$2; shift;; --warmup-calls) shift;;
    --seed) seed=$2; shift;;
    *) echo "unexpected $1" >&2; exit 4;;
  esac
  shift
done
echo '{"info": "setup", "torch": "fake", "seed": '"${seed:-0}"', "blas_libs": ["/fake/libblas.so.3"]}' >&2
if [ -n "$infer" ]; then
awk -v b="$batch" -v n="$calls" -v t="$threads" 'BEGIN {
  printf "{\"model\": \"mlp\", \"mode\": \"infer\", \"batch\": %d, \"threads\": %d, \"calls\": %d, \"p50_us\": 100.0, \"samples_per_s\": %.1f, \"latencies_us\": [", b, t, n, n*b/(n*0.0001 + int(n/10)*0.0009)
  for (i = 0; i < n; i++) printf "%s%s", (i ? ", " : ""), (i % 10 == 9 ? "1000.0" : "100.0")
  print "]}" }'
  exit 0
fi
awk -v b="$batch" -v n="$n" -v m="$model" -v t="$threads" 'BEGIN {
  s = b*n; secs = 0.1 + 0.01*n
  printf "{\"model\": \"%s\", \"epoch\": 1, \"batch\": %d, \"threads\": %d, \"train_samples\": %d, \"train_seconds\": %.3f, \"train_samples_per_s\": %.1f, \"test_acc\": null}\n", m, b, t, s, secs, s/secs }'
`

func TestRunCompareTorch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fake interpreter is a shell script")
	}
	dir := t.TempDir()
	python, script := filepath.Join(dir, "python"), filepath.Join(dir, "torch_mnist.py")
	if err := os.WriteFile(python, []byte(fakeTorch), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, log bytes.Buffer
	cfg := Config{Workloads: []string{"mlp"}, Batch: 16, Procs: []int{1}, Steps: 3, Warmup: 1, Repeat: 2,
		Data: writeMNIST(t, 256), CompareTorch: true, Python: python, TorchScript: script,
		TorchLibPath: "/fake/openblas", Seed: 5, Log: &log}
	results, err := Run(context.Background(), cfg, &stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	r := results[0]
	// The peer got -seed, its setup line is in the result, and a peer that
	// did not load the OpenMP OpenBLAS is said to be off.
	if !strings.Contains(string(r.TorchSetup), `"seed": 5`) {
		t.Errorf("torch_setup %s, want the fake's line with seed 5", r.TorchSetup)
	}
	if !strings.Contains(r.TorchNote, "did not load /usr/lib/x86_64-linux-gnu/openblas-openmp") || !strings.Contains(log.String(), "warning: the PyTorch peer did not load") {
		t.Errorf("torch_note %q, log:\n%s", r.TorchNote, log.String())
	}
	// The fake's long runs take 1+1+3 batches, its short ones 1+1: 3
	// batches of 16 in 3·10 ms beyond its 0.1 s start, 1,600 samples/s
	// (within 1%: the fake rounds its rate to 0.1 as torch_mnist.py does).
	if math.Abs(r.TorchSamplesPerSec-1600) > 16 {
		t.Errorf("torch %v samples/s, want 1600 (the fake's 10 ms per batch of 16)", r.TorchSamplesPerSec)
	}
	// With its start-up: 5·16 samples in 0.15 s.
	if math.Abs(r.TorchSamplesPerSecInclWarmup-80/0.15) > 1 {
		t.Errorf("torch with warm-up %v samples/s, want %v", r.TorchSamplesPerSecInclWarmup, 80/0.15)
	}
	if len(r.TorchShortSeconds) != 2 || len(r.TorchLongSeconds) != 2 {
		t.Errorf("torch runs %v short, %v long; want one of each per repeat", r.TorchShortSeconds, r.TorchLongSeconds)
	}
	if math.Abs(r.Ratio-r.SamplesPerSec/r.TorchSamplesPerSec) > 1e-12 {
		t.Errorf("ratio %v, want %v / %v", r.Ratio, r.SamplesPerSec, r.TorchSamplesPerSec)
	}
	if !strings.Contains(stdout.String(), "torch/s") || !strings.Contains(log.String(), `"torch": "fake"`) {
		t.Errorf("stdout %q lacks the torch column, or log lacks the setup line:\n%s", stdout.String(), log.String())
	}
}

// TestRunInfer predicts with the MLP at batch 1 from one caller and at
// batch 2 from three, beside the fake peer, and checks the inference
// fields of the JSON lines.
func TestRunInfer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fake interpreter is a shell script")
	}
	dir := t.TempDir()
	python, script := filepath.Join(dir, "python"), filepath.Join(dir, "torch_mnist.py")
	if err := os.WriteFile(python, []byte(fakeTorch), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	saved := Workloads
	defer func() { Workloads = saved }()
	Workloads = append(Workloads[:len(Workloads):len(Workloads)],
		Workload{Name: "test-serve-3", Kind: Infer, Preset: "mlp", Batch: 2, Callers: 3, Calls: 7, Torch: "mlp"})
	var stdout, log bytes.Buffer
	cfg := Config{Workloads: []string{"mlp-infer-1", "test-serve-3"}, Procs: []int{1}, Calls: 30, Repeat: 2, JSON: true,
		Data: writeMNIST(t, 256), CompareTorch: true, Python: python, TorchScript: script,
		TorchLibPath: "/fake/openblas", Log: &log}
	results, err := Run(context.Background(), cfg, &stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || len(results) != 2 {
		t.Fatalf("%d results, stdout %q; want two JSON lines", len(results), stdout.String())
	}
	for i, want := range []struct{ batch, callers int }{{1, 1}, {2, 3}} {
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatalf("%v: %s", err, lines[i])
		}
		for _, k := range []string{"workload", "batch", "callers", "p50_us", "p99_us", "max_us", "samples_per_s",
			"torch_p50_us", "torch_samples_per_s", "sgemm_peak_gflops", "peak_fraction"} {
			if _, ok := got[k]; !ok {
				t.Errorf("JSON line lacks %q: %s", k, lines[i])
			}
		}
		r := results[i]
		if r.Kind != "infer" || r.Batch != want.batch || r.Callers != want.callers || r.Steps != 30 || r.Warmup != 20 {
			t.Errorf("result %d: kind %s batch %d callers %d steps %d warmup %d", i, r.Kind, r.Batch, r.Callers, r.Steps, r.Warmup)
		}
		if !(r.P50us > 0 && r.P50us <= r.P99us && r.P99us <= r.MaxUs) || !(r.SamplesPerSec > 0) {
			t.Errorf("result %d: p50 %v p99 %v max %v µs, %v samples/s", i, r.P50us, r.P99us, r.MaxUs, r.SamplesPerSec)
		}
		// Three callers of batch 2 share a Predictor of batch 6: a run
		// holds one to three requests of 2 examples. One caller has none.
		if epr := r.ExamplesPerRun; want.callers == 1 && epr != 0 || want.callers == 3 && !(epr >= 2 && epr <= 6) {
			t.Errorf("result %d: %v examples per run of the shared Predictor", i, epr)
		}
		// The forward pass of the default MLP: 2 FLOPs for each of its
		// 668,672 multiply-adds an example (TestFLOPsDefaultMLP).
		if want := int64(2 * 668_672 * want.batch); r.FLOPsPerStep != want {
			t.Errorf("result %d: flops per call %d, want %d", i, r.FLOPsPerStep, want)
		}
		if g := float64(r.FLOPsPerStep) / float64(r.Batch) * r.SamplesPerSec / 1e9; math.Abs(r.GFLOPs-g) > 1e-9*g ||
			!(r.SGEMMPeakGFLOPs > 0) || math.Abs(r.PeakFraction-r.GFLOPs/r.SGEMMPeakGFLOPs) > 1e-12 {
			t.Errorf("result %d: %v GFLOP/s (want %v), peak %v, fraction %v", i, r.GFLOPs, g, r.SGEMMPeakGFLOPs, r.PeakFraction)
		}
		// Several callers: the peer also runs batches of callers·batch
		// (6), which the fake does 3 times as fast as batches of 2; one
		// caller gets no such figure.
		if want := map[int]float64{1: 0, 3: 3 * r.TorchSamplesPerSec}[want.callers]; math.Abs(r.TorchBatchedSamplesPerSec-want) > 1e-6*want+1e-9 {
			t.Errorf("result %d: torch batched %v samples/s, want %v", i, r.TorchBatchedSamplesPerSec, want)
		}
		// The fake's calls: 27 of 100 µs and 3 of 1 ms per repeat, so the
		// median is 100 µs and the maximum 1 ms.
		if r.TorchP50us != 100 || r.TorchMaxUs != 1000 {
			t.Errorf("result %d: torch p50 %v µs, max %v µs; want 100 and 1000", i, r.TorchP50us, r.TorchMaxUs)
		}
		if wantRate := 30 * float64(want.batch) / (27*100e-6 + 3*1e-3); math.Abs(r.TorchSamplesPerSec-wantRate) > 0.1 ||
			math.Abs(r.Ratio-r.SamplesPerSec/r.TorchSamplesPerSec) > 1e-12 {
			t.Errorf("result %d: torch %v samples/s (want %v), ratio %v", i, r.TorchSamplesPerSec, wantRate, r.Ratio)
		}
	}
	if !strings.Contains(log.String(), "callers") || !strings.Contains(log.String(), "SGEMM peak") {
		t.Errorf("log lacks the inference table or the peak:\n%s", log.String())
	}
}

// TestRunEpoch trains one epoch of the tiny MNIST (256 images less the
// tenth held out, in batches of 16) and checks its row.
func TestRunEpoch(t *testing.T) {
	var stdout, log bytes.Buffer
	cfg := Config{Workloads: []string{"mlp-epoch"}, Batch: 16, Procs: []int{1}, Repeat: 1, Data: writeMNIST(t, 256), Log: &log}
	results, err := Run(context.Background(), cfg, &stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	r := results[0]
	// 256 − 25 = 231 images: 14 whole batches of 16.
	if r.Kind != "epoch" || r.Steps != 14 || r.Batch != 16 || !(r.SamplesPerSec > 0) || !(r.MsPerStepMedian > 0) {
		t.Errorf("result %+v", r)
	}
}

func TestRunErrors(t *testing.T) {
	data := writeMNIST(t, 64)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad config", Config{Workloads: []string{"resnet"}, Data: data}, "unknown workload"},
		{"no data", Config{Workloads: []string{"mlp"}, Data: t.TempDir()}, "MNIST"},
		// The mlp's batch of 128 is more than the 64 images.
		{"batch too large", Config{Workloads: []string{"mlp"}, Data: data, Steps: 1, Repeat: 1}, "batch size 128"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Config{Workloads: []string{"mlp"}, Batch: 16, Data: data, Steps: 1, Repeat: 1}, &bytes.Buffer{}); err == nil {
		t.Error("a cancelled context should stop Run")
	}
}

// TestRunCompareTorchWithoutTorch: asked for and not there is an error,
// not a table without its other side.
func TestRunCompareTorchWithoutTorch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fake interpreter is a shell script")
	}
	dir := t.TempDir()
	python, script := filepath.Join(dir, "python"), filepath.Join(dir, "torch_mnist.py")
	if err := os.WriteFile(python, []byte("#!/bin/sh\necho 'No module named torch' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, log bytes.Buffer
	cfg := Config{Workloads: []string{"mlp"}, Batch: 16, Procs: []int{1}, Steps: 2, Warmup: 0, Repeat: 1,
		Data: writeMNIST(t, 64), CompareTorch: true, Python: python, TorchScript: script, Log: &log}
	_, err := Run(context.Background(), cfg, &stdout)
	if err == nil || !strings.Contains(err.Error(), "-compare-torch") || !strings.Contains(err.Error(), "PyTorch is not available") {
		t.Errorf("Run without torch: %v", err)
	}
}
