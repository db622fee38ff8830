package bench

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/models"
)

// Config says what Run measures and how. Its zero value measures every
// available workload at GOMAXPROCS 2, 5 repeats of 50 timed steps each, with
// tapestry's BLAS, as cmd/train runs.
type Config struct {
	// Workloads names the workloads to run, from Workloads. If Workloads is
	// empty, every workload whose preset models.Preset accepts is run.
	Workloads []string
	// Batch, if positive, is the batch size of every training workload
	// (Train and Epoch). If Batch is zero, each workload's own is used (mlp
	// 128, cnn 64, lenet5 64). An inference workload keeps its own, which
	// its name says.
	Batch int
	// Procs lists the GOMAXPROCS values at which each workload is measured
	// (and the --threads of the PyTorch peer). If Procs is empty, {2} is
	// used.
	Procs []int
	// Steps is the number of timed steps of each repeat. If Steps is zero,
	// 50 is used.
	Steps int
	// Warmup is the number of untimed steps of each repeat before its timed
	// ones. They follow a first step, never timed, that allocates the
	// gradients and the optimizer's state. Zero means no warm-up beyond
	// that first step.
	Warmup int
	// Calls is the number of timed calls of each caller in each repeat of
	// an inference workload, after a tenth as many untimed ones (at least
	// 20). If Calls is zero, each workload's own is used (Workload.Calls).
	Calls int
	// Repeat is the number of independent measurements (each on a freshly
	// built model) that the figures are medians of. If Repeat is zero, 5 is
	// used.
	Repeat int
	// JSON, if true, makes Run write one JSON object per measured workload
	// to stdout, one per line; the table then goes to Log.
	JSON bool
	// BLAS is the BLAS that Gorgonia's matrix multiplies and the
	// convolutions use: "gonum" (gonum's pure Go, Gorgonia's default) or
	// "tapestry" (package blas). If BLAS is "", "tapestry" is used.
	BLAS string
	// Data is the folder of the MNIST files. If Data is "", mnist.Locate
	// searches $MNIST_DIR, the GoMNIST module and the download cache.
	Data string
	// Seed drives initialization, shuffling and dropout, as in cmd/train;
	// every repeat uses the same seed, so repeats do the same work.
	Seed uint64

	// CompareTorch, if true, also runs the PyTorch peer on each workload
	// that has a counterpart in it, alternating with the Go measurement
	// repeat by repeat, when `python -c "import torch"` works; otherwise Log
	// says why it was skipped.
	CompareTorch bool
	// TorchScript is the path of torch_mnist.py. If TorchScript is "",
	// bench/peers/torch_mnist.py in the module root (the nearest folder
	// holding go.mod, from the working directory up) is used.
	TorchScript string
	// Python runs the peer. If Python is "", /usr/bin/python3 is used
	// (Debian's PyTorch runs on Debian's Python; bench/peers/README.md).
	Python string
	// TorchLibPath is the LD_LIBRARY_PATH of the peer. If TorchLibPath is
	// "", /usr/lib/x86_64-linux-gnu/openblas-openmp is used: the OpenMP
	// build of OpenBLAS, without which PyTorch is 3 to 30 times slower here
	// and the comparison would flatter us (peers/README.md).
	TorchLibPath string

	// Log receives progress lines and notes. If Log is nil, they are
	// discarded.
	Log io.Writer
}

// BLAS names Config.BLAS accepts.
var BLASNames = blas.Names

// withDefaults returns c with its zero values replaced by their defaults.
func (c Config) withDefaults() Config {
	if len(c.Workloads) == 0 {
		c.Workloads = Available()
	}
	if len(c.Procs) == 0 {
		c.Procs = []int{2}
	}
	if c.Steps == 0 {
		c.Steps = 50
	}
	if c.Repeat == 0 {
		c.Repeat = 5
	}
	if c.BLAS == "" {
		c.BLAS = "tapestry"
	}
	if c.Python == "" {
		c.Python = "/usr/bin/python3"
	}
	if c.TorchLibPath == "" {
		c.TorchLibPath = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// maxProcs bounds Procs: more would only oversubscribe any machine this runs on.
const maxProcs = 1024

// Validate reports the first bad setting, before any work is done.
func (c Config) Validate() error {
	d := c.withDefaults()
	if len(d.Workloads) == 0 {
		return errors.New("no workload to run: models.Preset accepts none of mlp, cnn, lenet5")
	}
	seen := map[string]bool{}
	for _, name := range d.Workloads {
		if _, ok := LookupWorkload(name); !ok {
			return errors.Errorf("unknown workload %q (want one of %s, or PRESET-infer-B, PRESET-serve-N for a preset of %s, 1 ≤ B ≤ %d, 2 ≤ N ≤ %d)",
				name, strings.Join(workloadNames(), ", "), strings.Join(InferPresets, ", "), MaxInferBatch, MaxCallers)
		}
		if seen[name] {
			return errors.Errorf("workload %q listed twice", name)
		}
		seen[name] = true
		w, _ := LookupWorkload(name)
		if _, err := models.Preset(w.preset()); err != nil {
			return errors.Wrapf(err, "workload %s", name)
		}
	}
	seenProcs := map[int]bool{}
	for _, p := range d.Procs {
		if p < 1 || p > maxProcs {
			return errors.Errorf("GOMAXPROCS %d must be between 1 and %d", p, maxProcs)
		}
		if seenProcs[p] {
			return errors.Errorf("GOMAXPROCS %d listed twice", p)
		}
		seenProcs[p] = true
	}
	switch {
	case c.Batch < 0:
		return errors.Errorf("batch size %d must not be negative (0: each workload's own)", c.Batch)
	case c.Steps < 0:
		return errors.Errorf("steps %d must not be negative (0: 50)", c.Steps)
	case c.Warmup < 0:
		return errors.Errorf("warm-up steps %d must not be negative", c.Warmup)
	case c.Calls < 0:
		return errors.Errorf("calls %d must not be negative (0: each workload's own)", c.Calls)
	case c.Repeat < 0:
		return errors.Errorf("repeat %d must not be negative (0: 5)", c.Repeat)
	}
	known := false
	for _, b := range BLASNames {
		known = known || b == d.BLAS
	}
	if !known {
		return errors.Errorf("unknown BLAS %q (want one of %s)", c.BLAS, strings.Join(BLASNames, ", "))
	}
	if c.CompareTorch && c.TorchScript != "" {
		if _, err := os.Stat(c.TorchScript); err != nil {
			return errors.Wrap(err, "the PyTorch peer script")
		}
	}
	return nil
}

func workloadNames() []string {
	names := make([]string, len(Workloads))
	for i, w := range Workloads {
		names[i] = w.Name
	}
	return names
}

// ParseNames splits a comma-separated list ("mlp,cnn"), dropping spaces and
// empty items.
func ParseNames(s string) []string {
	var names []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			names = append(names, f)
		}
	}
	return names
}

// ParseProcs parses a comma-separated list of GOMAXPROCS values ("1,2").
func ParseProcs(s string) ([]int, error) {
	var procs []int
	for _, f := range ParseNames(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, errors.Errorf("GOMAXPROCS list %q: %q is not a whole number", s, f)
		}
		procs = append(procs, n)
	}
	return procs, nil
}
