package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
)

// Result is what Run measured for one workload at one GOMAXPROCS. Figures
// over steps (or calls) pool the timed steps of every repeat; figures per
// repeat are medians over the repeats.
type Result struct {
	Workload string `json:"workload"`
	// Kind is "train", "epoch" or "infer" (Kind).
	Kind  string `json:"kind"`
	Batch int    `json:"batch"`
	// Callers is the number of goroutines predicting at once (Infer), 0
	// for training. PredictorBatch and Programs are the batch and the
	// programs of the graph.Predictor they share, when there are several.
	Callers        int `json:"callers"`
	PredictorBatch int `json:"predictor_batch,omitempty"`
	Programs       int `json:"programs,omitempty"`
	// ExamplesPerRun is the median over repeats of the examples the shared
	// Predictor ran per program run (graph.PredictorStats): how well it
	// gathered the callers' requests into batches.
	ExamplesPerRun float64 `json:"examples_per_run,omitempty"`
	Procs          int     `json:"procs"`
	// Steps and Warmup are the timed and untimed steps of each repeat: for
	// Infer, the calls of each caller; for Epoch, the epoch's batches and 0.
	Steps  int `json:"steps"`
	Warmup int `json:"warmup"`
	Repeat int `json:"repeat"`
	// SamplesPerSec is the median over repeats of the examples of the
	// timed steps / their wall time (Epoch: the trainer's own figure for
	// the epoch); SamplesPerSecRepeats holds each repeat's.
	SamplesPerSec        float64   `json:"samples_per_s"`
	SamplesPerSecRepeats []float64 `json:"samples_per_s_repeats"`
	// MsPerStepMedian and MsPerStepP90 are the median and 90th percentile
	// of the durations of all timed steps (Infer: calls) of all repeats.
	MsPerStepMedian float64 `json:"ms_per_step_median"`
	MsPerStepP90    float64 `json:"ms_per_step_p90"`
	// P50us, P99us and MaxUs are the median, 99th percentile and maximum
	// latency of the calls of an Infer workload, every caller's and every
	// repeat's pooled, in microseconds.
	P50us float64 `json:"p50_us,omitempty"`
	P99us float64 `json:"p99_us,omitempty"`
	MaxUs float64 `json:"max_us,omitempty"`
	// AllocsPerStep and BytesPerStep are the median over repeats of the
	// runtime.MemStats Mallocs and TotalAlloc deltas over the timed steps,
	// divided by the steps (Infer: by the calls).
	AllocsPerStep float64 `json:"allocs_per_step"`
	BytesPerStep  float64 `json:"bytes_per_step"`
	// PeakRSSMB is VmHWM (MiB) after the workload's repeats. It is reset
	// before the workload when the kernel allows it (PeakRSSReset).
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	PeakRSSReset bool    `json:"peak_rss_reset"`
	// FLOPsPerStep counts the matrix multiplies and convolutions of a step
	// (see FLOPs; for Infer, of one call's forward pass alone). GFLOPs is
	// FLOPsPerStep over the median step time for training, and the
	// forward FLOPs of the examples predicted per second for Infer.
	FLOPsPerStep int64   `json:"flops_per_step"`
	GFLOPs       float64 `json:"gflops"`
	// SGEMMPeakGFLOPs is the machine's SGEMM peak at this GOMAXPROCS,
	// measured by Run before the first workload (sgemmPeak), and
	// PeakFraction is GFLOPs over it: how much of what the cores can
	// multiply the workload uses.
	SGEMMPeakGFLOPs float64 `json:"sgemm_peak_gflops"`
	PeakFraction    float64 `json:"peak_fraction"`
	// LoadAvg1 is the machine's 1-minute load average before and after the
	// workload (Linux): above the number of CPUs, other jobs took part of
	// the machine during the measurement.
	LoadAvg1 []float64 `json:"load_avg_1m,omitempty"`
	// StealFraction is the share of the machine's CPU time during the
	// workload that the hypervisor gave to other virtual machines
	// (/proc/stat, Linux): a virtual CPU stolen for milliseconds stalls
	// whatever runs on it, which no program can prevent.
	StealFraction float64 `json:"steal_fraction"`
	GoVersion     string  `json:"go_version"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
	BLAS          string  `json:"blas"`
	Optimizer     string  `json:"optimizer,omitempty"`

	// TorchSamplesPerSec is the PyTorch peer's speed. For Train, over the
	// timed batches alone: Steps·Batch / (median TorchLongSeconds − median
	// TorchShortSeconds), where each repeat runs the peer twice, for
	// 1+Warmup batches (short) and for 1+Warmup+Steps (long), so that its
	// start-up batches drop out as the Go side's warm-up does. For Epoch,
	// the median of the peer's own figure for the same number of batches.
	// For Infer, the median of each repeat's calls·batch over the wall
	// time of its timed calls, one process calling alone. Ratio is
	// SamplesPerSec over it. Both are 0 (omitted) without a comparison.
	// TorchSamplesPerSecInclWarmup is the median of the peer's own figure
	// for its long runs, which includes their first 1+Warmup batches.
	TorchSamplesPerSec           float64   `json:"torch_samples_per_s,omitempty"`
	TorchSamplesPerSecInclWarmup float64   `json:"torch_samples_per_s_incl_warmup,omitempty"`
	TorchShortSeconds            []float64 `json:"torch_short_seconds,omitempty"`
	TorchLongSeconds             []float64 `json:"torch_long_seconds,omitempty"`
	// TorchBatchedSamplesPerSec, for a workload of several callers, is
	// the peer predicting batches of as many examples as there are
	// callers: a PyTorch server that batches its requests, where
	// TorchSamplesPerSec is one that does not (the target).
	TorchBatchedSamplesPerSec float64 `json:"torch_batched_samples_per_s,omitempty"`
	// TorchP50us, TorchP99us and TorchMaxUs are the peer's call latencies
	// (model(x) under torch.inference_mode()), every repeat's pooled.
	TorchP50us float64 `json:"torch_p50_us,omitempty"`
	TorchP99us float64 `json:"torch_p99_us,omitempty"`
	TorchMaxUs float64 `json:"torch_max_us,omitempty"`
	Ratio      float64 `json:"ratio_tapestry_torch,omitempty"`
	// TorchNote says why there is no comparison, or what was odd about it.
	TorchNote string `json:"torch_note,omitempty"`
	// TorchSetup is the peer's own account of its environment, its first
	// repeat's: torch version, threads, the BLAS libraries it loaded.
	TorchSetup json.RawMessage `json:"torch_setup,omitempty"`
}

// Run measures each workload of cfg at each GOMAXPROCS and writes a table
// row, or with cfg.JSON a JSON line, to stdout as each finishes. It sets the
// process's BLAS and GOMAXPROCS while it runs and restores them after, so it
// must not run beside other Gorgonia work. When ctx is done, it stops after
// the step in flight and returns ctx's error.
func Run(ctx context.Context, cfg Config, stdout io.Writer) ([]Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	dir, err := mnist.Locate(c.Data)
	if err != nil {
		return nil, err
	}
	train, err := mnist.Load(dir, mnist.Train)
	if err != nil {
		return nil, err
	}

	prevBLAS := G.WhichBLAS()
	defer G.Use(prevBLAS)
	if err := blas.Use(c.BLAS); err != nil {
		return nil, err
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))

	var peer *torchPeer
	if c.CompareTorch {
		// Asked for and not there is an error: a comparison without its
		// other side is not one.
		if peer, err = newTorchPeer(ctx, c, dir); err != nil {
			return nil, errors.Wrap(err, "-compare-torch")
		}
	}

	table := stdout
	if c.JSON {
		table = c.Log
	}
	peaks := map[int]float64{}
	header := ""
	var results []Result
	for _, name := range c.Workloads {
		w, _ := LookupWorkload(name)
		for _, procs := range c.Procs {
			if _, ok := peaks[procs]; !ok {
				runtime.GOMAXPROCS(procs)
				peaks[procs] = sgemmPeak()
				fmt.Fprintf(c.Log, "bench: SGEMM peak at GOMAXPROCS %d: %.1f GFLOP/s (package blas, %d³, best of %d)\n",
					procs, peaks[procs], peakSize, peakRuns)
			}
			r, err := runWorkload(ctx, c, w, procs, train, peer)
			if err != nil {
				return results, errors.Wrapf(err, "workload %s (GOMAXPROCS %d)", name, procs)
			}
			r.SGEMMPeakGFLOPs = peaks[procs]
			if r.SGEMMPeakGFLOPs > 0 {
				r.PeakFraction = r.GFLOPs / r.SGEMMPeakGFLOPs
			}
			results = append(results, r)
			if h := tableHeader(w.Kind, peer != nil); h != header {
				fmt.Fprintln(table, h)
				header = h
			}
			fmt.Fprintln(table, tableRow(r, peer != nil))
			if c.JSON {
				line, err := json.Marshal(r)
				if err != nil {
					return results, errors.Wrapf(err, "encoding the result of %s", name)
				}
				fmt.Fprintf(stdout, "%s\n", line)
			}
		}
	}
	return results, nil
}

// errNoTorch marks a PyTorch that cannot be imported: the comparison is
// skipped, not failed.
var errNoTorch = errors.New("PyTorch is not available")

func newTorchPeer(ctx context.Context, c Config, dataDir string) (*torchPeer, error) {
	script := c.TorchScript
	p := &torchPeer{python: c.Python, libPath: c.TorchLibPath, data: dataDir, seed: c.Seed}
	if err := p.available(ctx); err != nil {
		return nil, errors.Wrap(errNoTorch, err.Error())
	}
	if script == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, errors.Wrap(err, "finding the PyTorch peer script")
		}
		if script, err = findTorchScript(wd); err != nil {
			return nil, err
		}
	}
	p.script = script
	return p, nil
}

// runWorkload measures w at procs: cfg.Repeat repeats, each followed by the
// PyTorch peer's runs when peer is not nil.
func runWorkload(ctx context.Context, c Config, w Workload, procs int, train *mnist.Dataset, peer *torchPeer) (Result, error) {
	r, arch, err := newResult(c, w, procs, train)
	if err != nil {
		return r, err
	}
	var epochData *mnist.Dataset
	var inputs []float32
	switch w.Kind {
	case Epoch:
		if epochData, err = epochSet(train); err != nil {
			return r, err
		}
		if r.Steps = epochData.Len() / r.Batch; r.Steps < 1 {
			return r, errors.Errorf("the %d training images of an epoch make no whole batch of %d", epochData.Len(), r.Batch)
		}
	case Infer:
		inputs = inferInputs(train)
	}
	if peer != nil {
		long := 1 + c.Warmup + c.Steps
		switch {
		case w.Torch == "":
			r.TorchNote = "no PyTorch counterpart in torch_mnist.py"
			peer = nil
		case w.Kind == Train && long > train.Len()/r.Batch:
			return r, errors.Errorf("comparing with PyTorch: 1+warmup+steps = %d batches is more than the %d whole batches of %d in one epoch, all torch_mnist.py runs",
				long, train.Len()/r.Batch, r.Batch)
		}
	}
	runtime.GOMAXPROCS(procs)
	r.GOMAXPROCS = runtime.GOMAXPROCS(0)
	if l, err := loadAvg1(); err == nil {
		r.LoadAvg1 = append(r.LoadAvg1, l)
		if peer != nil && procs > 1 && l > float64(runtime.NumCPU()) {
			fmt.Fprintf(c.Log, "bench: warning: load average %.2f on %d CPUs: PyTorch's OpenMP threads stall when another job takes their CPU, "+
				"which makes its figure at %d threads far too low; compare at -procs 1 too\n", l, runtime.NumCPU(), procs)
		}
	}
	runtime.GC()
	r.PeakRSSReset = resetPeakRSS()
	cpu0, cpuErr := readCPUTimes()
	var s samples
	for rep := 1; rep <= c.Repeat; rep++ {
		var err error
		switch w.Kind {
		case Train:
			err = s.goRepeat(ctx, c, w, arch, &r, train, rep)
		case Epoch:
			err = s.epochRepeat(ctx, c, w, arch, &r, epochData, rep)
		case Infer:
			err = s.inferRepeat(ctx, c, w, arch, &r, inputs, rep)
		}
		if err != nil {
			return r, err
		}
		if peer != nil {
			if err := s.torchRepeat(ctx, c, w, peer, &r, rep); err != nil {
				return r, err
			}
		}
	}
	if l, err := loadAvg1(); err == nil && len(r.LoadAvg1) == 1 {
		r.LoadAvg1 = append(r.LoadAvg1, l)
	}
	if cpu1, err := readCPUTimes(); err == nil && cpuErr == nil {
		if r.StealFraction = stealFraction(cpu0, cpu1); r.StealFraction > 0.05 {
			fmt.Fprintf(c.Log, "bench: warning: the hypervisor took %.0f%% of the CPU time during %s: stalls of milliseconds in every figure\n",
				100*r.StealFraction, w.Name)
		}
	}
	if r.PeakRSSMB, err = peakRSSMB(); err != nil {
		fmt.Fprintf(c.Log, "bench: %v\n", err)
	}
	s.summarize(&r, w, c, peer != nil)
	return r, nil
}

// newResult checks the workload's settings and starts its Result: batch,
// FLOPs, optimizer.
func newResult(c Config, w Workload, procs int, train *mnist.Dataset) (Result, graph.Arch, error) {
	arch, err := models.Preset(w.preset())
	if err != nil {
		return Result{}, arch, err
	}
	batch := w.Batch
	if c.Batch > 0 && w.Kind != Infer {
		batch = c.Batch
	}
	if batch > train.Len() {
		return Result{}, arch, errors.Errorf("batch size %d is larger than the %d training images", batch, train.Len())
	}
	count := FLOPs
	if w.Kind == Infer {
		count = ForwardFLOPs
	}
	flops, skipped, err := count(arch, batch)
	if err != nil {
		return Result{}, arch, err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(c.Log, "bench: %s: FLOPs count 0 for layers of types %v\n", w.Name, skipped)
	}
	r := Result{Workload: w.Name, Kind: w.Kind.String(), Batch: batch, Procs: procs, Steps: c.Steps, Warmup: c.Warmup, Repeat: c.Repeat,
		FLOPsPerStep: flops, GoVersion: runtime.Version(), BLAS: c.BLAS}
	switch w.Kind {
	case Infer:
		r.Callers = w.callers()
		if r.Callers > 1 {
			r.PredictorBatch, r.Programs = max(batch, w.PredictorBatch), procs
		}
		r.Steps = w.Calls
		if c.Calls > 0 {
			r.Steps = c.Calls
		}
		r.Warmup = inferWarmup(r.Steps)
	case Epoch:
		r.Warmup = 0
	}
	if w.Kind != Infer {
		opt, err := optim.New(w.Optim)
		if err != nil {
			return Result{}, arch, err
		}
		r.Optimizer = opt.Config().String()
	}
	return r, arch, nil
}

// samples are the measurements of every repeat of one workload, which its
// figures are medians of.
type samples struct {
	stepSeconds, allocs, bytes, torchIncl []float64
	// examplesPerRun is each repeat's examples per run of a shared
	// Predictor.
	examplesPerRun []float64
	// torchBatched are the peer's samples/s at batches of the callers'
	// count, for a workload of several.
	torchBatched []float64
	// torchRates and torchLatencies are the peer's inference figures:
	// each repeat's rate, and every call's latency in seconds.
	torchRates, torchLatencies []float64
}

// goRepeat measures tapestry once.
func (s *samples) goRepeat(ctx context.Context, c Config, w Workload, arch graph.Arch, r *Result, train *mnist.Dataset, rep int) error {
	m, err := measure(ctx, arch, w.Optim, r.Batch, train, c.Seed, c.Warmup, c.Steps)
	if err != nil {
		return errors.Wrapf(err, "repeat %d", rep)
	}
	r.SamplesPerSecRepeats = append(r.SamplesPerSecRepeats, m.samplesPerSec)
	s.stepSeconds = append(s.stepSeconds, m.stepSeconds...)
	s.allocs = append(s.allocs, m.allocsPerStep)
	s.bytes = append(s.bytes, m.bytesPerStep)
	fmt.Fprintf(c.Log, "bench: %s GOMAXPROCS %d repeat %d/%d: %.0f samples/s\n", w.Name, r.Procs, rep, c.Repeat, m.samplesPerSec)
	return nil
}

// epochRepeat trains one epoch with tapestry.
func (s *samples) epochRepeat(ctx context.Context, c Config, w Workload, arch graph.Arch, r *Result, data *mnist.Dataset, rep int) error {
	m, err := measureEpoch(ctx, arch, w.Optim, r.Batch, data, c.Seed)
	if err != nil {
		return errors.Wrapf(err, "repeat %d", rep)
	}
	r.SamplesPerSecRepeats = append(r.SamplesPerSecRepeats, m.samplesPerSec)
	s.stepSeconds = append(s.stepSeconds, m.stepSeconds...)
	s.allocs = append(s.allocs, m.allocsPerStep)
	s.bytes = append(s.bytes, m.bytesPerStep)
	fmt.Fprintf(c.Log, "bench: %s GOMAXPROCS %d repeat %d/%d: one epoch of %d batches, %.0f samples/s\n",
		w.Name, r.Procs, rep, c.Repeat, r.Steps, m.samplesPerSec)
	return nil
}

// inferRepeat measures tapestry's predictions once.
func (s *samples) inferRepeat(ctx context.Context, c Config, w Workload, arch graph.Arch, r *Result, inputs []float32, rep int) error {
	m, err := measureInfer(ctx, arch, r.Batch, r.Callers, r.PredictorBatch, r.Steps, inputs, c.Seed)
	if err != nil {
		return errors.Wrapf(err, "repeat %d", rep)
	}
	r.SamplesPerSecRepeats = append(r.SamplesPerSecRepeats, m.samplesPerSec)
	s.stepSeconds = append(s.stepSeconds, m.callSeconds...)
	s.allocs = append(s.allocs, m.allocsPerCall)
	if m.examplesPerRun > 0 {
		s.examplesPerRun = append(s.examplesPerRun, m.examplesPerRun)
	}
	s.bytes = append(s.bytes, m.bytesPerCall)
	gathered := ""
	if m.examplesPerRun > 0 {
		gathered = fmt.Sprintf(", %.2f examples a run", m.examplesPerRun)
	}
	fmt.Fprintf(c.Log, "bench: %s GOMAXPROCS %d repeat %d/%d: %.0f samples/s, p50 %.1f µs, max %.1f µs%s\n", w.Name, r.Procs, rep, c.Repeat,
		m.samplesPerSec, 1e6*Median(m.callSeconds), 1e6*Percentile(m.callSeconds, 100), gathered)
	return nil
}

// torchRepeat runs the PyTorch peer for one repeat of w.
func (s *samples) torchRepeat(ctx context.Context, c Config, w Workload, peer *torchPeer, r *Result, rep int) error {
	switch w.Kind {
	case Epoch:
		e, setup, err := peer.run(ctx, w.Torch, r.Batch, r.Procs, r.Steps)
		if err != nil {
			return errors.Wrapf(err, "repeat %d, PyTorch epoch", rep)
		}
		logSetup(c, r, rep, setup)
		s.torchIncl = append(s.torchIncl, e.SamplesPerSec)
		fmt.Fprintf(c.Log, "bench: %s GOMAXPROCS %d repeat %d/%d: PyTorch %d batches, %.0f samples/s\n",
			w.Name, r.Procs, rep, c.Repeat, r.Steps, e.SamplesPerSec)
		return nil
	case Infer:
		// One PyTorch process predicting alone, whatever the callers.
		ti, setup, err := peer.infer(ctx, w.Torch, r.Batch, r.Procs, r.Steps, r.Warmup)
		if err != nil {
			return errors.Wrapf(err, "repeat %d, PyTorch inference", rep)
		}
		logSetup(c, r, rep, setup)
		if r.Callers > 1 {
			tb, _, err := peer.infer(ctx, w.Torch, r.Callers*r.Batch, r.Procs, r.Steps, r.Warmup)
			if err != nil {
				return errors.Wrapf(err, "repeat %d, PyTorch inference in batches of %d", rep, r.Callers*r.Batch)
			}
			s.torchBatched = append(s.torchBatched, tb.SamplesPerSec)
			fmt.Fprintf(c.Log, "bench: %s GOMAXPROCS %d repeat %d/%d: PyTorch in batches of %d: %.0f samples/s\n",
				w.Name, r.Procs, rep, c.Repeat, r.Callers*r.Batch, tb.SamplesPerSec)
		}
		s.torchRates = append(s.torchRates, ti.SamplesPerSec)
		for _, us := range ti.LatenciesUs {
			s.torchLatencies = append(s.torchLatencies, us/1e6)
		}
		fmt.Fprintf(c.Log, "bench: %s GOMAXPROCS %d repeat %d/%d: PyTorch %.0f samples/s, p50 %.1f µs\n",
			w.Name, r.Procs, rep, c.Repeat, ti.SamplesPerSec, ti.P50us)
		return nil
	}
	long := 1 + c.Warmup + c.Steps
	short, setup, err := peer.run(ctx, w.Torch, r.Batch, r.Procs, 1+c.Warmup)
	if err != nil {
		return errors.Wrapf(err, "repeat %d, PyTorch short run", rep)
	}
	logSetup(c, r, rep, setup)
	lr, _, err := peer.run(ctx, w.Torch, r.Batch, r.Procs, long)
	if err != nil {
		return errors.Wrapf(err, "repeat %d, PyTorch long run", rep)
	}
	s.torchIncl = append(s.torchIncl, lr.SamplesPerSec)
	r.TorchShortSeconds = append(r.TorchShortSeconds, short.seconds())
	r.TorchLongSeconds = append(r.TorchLongSeconds, lr.seconds())
	fmt.Fprintf(c.Log, "bench: %s GOMAXPROCS %d repeat %d/%d: PyTorch %d batches in %.3fs, %d in %.3fs (%.0f samples/s with its warm-up)\n",
		w.Name, r.Procs, rep, c.Repeat, 1+c.Warmup, short.seconds(), long, lr.seconds(), lr.SamplesPerSec)
	return nil
}

// logSetup logs the peer's setup line of the first repeat, records it in r
// and warns when the peer did not load the OpenMP OpenBLAS the comparison
// is meant against (a pthread or reference BLAS makes PyTorch several times
// slower, and the ratio meaningless).
func logSetup(c Config, r *Result, rep int, setup string) {
	if rep != 1 || setup == "" {
		return
	}
	fmt.Fprintf(c.Log, "bench: PyTorch peer: %s\n", setup)
	if json.Valid([]byte(setup)) {
		r.TorchSetup = json.RawMessage(setup)
	}
	if !strings.Contains(setup, "openblas-openmp") {
		note := "the PyTorch peer did not load /usr/lib/x86_64-linux-gnu/openblas-openmp (see its blas_libs): its speed is not the one the comparison is meant against"
		fmt.Fprintf(c.Log, "bench: warning: %s\n", note)
		if r.TorchNote == "" {
			r.TorchNote = note
		}
	}
}

// summarize sets r's figures: medians over the repeats.
func (s *samples) summarize(r *Result, w Workload, c Config, torch bool) {
	r.SamplesPerSec = Median(r.SamplesPerSecRepeats)
	r.MsPerStepMedian = 1000 * Median(s.stepSeconds)
	r.MsPerStepP90 = 1000 * Percentile(s.stepSeconds, 90)
	r.AllocsPerStep = Median(s.allocs)
	r.BytesPerStep = Median(s.bytes)
	if len(s.examplesPerRun) > 0 {
		r.ExamplesPerRun = Median(s.examplesPerRun)
	}
	switch {
	case w.Kind == Infer:
		r.P50us = 1e6 * Median(s.stepSeconds)
		r.P99us = 1e6 * Percentile(s.stepSeconds, 99)
		r.MaxUs = 1e6 * Percentile(s.stepSeconds, 100)
		r.GFLOPs = float64(r.FLOPsPerStep) / float64(r.Batch) * r.SamplesPerSec / 1e9
	case r.MsPerStepMedian > 0:
		r.GFLOPs = float64(r.FLOPsPerStep) / (r.MsPerStepMedian / 1000) / 1e9
	}
	if !torch {
		return
	}
	switch w.Kind {
	case Train:
		r.TorchSamplesPerSecInclWarmup = Median(s.torchIncl)
		r.TorchSamplesPerSec = torchRate(c.Steps*r.Batch, r.TorchShortSeconds, r.TorchLongSeconds)
	case Epoch:
		r.TorchSamplesPerSec = Median(s.torchIncl)
	case Infer:
		r.TorchSamplesPerSec = Median(s.torchRates)
		if len(s.torchBatched) > 0 {
			r.TorchBatchedSamplesPerSec = Median(s.torchBatched)
		}
		r.TorchP50us = 1e6 * Median(s.torchLatencies)
		r.TorchP99us = 1e6 * Percentile(s.torchLatencies, 99)
		r.TorchMaxUs = 1e6 * Percentile(s.torchLatencies, 100)
	}
	switch {
	case r.TorchSamplesPerSec > 0:
		r.Ratio = r.SamplesPerSec / r.TorchSamplesPerSec
	case w.Kind == Train:
		r.TorchNote = "PyTorch's median long run was not slower than its median short run (a loaded machine?): no rate"
	default:
		r.TorchNote = "PyTorch reported no rate"
	}
}

// tableHeader is the header of the table rows of workloads of kind k:
// training and epoch rows share one, inference rows have their own.
func tableHeader(k Kind, torch bool) string {
	if k == Infer {
		h := fmt.Sprintf("%-14s %5s %7s %5s %10s %9s %9s %9s %11s %8s %6s %6s",
			"workload", "batch", "callers", "procs", "samples/s", "p50 µs", "p99 µs", "max µs", "allocs/call", "GFLOP/s", "peak%", "steal%")
		if torch {
			h += fmt.Sprintf(" %11s %10s %7s", "torch p50µs", "torch/s", "ratio")
		}
		return h
	}
	h := fmt.Sprintf("%-14s %5s %5s %10s %9s %9s %11s %10s %8s %8s %6s %6s",
		"workload", "batch", "procs", "samples/s", "ms/step", "p90 ms", "allocs/step", "MiB/step", "peak MiB", "GFLOP/s", "peak%", "steal%")
	if torch {
		h += fmt.Sprintf(" %10s %7s", "torch/s", "ratio")
	}
	return h
}

func tableRow(r Result, torch bool) string {
	var s string
	if r.Kind == Infer.String() {
		s = fmt.Sprintf("%-14s %5d %7d %5d %10.0f %9.1f %9.1f %9.1f %11.1f %8.2f %6.1f %6.1f",
			r.Workload, r.Batch, r.Callers, r.Procs, r.SamplesPerSec, r.P50us, r.P99us, r.MaxUs,
			r.AllocsPerStep, r.GFLOPs, 100*r.PeakFraction, 100*r.StealFraction)
		if torch {
			if r.TorchSamplesPerSec > 0 {
				s += fmt.Sprintf(" %11.1f %10.0f %7.3f", r.TorchP50us, r.TorchSamplesPerSec, r.Ratio)
			} else {
				s += fmt.Sprintf(" %11s %10s %7s", "-", "-", "-")
			}
		}
		return s
	}
	s = fmt.Sprintf("%-14s %5d %5d %10.0f %9.2f %9.2f %11.0f %10.2f %8.0f %8.2f %6.1f %6.1f",
		r.Workload, r.Batch, r.Procs, r.SamplesPerSec, r.MsPerStepMedian, r.MsPerStepP90,
		r.AllocsPerStep, r.BytesPerStep/(1<<20), r.PeakRSSMB, r.GFLOPs, 100*r.PeakFraction, 100*r.StealFraction)
	if torch {
		if r.TorchSamplesPerSec > 0 {
			s += fmt.Sprintf(" %10.0f %7.3f", r.TorchSamplesPerSec, r.Ratio)
		} else {
			s += fmt.Sprintf(" %10s %7s", "-", "-")
		}
	}
	return s
}
