package bench

import (
	"strconv"
	"strings"

	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
)

// Kind is what a workload measures.
type Kind int

const (
	// Train times training steps (Trainer.TrainBatch) after a warm-up.
	Train Kind = iota
	// Epoch times one whole training epoch through train.Trainer.Fit, as
	// cmd/train runs it: the 55,000 images left after holding out its
	// 5,000 validation images, in whole batches.
	Epoch
	// Infer times predictions: Callers goroutines each calling Predict on
	// Batch examples at a time, one call after the other.
	Infer
)

func (k Kind) String() string {
	switch k {
	case Epoch:
		return "epoch"
	case Infer:
		return "infer"
	}
	return "train"
}

// A Workload is a model preset trained as cmd/train trains it, or served
// for prediction, and the model that torch_mnist.py runs the same way.
type Workload struct {
	// Name is the workload's name.
	Name string
	Kind Kind
	// Preset is the models.Preset it builds; "" means Name.
	Preset string
	Batch  int
	// Optim is the optimizer of a Train or Epoch workload.
	Optim optim.Config
	// Callers is the number of goroutines that predict at once in an
	// Infer workload (0 means 1). One caller calls Model.Predict; several
	// share one graph.Predictor of PredictorBatch examples a run (0 means
	// Batch) with a program per processor, as a server sized to its cores
	// would: the requests that wait run together.
	Callers        int
	PredictorBatch int
	// Calls is the default number of timed calls per caller and repeat of
	// an Infer workload (Config.Calls overrides it).
	Calls int
	// Torch is the --model of torch_mnist.py that matches, or "" if the
	// script has no counterpart. For an Infer workload of several callers
	// the peer is one PyTorch process predicting on its own.
	Torch string
}

// preset is the models.Preset the workload builds.
func (w Workload) preset() string {
	if w.Preset != "" {
		return w.Preset
	}
	return w.Name
}

// callers is the number of predicting goroutines of an Infer workload.
func (w Workload) callers() int { return max(1, w.Callers) }

// Workloads are the workloads Run knows, in the order it runs them. Those
// whose preset models.Preset does not accept yet cannot be run. Together
// they are the table of issue 11 (docs/PERFORMANCE.md).
var Workloads = []Workload{
	{Name: "mlp", Batch: 128, Optim: optim.Config{Name: "adam", LR: 1e-3}, Torch: "mlp"},
	{Name: "mlp-epoch", Kind: Epoch, Preset: "mlp", Batch: 128, Optim: optim.Config{Name: "adam", LR: 1e-3}, Torch: "mlp"},
	{Name: "cnn", Batch: 64, Optim: optim.Config{Name: "adadelta", LR: 1.0}, Torch: "cnn"},
	{Name: "lenet5", Batch: 64, Optim: optim.Config{Name: "adam", LR: 1e-3}},
	inferWorkload("mlp", 1),
	inferWorkload("mlp", 256),
	serveWorkload("mlp", 8),
}

// LookupWorkload returns the named workload: one of Workloads, or an
// inference workload whose name gives its size, PRESET-infer-B (one caller
// predicting batches of B, 1 ≤ B ≤ MaxInferBatch, max(200, 5000/B) calls)
// or PRESET-serve-N (N goroutines, 2 ≤ N ≤ MaxCallers, predicting one
// example at a time through one Predictor of batch N, 2,000 calls each),
// for the presets mlp, cnn and lenet5: mlp-infer-1 and mlp-serve-8 are
// such workloads.
func LookupWorkload(name string) (Workload, bool) {
	for _, w := range Workloads {
		if w.Name == name {
			return w, true
		}
	}
	for _, preset := range InferPresets {
		if b, ok := sizeAfter(name, preset+"-infer-", 1, MaxInferBatch); ok {
			return inferWorkload(preset, b), true
		}
		if n, ok := sizeAfter(name, preset+"-serve-", 2, MaxCallers); ok {
			return serveWorkload(preset, n), true
		}
	}
	return Workload{}, false
}

// InferPresets are the presets whose inference workloads LookupWorkload
// makes by name; torchModels those of them the PyTorch peer has.
var (
	InferPresets = []string{"mlp", "cnn", "lenet5"}
	torchModels  = map[string]bool{"mlp": true, "cnn": true}
)

// inferWorkload is PRESET-infer-B: one caller predicting batches of b.
func inferWorkload(preset string, b int) Workload {
	return Workload{Name: preset + "-infer-" + strconv.Itoa(b), Kind: Infer, Preset: preset, Batch: b,
		Calls: max(200, 5000/b), Torch: torchModel(preset)}
}

// serveWorkload is PRESET-serve-N: n callers of one example at a time
// sharing a Predictor of batch n.
func serveWorkload(preset string, n int) Workload {
	return Workload{Name: preset + "-serve-" + strconv.Itoa(n), Kind: Infer, Preset: preset, Batch: 1,
		Callers: n, PredictorBatch: n, Calls: 2000, Torch: torchModel(preset)}
}

// torchModel is the peer's --model for preset, or "" if it has none.
func torchModel(preset string) string {
	if torchModels[preset] {
		return preset
	}
	return ""
}

// MaxInferBatch and MaxCallers bound the sizes an inference workload's name
// may give: the inputs cycle through 2,048 images, and more goroutines than
// that would only measure the scheduler.
const (
	MaxInferBatch = 2048
	MaxCallers    = 1024
)

// sizeAfter parses name as prefix followed by a decimal number in [lo, hi],
// written without sign or leading zeros.
func sizeAfter(name, prefix string, lo, hi int) (int, bool) {
	digits, ok := strings.CutPrefix(name, prefix)
	if !ok || digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// Available returns the names of the workloads whose preset models.Preset
// accepts.
func Available() []string {
	var names []string
	for _, w := range Workloads {
		if _, err := models.Preset(w.preset()); err == nil {
			names = append(names, w.Name)
		}
	}
	return names
}
