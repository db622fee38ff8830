package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
)

// Result is what Run measured for one workload at one GOMAXPROCS. Figures
// over steps pool the timed steps of every repeat; figures per repeat are
// medians over the repeats.
type Result struct {
	Workload string `json:"workload"`
	Batch    int    `json:"batch"`
	Procs    int    `json:"procs"`
	Steps    int    `json:"steps"`
	Warmup   int    `json:"warmup"`
	Repeat   int    `json:"repeat"`
	// SamplesPerSec is the median over repeats of batch·steps / the wall
	// time of the timed steps; SamplesPerSecRepeats holds each repeat's.
	SamplesPerSec        float64   `json:"samples_per_s"`
	SamplesPerSecRepeats []float64 `json:"samples_per_s_repeats"`
	// MsPerStepMedian and MsPerStepP90 are the median and 90th percentile
	// of the durations of all timed steps of all repeats.
	MsPerStepMedian float64 `json:"ms_per_step_median"`
	MsPerStepP90    float64 `json:"ms_per_step_p90"`
	// AllocsPerStep and BytesPerStep are the median over repeats of the
	// runtime.MemStats Mallocs and TotalAlloc deltas over the timed steps,
	// divided by the steps.
	AllocsPerStep float64 `json:"allocs_per_step"`
	BytesPerStep  float64 `json:"bytes_per_step"`
	// PeakRSSMB is VmHWM (MiB) after the workload's repeats. It is reset
	// before the workload when the kernel allows it (PeakRSSReset).
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	PeakRSSReset bool    `json:"peak_rss_reset"`
	// FLOPsPerStep counts the matrix multiplies and convolutions of a step
	// (see FLOPs); GFLOPs is FLOPsPerStep over the median step time.
	FLOPsPerStep int64   `json:"flops_per_step"`
	GFLOPs       float64 `json:"gflops"`
	// LoadAvg1 is the machine's 1-minute load average before and after the
	// workload (Linux): above the number of CPUs, other jobs took part of
	// the machine during the measurement.
	LoadAvg1   []float64 `json:"load_avg_1m,omitempty"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	BLAS       string    `json:"blas"`
	Optimizer  string    `json:"optimizer"`

	// TorchSamplesPerSec is the PyTorch peer's speed over the timed batches
	// alone: Steps·Batch / (median TorchLongSeconds − median
	// TorchShortSeconds), where each repeat runs the peer twice, for 1+Warmup
	// batches (short) and for 1+Warmup+Steps (long), so that its start-up
	// batches drop out as the Go side's warm-up does. Ratio is SamplesPerSec
	// over it. Both are 0 (omitted) without a comparison.
	// TorchSamplesPerSecInclWarmup is the median of the peer's own figure
	// for its long runs, which includes their first 1+Warmup batches.
	TorchSamplesPerSec           float64   `json:"torch_samples_per_s,omitempty"`
	TorchSamplesPerSecInclWarmup float64   `json:"torch_samples_per_s_incl_warmup,omitempty"`
	TorchShortSeconds            []float64 `json:"torch_short_seconds,omitempty"`
	TorchLongSeconds             []float64 `json:"torch_long_seconds,omitempty"`
	Ratio                        float64   `json:"ratio_tapestry_torch,omitempty"`
	// TorchNote says why there is no comparison, or what was odd about it.
	TorchNote string `json:"torch_note,omitempty"`
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
	torchNote := ""
	if c.CompareTorch {
		if peer, err = newTorchPeer(ctx, c, dir); err != nil {
			if errors.Is(err, errNoTorch) {
				torchNote = err.Error()
				fmt.Fprintf(c.Log, "bench: not comparing with PyTorch: %v\n", err)
			} else {
				return nil, err
			}
		}
	}

	table := stdout
	if c.JSON {
		table = c.Log
	}
	fmt.Fprintln(table, tableHeader(peer != nil))
	var results []Result
	for _, name := range c.Workloads {
		w, _ := LookupWorkload(name)
		for _, procs := range c.Procs {
			r, err := runWorkload(ctx, c, w, procs, train, peer)
			if err != nil {
				return results, errors.Wrapf(err, "workload %s (GOMAXPROCS %d)", name, procs)
			}
			if r.TorchNote == "" {
				r.TorchNote = torchNote
			}
			results = append(results, r)
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
	p := &torchPeer{python: c.Python, libPath: c.TorchLibPath, data: dataDir}
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
// PyTorch peer's short and long runs when peer is not nil.
func runWorkload(ctx context.Context, c Config, w Workload, procs int, train *mnist.Dataset, peer *torchPeer) (Result, error) {
	r, arch, err := newResult(c, w, procs, train)
	if err != nil {
		return r, err
	}
	long := 1 + c.Warmup + c.Steps
	if peer != nil {
		switch {
		case w.Torch == "":
			r.TorchNote = "no PyTorch counterpart in torch_mnist.py"
			peer = nil
		case long > train.Len()/r.Batch:
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
	var s samples
	for rep := 1; rep <= c.Repeat; rep++ {
		if err := s.goRepeat(ctx, c, w, arch, &r, train, rep); err != nil {
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
	if r.PeakRSSMB, err = peakRSSMB(); err != nil {
		fmt.Fprintf(c.Log, "bench: %v\n", err)
	}
	s.summarize(&r, c, peer != nil)
	return r, nil
}

// newResult checks the workload's settings and starts its Result: batch,
// FLOPs, optimizer.
func newResult(c Config, w Workload, procs int, train *mnist.Dataset) (Result, graph.Arch, error) {
	arch, err := models.Preset(w.Name)
	if err != nil {
		return Result{}, arch, err
	}
	batch := w.Batch
	if c.Batch > 0 {
		batch = c.Batch
	}
	if batch > train.Len() {
		return Result{}, arch, errors.Errorf("batch size %d is larger than the %d training images", batch, train.Len())
	}
	flops, skipped, err := FLOPs(arch, batch)
	if err != nil {
		return Result{}, arch, err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(c.Log, "bench: %s: FLOPs count 0 for layers of types %v\n", w.Name, skipped)
	}
	opt, err := optim.New(w.Optim)
	if err != nil {
		return Result{}, arch, err
	}
	return Result{Workload: w.Name, Batch: batch, Procs: procs, Steps: c.Steps, Warmup: c.Warmup, Repeat: c.Repeat,
		FLOPsPerStep: flops, GoVersion: runtime.Version(), BLAS: c.BLAS, Optimizer: opt.Config().String()}, arch, nil
}

// samples are the measurements of every repeat of one workload, which its
// figures are medians of.
type samples struct {
	stepSeconds, allocs, bytes, torchIncl []float64
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

// torchRepeat runs the PyTorch peer twice, for 1+warmup batches (short) and
// 1+warmup+steps batches (long): the difference times the timed batches
// alone.
func (s *samples) torchRepeat(ctx context.Context, c Config, w Workload, peer *torchPeer, r *Result, rep int) error {
	long := 1 + c.Warmup + c.Steps
	short, setup, err := peer.run(ctx, w.Torch, r.Batch, r.Procs, 1+c.Warmup)
	if err != nil {
		return errors.Wrapf(err, "repeat %d, PyTorch short run", rep)
	}
	if rep == 1 && setup != "" {
		fmt.Fprintf(c.Log, "bench: PyTorch peer: %s\n", setup)
	}
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

// summarize sets r's figures: medians over the repeats.
func (s *samples) summarize(r *Result, c Config, torch bool) {
	r.SamplesPerSec = Median(r.SamplesPerSecRepeats)
	r.MsPerStepMedian = 1000 * Median(s.stepSeconds)
	r.MsPerStepP90 = 1000 * Percentile(s.stepSeconds, 90)
	r.AllocsPerStep = Median(s.allocs)
	r.BytesPerStep = Median(s.bytes)
	if r.MsPerStepMedian > 0 {
		r.GFLOPs = float64(r.FLOPsPerStep) / (r.MsPerStepMedian / 1000) / 1e9
	}
	if torch {
		r.TorchSamplesPerSecInclWarmup = Median(s.torchIncl)
		r.TorchSamplesPerSec = torchRate(c.Steps*r.Batch, r.TorchShortSeconds, r.TorchLongSeconds)
		if r.TorchSamplesPerSec > 0 {
			r.Ratio = r.SamplesPerSec / r.TorchSamplesPerSec
		} else {
			r.TorchNote = "PyTorch's median long run was not slower than its median short run (a loaded machine?): no rate"
		}
	}
}

func tableHeader(torch bool) string {
	h := fmt.Sprintf("%-8s %5s %5s %10s %9s %9s %11s %10s %8s %8s",
		"workload", "batch", "procs", "samples/s", "ms/step", "p90 ms", "allocs/step", "MiB/step", "peak MiB", "GFLOP/s")
	if torch {
		h += fmt.Sprintf(" %10s %7s", "torch/s", "ratio")
	}
	return h
}

func tableRow(r Result, torch bool) string {
	s := fmt.Sprintf("%-8s %5d %5d %10.0f %9.2f %9.2f %11.0f %10.2f %8.0f %8.2f",
		r.Workload, r.Batch, r.Procs, r.SamplesPerSec, r.MsPerStepMedian, r.MsPerStepP90,
		r.AllocsPerStep, r.BytesPerStep/(1<<20), r.PeakRSSMB, r.GFLOPs)
	if torch {
		if r.TorchSamplesPerSec > 0 {
			s += fmt.Sprintf(" %10.0f %7.3f", r.TorchSamplesPerSec, r.Ratio)
		} else {
			s += fmt.Sprintf(" %10s %7s", "-", "-")
		}
	}
	return s
}
