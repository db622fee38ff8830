package optim

import (
	"math"
	"strings"

	"github.com/pkg/errors"
)

// ScheduleNames lists the schedules NewSchedule accepts.
var ScheduleNames = []string{"constant", "step", "cosine"}

// ScheduleConfig selects a learning-rate schedule, applied at every
// optimizer step. It marshals to JSON so a checkpoint can record it.
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

	// Epochs is the length of a "cosine" schedule that anneals once per
	// epoch (PyTorch's T_max with the scheduler stepped every epoch).
	// Steps is the length in optimizer steps of one that anneals at every
	// step. A "cosine" schedule has exactly one of them; the others none.
	Epochs int   `json:"epochs,omitempty"`
	Steps  int64 `json:"steps,omitempty"`

	// MinLR is the rate "cosine" reaches at its end (PyTorch's eta_min).
	// Zero means 0.
	MinLR float64 `json:"min_lr,omitempty"`

	// WarmupSteps, if positive, ramps the rate up linearly over the first
	// WarmupSteps optimizer steps of any schedule (see Warmup). Zero means
	// no warm-up.
	WarmupSteps int64 `json:"warmup_steps,omitempty"`
}

// Schedule gives the learning rate of each optimizer step.
type Schedule interface {
	// LR returns the rate of the optimizer step numbered step (0-based, over
	// the whole run: Optimizer.Steps() before the update), taken in 0-based
	// epoch, given the base rate. Negative numbers count as 0.
	LR(base float64, step int64, epoch int) float64
}

// Constant keeps the base rate.
type Constant struct{}

func (Constant) LR(base float64, _ int64, _ int) float64 { return base }

// StepDecay multiplies the rate by Gamma every StepSize epochs:
// base·Gamma^⌊epoch/StepSize⌋, as PyTorch 1.13's StepLR.
type StepDecay struct {
	StepSize int
	Gamma    float64
}

func (s StepDecay) LR(base float64, _ int64, epoch int) float64 {
	return base * math.Pow(s.Gamma, float64(max(epoch, 0)/s.StepSize))
}

// Cosine anneals the rate from base to MinLR over Epochs epochs, or, if
// Epochs is 0, over Steps optimizer steps: MinLR + (base − MinLR)·(1 +
// cos(π·t/T))/2, the closed form of PyTorch 1.13's CosineAnnealingLR. It
// stays at MinLR after the end, where PyTorch's would rise again.
type Cosine struct {
	Epochs int
	Steps  int64
	MinLR  float64
}

func (c Cosine) LR(base float64, step int64, epoch int) float64 {
	t, end := float64(max(epoch, 0)), float64(c.Epochs)
	if c.Epochs == 0 {
		t, end = float64(max(step, 0)), float64(c.Steps)
	}
	t = min(t, end)
	return c.MinLR + (base-c.MinLR)*(1+math.Cos(math.Pi*t/end))/2
}

// WithWarmup is a schedule whose first Steps steps ramp its rate up
// linearly (Warmup).
type WithWarmup struct {
	Schedule
	Steps int64
}

func (w WithWarmup) LR(base float64, step int64, epoch int) float64 {
	return Warmup(w.Schedule.LR(base, step, epoch), step, w.Steps)
}

// NewSchedule checks cfg and returns its schedule.
func NewSchedule(cfg ScheduleConfig) (Schedule, error) {
	name := cfg.Name
	if name == "" {
		name = "constant"
	}
	cosine := name == "cosine"
	switch {
	case !valid(ScheduleNames, name):
		return nil, errors.Errorf("unknown schedule %.40q (valid: %s)", cfg.Name, strings.Join(ScheduleNames, ", "))
	case cfg.StepSize < 0 || (name == "step") != (cfg.StepSize != 0):
		return nil, errors.Errorf("%s schedule: step_size = %d; want > 0 for step, 0 otherwise", name, cfg.StepSize)
	case cfg.Epochs < 0 || cfg.Steps < 0 || (cfg.Epochs != 0 || cfg.Steps != 0) && !cosine:
		return nil, errors.Errorf("%s schedule: epochs = %d, steps = %d; want them only for cosine", name, cfg.Epochs, cfg.Steps)
	case cosine && (cfg.Epochs == 0) == (cfg.Steps == 0):
		return nil, errors.Errorf("cosine schedule: epochs = %d, steps = %d; want exactly one > 0", cfg.Epochs, cfg.Steps)
	case cfg.Gamma != 0 && name != "step":
		return nil, errors.Errorf("%s schedule does not use gamma (got %v)", name, cfg.Gamma)
	case !(cfg.Gamma >= 0 && cfg.Gamma <= 1):
		return nil, errors.Errorf("step schedule: gamma = %v is not in (0, 1]", cfg.Gamma)
	case cfg.MinLR != 0 && !cosine:
		return nil, errors.Errorf("%s schedule does not use min_lr (got %v)", name, cfg.MinLR)
	case !(cfg.MinLR >= 0) || math.IsInf(cfg.MinLR, 1):
		return nil, errors.Errorf("cosine schedule: min_lr = %v is not a finite non-negative number", cfg.MinLR)
	case cfg.WarmupSteps < 0:
		return nil, errors.Errorf("%s schedule: warmup_steps = %d is negative", name, cfg.WarmupSteps)
	}
	var s Schedule = Constant{}
	switch name {
	case "step":
		g := cfg.Gamma
		if g == 0 {
			g = 0.1
		}
		s = StepDecay{StepSize: cfg.StepSize, Gamma: g}
	case "cosine":
		s = Cosine{Epochs: cfg.Epochs, Steps: cfg.Steps, MinLR: cfg.MinLR}
	}
	if cfg.WarmupSteps > 0 {
		s = WithWarmup{Schedule: s, Steps: cfg.WarmupSteps}
	}
	return s, nil
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
