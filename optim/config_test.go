package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestConfigDefaults(t *testing.T) {
	// The defaults are PyTorch 1.13's (Adam, AdamW, RMSprop, Adadelta
	// signatures), momentum 0.9 and rmsprop's lr 1e-3 as documented on Config.
	cases := []struct {
		in, want Config
	}{
		{Config{Name: "sgd"}, Config{Name: "sgd", LR: 0.01}},
		{Config{Name: "momentum"}, Config{Name: "momentum", LR: 0.01, Momentum: 0.9}},
		{Config{Name: "nesterov", Momentum: 0.5}, Config{Name: "nesterov", LR: 0.01, Momentum: 0.5}},
		{Config{Name: "adam"}, Config{Name: "adam", LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
		{Config{Name: "adamw"}, Config{Name: "adamw", LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}},
		{Config{Name: "rmsprop", LR: 0.1}, Config{Name: "rmsprop", LR: 0.1, Rho: 0.99, Eps: 1e-8}},
		{Config{Name: "adadelta", ClipNorm: 5}, Config{Name: "adadelta", LR: 1, Rho: 0.9, Eps: 1e-6, ClipNorm: 5}},
	}
	for _, tc := range cases {
		opt, err := New(tc.in)
		if err != nil {
			t.Errorf("New(%+v): %v", tc.in, err)
			continue
		}
		if got := opt.Config(); got != tc.want {
			t.Errorf("New(%+v).Config() = %+v, want %+v", tc.in, got, tc.want)
		}
		if DefaultLR(tc.in.Name) == 0 {
			t.Errorf("DefaultLR(%q) = 0", tc.in.Name)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg    Config
		errHas string
	}{
		{Config{Name: "adagrad"}, `unknown optimizer "adagrad" (valid: sgd, momentum, nesterov, adam, adamw, rmsprop, adadelta)`},
		{Config{}, `unknown optimizer ""`},
		{Config{Name: "sgd", LR: -1}, "sgd: lr = -1 is negative"},
		{Config{Name: "adam", LR: math.NaN()}, "adam: lr = NaN is not a finite number"},
		{Config{Name: "adam", Eps: math.Inf(1)}, "adam: eps = +Inf is not a finite number"},
		{Config{Name: "adam", Beta2: 1}, "adam: beta2 = 1 is not in [0, 1)"},
		{Config{Name: "adam", Beta1: -0.1}, "adam: beta1 = -0.1 is negative"},
		{Config{Name: "momentum", Momentum: 1.5}, "momentum: momentum = 1.5 is not in [0, 1)"},
		{Config{Name: "rmsprop", Rho: 1}, "rmsprop: rho = 1 is not in [0, 1)"},
		{Config{Name: "adamw", WeightDecay: -0.01}, "adamw: weight_decay = -0.01 is negative"},
		{Config{Name: "sgd", ClipNorm: math.NaN()}, "sgd: clip_norm = NaN is not a finite number"},
		{Config{Name: "sgd", Momentum: 0.9}, "sgd does not use momentum (got 0.9)"},
		{Config{Name: "adam", Rho: 0.9}, "adam does not use rho"},
		{Config{Name: "rmsprop", Beta1: 0.9}, "rmsprop does not use beta1"},
		{Config{Name: "momentum", Eps: 1e-8}, "momentum does not use eps"},
	}
	for _, tc := range cases {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("New(%+v): err = %v, want one containing %q", tc.cfg, err, tc.errHas)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	opt, _ := New(Config{Name: "adamw", ClipNorm: 1})
	js, err := json.Marshal(opt.Config())
	if err != nil {
		t.Fatal(err)
	}
	// Field names are snake_case; unused fields are left out.
	want := `{"name":"adamw","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.01,"clip_norm":1}`
	if string(js) != want {
		t.Errorf("JSON %s, want %s", js, want)
	}
	if s, want := opt.Config().String(), "adamw(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.01, clip_norm=1)"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
	var back Config
	if err := json.Unmarshal(js, &back); err != nil || back != opt.Config() {
		t.Errorf("round trip: %+v, %v; want %+v", back, err, opt.Config())
	}
}

func TestDefaultLR(t *testing.T) {
	want := map[string]float64{"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adam": 1e-3, "adamw": 1e-3,
		"rmsprop": 1e-3, "adadelta": 1, "nope": 0}
	for name, lr := range want {
		if got := DefaultLR(name); got != lr {
			t.Errorf("DefaultLR(%q) = %v, want %v", name, got, lr)
		}
	}
}

// TestErrorsCutLongNames checks that a name from a file (an optimizer or
// schedule name in a checkpoint's metadata, a parameter name from its
// architecture) is quoted in an error by a short prefix, not whole: a
// damaged checkpoint once made a 2 MB message of one optimizer name.
func TestErrorsCutLongNames(t *testing.T) {
	long := strings.Repeat("O", 1<<20)
	param := func(name string) Param {
		return newParam(tensor.Float32, name, []int{2}, []float64{1, 2})
	}
	p, q := param(long), param("b")
	inf := param(long)
	inf.Grad.Float32s()[0] = float32(math.Inf(1))
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) || len(err.Error()) > 300 {
			t.Errorf("%s: error of %d bytes, want one under 300 containing %q: %.300v", what, len(fmt.Sprint(err)), want, err)
		}
	}
	_, err := New(Config{Name: long})
	check("New", err, `unknown optimizer "OOOO`)
	_, err = NewSchedule(ScheduleConfig{Name: long})
	check("NewSchedule", err, `unknown schedule "OOOO`)

	opt, _ := New(Config{Name: "sgd"})
	check("Init, a name twice", opt.Init([]Param{p, p}), "is used twice")
	check("Init, a bad parameter", opt.Init([]Param{{Name: long, Value: p.Value}}), "nil gradient")
	if err := opt.Init([]Param{p, q}); err != nil {
		t.Fatal(err)
	}
	check("Step, another order", opt.Step([]Param{q, p}, 0.1), "Init saw")
	opt, _ = New(Config{Name: "sgd"})
	check("Step, a gradient not finite", opt.Step([]Param{inf}, 0.1), "is not finite")
}
