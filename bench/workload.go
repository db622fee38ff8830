package bench

import (
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
)

// A Workload is a model preset trained as cmd/train trains it: its batch size
// and optimizer, and the model that torch_mnist.py trains the same way.
type Workload struct {
	// Name is the workload's name and the models.Preset it builds.
	Name  string
	Batch int
	Optim optim.Config
	// Torch is the --model of torch_mnist.py that matches, or "" if the
	// script has no counterpart.
	Torch string
}

// Workloads are the workloads Run knows, in the order it runs them. Those
// whose preset models.Preset does not accept yet cannot be run.
var Workloads = []Workload{
	{Name: "mlp", Batch: 128, Optim: optim.Config{Name: "adam", LR: 1e-3}, Torch: "mlp"},
	{Name: "cnn", Batch: 64, Optim: optim.Config{Name: "adadelta", LR: 1.0}, Torch: "cnn"},
	{Name: "lenet5", Batch: 64, Optim: optim.Config{Name: "adam", LR: 1e-3}},
}

// LookupWorkload returns the named workload.
func LookupWorkload(name string) (Workload, bool) {
	for _, w := range Workloads {
		if w.Name == name {
			return w, true
		}
	}
	return Workload{}, false
}

// Available returns the names of the workloads whose preset models.Preset
// accepts.
func Available() []string {
	var names []string
	for _, w := range Workloads {
		if _, err := models.Preset(w.Name); err == nil {
			names = append(names, w.Name)
		}
	}
	return names
}
