package optim

import (
	"math"
	"strings"
	"testing"
)

func TestScheduleLR(t *testing.T) {
	const base = 0.1
	cases := []struct {
		cfg   ScheduleConfig
		epoch int
		want  float64
	}{
		{ScheduleConfig{}, 7, 0.1},
		{ScheduleConfig{Name: "constant"}, 0, 0.1},
		// step 2, γ 0.5: 0.1·0.5^⌊e/2⌋
		{ScheduleConfig{Name: "step", StepSize: 2, Gamma: 0.5}, 0, 0.1},
		{ScheduleConfig{Name: "step", StepSize: 2, Gamma: 0.5}, 1, 0.1},
		{ScheduleConfig{Name: "step", StepSize: 2, Gamma: 0.5}, 2, 0.05},
		{ScheduleConfig{Name: "step", StepSize: 2, Gamma: 0.5}, 5, 0.025},
		{ScheduleConfig{Name: "step", StepSize: 2, Gamma: 0.5}, -3, 0.1},
		// γ defaults to 0.1: epoch 6 with step 3 is two decays, 0.1·0.01
		{ScheduleConfig{Name: "step", StepSize: 3}, 6, 0.001},
		// cosine over 4 epochs to 0.01: 0.01 + 0.09·(1 + cos(π·e/4))/2
		{ScheduleConfig{Name: "cosine", Epochs: 4, MinLR: 0.01}, 0, 0.1},
		{ScheduleConfig{Name: "cosine", Epochs: 4, MinLR: 0.01}, 1, 0.01 + 0.09*(1+math.Sqrt2/2)/2}, // cos(π/4) = √2/2
		{ScheduleConfig{Name: "cosine", Epochs: 4, MinLR: 0.01}, 2, 0.055},                          // cos(π/2) = 0
		{ScheduleConfig{Name: "cosine", Epochs: 4, MinLR: 0.01}, 4, 0.01},
		{ScheduleConfig{Name: "cosine", Epochs: 4, MinLR: 0.01}, 9, 0.01}, // held after the end
		{ScheduleConfig{Name: "cosine", Epochs: 10}, 5, 0.05},
	}
	for _, tc := range cases {
		s, err := NewSchedule(tc.cfg)
		if err != nil {
			t.Errorf("NewSchedule(%+v): %v", tc.cfg, err)
			continue
		}
		if got := s.LR(base, 1000, tc.epoch); !close(got, tc.want, 1e-15) {
			t.Errorf("%+v: LR(%v, %d) = %.17g, want %.17g", tc.cfg, base, tc.epoch, got, tc.want)
		}
	}
}

func TestWarmup(t *testing.T) {
	cases := []struct {
		step, warmup int64
		want         float64
	}{
		{0, 4, 0.025}, // 0.1·1/4
		{2, 4, 0.075}, // 0.1·3/4
		{3, 4, 0.1},
		{100, 4, 0.1},
		{0, 0, 0.1},
		{-1, 0, 0.1},
	}
	for _, tc := range cases {
		if got := Warmup(0.1, tc.step, tc.warmup); !close(got, tc.want, 1e-15) {
			t.Errorf("Warmup(0.1, %d, %d) = %v, want %v", tc.step, tc.warmup, got, tc.want)
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	cases := []struct {
		cfg    ScheduleConfig
		errHas string
	}{
		{ScheduleConfig{Name: "exp"}, `unknown schedule "exp" (valid: constant, step, cosine)`},
		{ScheduleConfig{Name: "step"}, "step schedule: step_size = 0; want > 0"},
		{ScheduleConfig{Name: "step", StepSize: -1}, "step_size = -1"},
		{ScheduleConfig{Name: "cosine", StepSize: 2, Epochs: 3}, "cosine schedule: step_size = 2"},
		{ScheduleConfig{Name: "cosine"}, "cosine schedule: epochs = 0, steps = 0; want exactly one > 0"},
		{ScheduleConfig{Name: "cosine", Epochs: 2, Steps: 5}, "want exactly one > 0"},
		{ScheduleConfig{Name: "step", StepSize: 1, Steps: 5}, "want them only for cosine"},
		{ScheduleConfig{Name: "step", StepSize: 1, Gamma: 1.5}, "gamma = 1.5 is not in (0, 1]"},
		{ScheduleConfig{Name: "step", StepSize: 1, Gamma: math.NaN()}, "gamma = NaN"},
		{ScheduleConfig{Name: "constant", Gamma: 0.5}, "constant schedule does not use gamma"},
		{ScheduleConfig{Name: "step", StepSize: 1, MinLR: 0.1}, "step schedule does not use min_lr"},
		{ScheduleConfig{Name: "cosine", Epochs: 3, MinLR: -1}, "min_lr = -1"},
		{ScheduleConfig{WarmupSteps: -5}, "warmup_steps = -5 is negative"},
	}
	for _, tc := range cases {
		_, err := NewSchedule(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("NewSchedule(%+v): err = %v, want one containing %q", tc.cfg, err, tc.errHas)
		}
	}
}

// TestScheduleRatePerStep reads the rate of every step of a short run: a
// per-step cosine over 8 steps with 3 steps of warm-up, and a per-epoch
// step decay with warm-up, whose rate changes only at epoch boundaries once
// warmed up.
func TestScheduleRatePerStep(t *testing.T) {
	s, err := NewSchedule(ScheduleConfig{Name: "cosine", Steps: 8, WarmupSteps: 3})
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(0); step < 10; step++ {
		want := 0.5 * (1 + math.Cos(math.Pi*float64(min(step, 8))/8)) / 2
		if step < 3 {
			want *= float64(step+1) / 3
		}
		if got := s.LR(0.5, step, 0); !close(got, want, 1e-15) {
			t.Errorf("cosine step %d: %v, want %v", step, got, want)
		}
	}
	d, err := NewSchedule(ScheduleConfig{Name: "step", StepSize: 1, Gamma: 0.5, WarmupSteps: 2})
	if err != nil {
		t.Fatal(err)
	}
	// 3 steps an epoch: epochs 0, 0, 0, 1, 1, 1, 2.
	want := []float64{0.05, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025}
	for step, w := range want {
		if got := d.LR(0.1, int64(step), step/3); !close(got, w, 1e-15) {
			t.Errorf("step decay, step %d: %v, want %v", step, got, w)
		}
	}
}
