package optim

import (
	"math"
	"strings"

	"github.com/pkg/errors"
)

// ScheduleNames lists the schedules NewSchedule accepts.
var ScheduleNames = []string{"constant", "step", "cosine"}

// ScheduleConfig selects a per-epoch learning-rate schedule. It marshals to
// JSON so a checkpoint can record it.
type ScheduleConfig struct {
	// Name is "constant" (the zero value "" means constant too), "step" or
	// "cosine".
	Name string `json:"name,omitempty"`

	// StepSize is the number of epochs between decays of "step"; it must be
	// positive for "step" and zero otherwise.
	StepSize int `json:"step_size,omitempty"`

	// Gamma is the factor "step" multiplies the rate by every StepSize
	// epochs, in (0, 1]. Zero means 0.1 (PyTorch's StepLR default).
	Gamma float64 `json:"gamma,omitempty"`

	// Epochs is the length of the "cosine" schedule (PyTorch's T_max); it
	// must be positive for "cosine" and zero otherwise.
	Epochs int `json:"epochs,omitempty"`

	// MinLR is the rate "cosine" reaches at epoch Epochs (PyTorch's eta_min).
	// Zero means 0.
	MinLR float64 `json:"min_lr,omitempty"`

	// WarmupSteps, if positive, is the number of optimizer steps over which
	// Warmup ramps the rate up linearly; NewSchedule only validates it. Zero
	// means no warmup.
	WarmupSteps int64 `json:"warmup_steps,omitempty"`
}

// Schedule gives the learning rate for an epoch.
type Schedule interface {
	// LR returns the rate for 0-based epoch given the base rate. A negative
	// epoch counts as 0.
	LR(base float64, epoch int) float64
}

// Constant keeps the base rate.
type Constant struct{}

func (Constant) LR(base float64, epoch int) float64 { return base }

// StepDecay multiplies the rate by Gamma every StepSize epochs:
// base·Gamma^⌊epoch/StepSize⌋, as PyTorch 1.13's StepLR.
type StepDecay struct {
	StepSize int
	Gamma    float64
}

func (s StepDecay) LR(base float64, epoch int) float64 {
	return base * math.Pow(s.Gamma, float64(max(epoch, 0)/s.StepSize))
}

// Cosine anneals the rate from base at epoch 0 to MinLR at epoch Epochs,
// MinLR + (base − MinLR)·(1 + cos(π·epoch/Epochs))/2, the closed form of
// PyTorch 1.13's CosineAnnealingLR. It stays at MinLR after Epochs, where
// PyTorch's would rise again.
type Cosine struct {
	Epochs int
	MinLR  float64
}

func (c Cosine) LR(base float64, epoch int) float64 {
	e := min(max(epoch, 0), c.Epochs)
	return c.MinLR + (base-c.MinLR)*(1+math.Cos(math.Pi*float64(e)/float64(c.Epochs)))/2
}

// NewSchedule checks cfg and returns its schedule.
func NewSchedule(cfg ScheduleConfig) (Schedule, error) {
	name := cfg.Name
	if name == "" {
		name = "constant"
	}
	switch {
	case !valid(ScheduleNames, name):
		return nil, errors.Errorf("unknown schedule %q (valid: %s)", cfg.Name, strings.Join(ScheduleNames, ", "))
	case cfg.StepSize < 0 || (name == "step") != (cfg.StepSize != 0):
		return nil, errors.Errorf("%s schedule: step_size = %d; want > 0 for step, 0 otherwise", name, cfg.StepSize)
	case cfg.Epochs < 0 || (name == "cosine") != (cfg.Epochs != 0):
		return nil, errors.Errorf("%s schedule: epochs = %d; want > 0 for cosine, 0 otherwise", name, cfg.Epochs)
	case cfg.Gamma != 0 && name != "step":
		return nil, errors.Errorf("%s schedule does not use gamma (got %v)", name, cfg.Gamma)
	case !(cfg.Gamma >= 0 && cfg.Gamma <= 1):
		return nil, errors.Errorf("step schedule: gamma = %v is not in (0, 1]", cfg.Gamma)
	case cfg.MinLR != 0 && name != "cosine":
		return nil, errors.Errorf("%s schedule does not use min_lr (got %v)", name, cfg.MinLR)
	case !(cfg.MinLR >= 0) || math.IsInf(cfg.MinLR, 1):
		return nil, errors.Errorf("cosine schedule: min_lr = %v is not a finite non-negative number", cfg.MinLR)
	case cfg.WarmupSteps < 0:
		return nil, errors.Errorf("%s schedule: warmup_steps = %d is negative", name, cfg.WarmupSteps)
	}
	switch name {
	case "step":
		g := cfg.Gamma
		if g == 0 {
			g = 0.1
		}
		return StepDecay{StepSize: cfg.StepSize, Gamma: g}, nil
	case "cosine":
		return Cosine{Epochs: cfg.Epochs, MinLR: cfg.MinLR}, nil
	}
	return Constant{}, nil
}

// Warmup scales lr linearly over the first warmupSteps optimizer steps:
// step s (0-based, Optimizer.Steps() before the update) gets
// lr·(s+1)/warmupSteps, and every step from warmupSteps on gets lr. With
// warmupSteps ≤ 0 it returns lr.
func Warmup(lr float64, step, warmupSteps int64) float64 {
	if warmupSteps <= 0 || step >= warmupSteps {
		return lr
	}
	return lr * float64(max(step, 0)+1) / float64(warmupSteps)
}

func valid(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}
