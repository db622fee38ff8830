package optim

import (
	"gorgonia.org/tensor"
)

// Param is one trainable tensor and its gradient, of the same shape and
// dtype (float32 or float64). Name is stable and unique ("fc1.weight"): it
// names the optimizer state kept for the parameter.
type Param struct {
	Name        string
	Value, Grad *tensor.Dense
}

// NamedTensor is one tensor of optimizer state, such as "adam.m/fc1.weight".
type NamedTensor struct {
	Name string
	T    *tensor.Dense
}

// Optimizer updates parameters in place from their gradients.
//
// Gorgonia's tape machine adds each run's gradients to the stored ones
// (docs/GORGONIA.md#gradients-accumulate-across-runs), so Step zeroes every
// gradient after using it.
//
// To resume training exactly: New with the saved Config, Init with the same
// parameters, copy the saved values into the tensors State returns (in place:
// do not replace their storage), then SetSteps with the saved count.
type Optimizer interface {
	// Step updates every parameter from its gradient with learning rate lr,
	// then zeroes the gradients. It calls Init first if Init was not called.
	// A gradient that is NaN or infinite makes Step return an error naming
	// the parameter, leaving every weight, gradient and state unchanged.
	// After the first Step, Step does not allocate.
	Step(params []Param, lr float64) error

	// Init allocates zeroed state for params (their names, shapes and dtypes
	// are then fixed for every later Step) and resets the step count to 0.
	Init(params []Param) error

	// State returns the state tensors in a deterministic order: parameter
	// by parameter in Init's order, each parameter's tensors in a fixed
	// order, named "<optimizer>.<slot>/<param>". Plain SGD has none. The
	// tensors are updated in place by Step.
	State() []NamedTensor

	// Steps returns how many updates Step has made since Init; Adam's bias
	// correction depends on it.
	Steps() int64

	// SetSteps sets the step count, for resuming from a checkpoint. It panics
	// if n is negative (a loader must check what it read).
	SetSteps(n int64)

	// Config returns the config with every default filled in.
	Config() Config
}

// New returns the optimizer cfg names, with cfg's zero fields set to their
// defaults. It returns an error for an unknown name, for a negative, NaN,
// infinite or out-of-range value, or for a field the optimizer does not use.
func New(cfg Config) (Optimizer, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	switch c.Name {
	case "sgd", "momentum", "nesterov":
		return newSGD(c), nil
	case "adam", "adamw":
		return newAdam(c), nil
	case "rmsprop":
		return newRMSProp(c), nil
	default: // "adadelta"; withDefaults rejected every other name.
		return newAdadelta(c), nil
	}
}

var (
	_ Optimizer = (*sgd)(nil)
	_ Optimizer = (*adam)(nil)
	_ Optimizer = (*rmsprop)(nil)
	_ Optimizer = (*adadelta)(nil)
)
