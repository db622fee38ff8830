package optim

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
)

// Names lists the optimizers New accepts, in the order error messages show them.
var Names = []string{"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adadelta"}

// Config selects an optimizer and its hyperparameters. It marshals to JSON so
// a checkpoint can record it. A zero field means the standard default, which
// is PyTorch 1.13's unless noted; New returns the filled config from
// Optimizer.Config. A field the named optimizer does not use must be zero:
// New rejects it rather than silently ignore it.
//
// Because zero means "default", a few values cannot be asked for: AdamW with
// no weight decay is Adam (use "adam"), momentum 0 is plain "sgd", and
// Beta1, Eps and Rho of exactly 0 are not expressible.
type Config struct {
	// Name is one of Names:
	//  sgd:      w -= lr·(grad + wd·w)
	//  momentum: b = μ·b + g; w -= lr·b              (g = grad + wd·w)
	//  nesterov: b = μ·b + g; w -= lr·(g + μ·b)
	//  adam:     Adam with L2 weight decay added to the gradient
	//  adamw:    Adam with decoupled weight decay, w *= 1 − lr·wd
	//  rmsprop:  v = ρ·v + (1−ρ)·g²; w -= lr·g/(√v + ε), no centering, no momentum
	//  adadelta: Zeiler's Adadelta, scaled by lr
	Name string `json:"name"`

	// LR is the base learning rate a trainer passes to Step (possibly through
	// a Schedule); Step itself uses the rate it is given. Zero means
	// DefaultLR(Name).
	LR float64 `json:"lr"`

	// Momentum μ of "momentum" and "nesterov", in [0, 1). Zero means 0.9.
	Momentum float64 `json:"momentum,omitempty"`

	// Beta1 and Beta2 are Adam's moment decay rates, in [0, 1). Zero means
	// 0.9 and 0.999.
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`

	// Eps is added to denominators of adam, adamw, rmsprop and adadelta.
	// Zero means 1e-8 (adam, adamw, rmsprop) or 1e-6 (adadelta).
	Eps float64 `json:"eps,omitempty"`

	// Rho is the squared-gradient decay of rmsprop (PyTorch's alpha) and
	// adadelta, in [0, 1). Zero means 0.99 (rmsprop) or 0.9 (adadelta).
	Rho float64 `json:"rho,omitempty"`

	// WeightDecay is the L2 coefficient wd added to the gradient as wd·w, or
	// for adamw the decoupled decay rate. Zero means none, except for adamw
	// where it means 0.01.
	WeightDecay float64 `json:"weight_decay,omitempty"`

	// ClipNorm, if positive, makes Step first scale all gradients so their
	// global L2 norm is at most ClipNorm (see ClipGlobalNorm). Zero means no
	// clipping.
	ClipNorm float64 `json:"clip_norm,omitempty"`
}

// DefaultLR returns the learning rate used when Config.LR is zero: 0.01 for
// sgd, momentum and nesterov; 1e-3 for adam and adamw; 1e-3 for rmsprop
// (Keras's default; PyTorch's 1e-2 is often unstable); 1.0 for adadelta. It
// returns 0 for an unknown name.
func DefaultLR(name string) float64 {
	switch name {
	case "sgd", "momentum", "nesterov":
		return 0.01
	case "adam", "adamw", "rmsprop":
		return 1e-3
	case "adadelta":
		return 1.0
	}
	return 0
}

// field is one hyperparameter as validate sees it.
type field struct {
	name  string
	v     *float64
	used  bool
	below float64 // exclusive upper bound; +Inf for none
	def   float64 // the default a zero value takes
}

// withDefaults checks c and returns it with zero fields set to their defaults.
func (c Config) withDefaults() (Config, error) {
	if !valid(Names, c.Name) {
		return c, errors.Errorf("unknown optimizer %.40q (valid: %s)", c.Name, strings.Join(Names, ", "))
	}
	n := c.Name
	isMomentum := n == "momentum" || n == "nesterov"
	isAdam := n == "adam" || n == "adamw"
	hasRho := n == "rmsprop" || n == "adadelta"
	eps, rho, wd := 1e-8, 0.99, 0.0
	if n == "adadelta" {
		eps, rho = 1e-6, 0.9
	}
	if n == "adamw" {
		wd = 0.01
	}
	inf := math.Inf(1)
	fields := []field{
		{"lr", &c.LR, true, inf, DefaultLR(n)},
		{"momentum", &c.Momentum, isMomentum, 1, 0.9},
		{"beta1", &c.Beta1, isAdam, 1, 0.9},
		{"beta2", &c.Beta2, isAdam, 1, 0.999},
		{"eps", &c.Eps, isAdam || hasRho, inf, eps},
		{"rho", &c.Rho, hasRho, 1, rho},
		{"weight_decay", &c.WeightDecay, true, inf, wd},
		{"clip_norm", &c.ClipNorm, true, inf, 0},
	}
	for _, f := range fields {
		v := *f.v
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return c, errors.Errorf("%s: %s = %v is not a finite number", n, f.name, v)
		case v < 0:
			return c, errors.Errorf("%s: %s = %v is negative", n, f.name, v)
		case v != 0 && !f.used:
			return c, errors.Errorf("%s does not use %s (got %v)", n, f.name, v)
		case v >= f.below:
			return c, errors.Errorf("%s: %s = %v is not in [0, %v)", n, f.name, v, f.below)
		case v == 0 && f.used:
			*f.v = f.def
		}
	}
	return c, nil
}

// String shows the filled config compactly, for logs.
func (c Config) String() string {
	s := fmt.Sprintf("%s(lr=%g", c.Name, c.LR)
	add := func(name string, v float64) {
		if v != 0 {
			s += fmt.Sprintf(", %s=%g", name, v)
		}
	}
	add("momentum", c.Momentum)
	add("beta1", c.Beta1)
	add("beta2", c.Beta2)
	add("eps", c.Eps)
	add("rho", c.Rho)
	add("weight_decay", c.WeightDecay)
	add("clip_norm", c.ClipNorm)
	return s + ")"
}
