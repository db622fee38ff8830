package optim

// rmsprop is RMSProp (Tieleman & Hinton, 2012) as PyTorch 1.13's
// torch.optim.RMSprop with centered=False and momentum=0:
//
//	g = grad + wd·w
//	v = ρ·v + (1−ρ)·g²
//	w = w − lr·g/(√v + ε)
//
// There is no bias correction, so v starts small and the first steps are
// larger than lr (at step 1, |Δw| ≈ lr/√(1−ρ) = 10·lr for ρ = 0.99).
//
// State: "rmsprop.v/<param>", PyTorch's square_avg.
type rmsprop struct {
	core
	scale, lr float64 // of the Step under way, for runSpan
}

func newRMSProp(c Config) *rmsprop {
	return &rmsprop{core: core{cfg: c, slots: []string{"v"}}}
}

func (o *rmsprop) Step(params []Param, lr float64) error {
	scale, err := o.begin(params, lr)
	if err != nil {
		return err
	}
	o.scale, o.lr = scale, lr
	o.update(params, o)
	o.steps++
	return nil
}

// runSpan updates one span; elements are independent, so running spans in
// parallel (parallel.go) changes no bit.
func (o *rmsprop) runSpan(_ int, s span) {
	i, p, lo, hi := s.param, o.cur[s.param], s.lo, s.hi
	c, scale, lr := o.cfg, o.scale, o.lr
	if o.params[i].f32 {
		rmspropKernel(p.Value.Float32s()[lo:hi], p.Grad.Float32s()[lo:hi], o.st(i, 0).Float32s()[lo:hi],
			float32(scale), float32(c.WeightDecay), float32(c.Rho), float32(1-c.Rho), float32(c.Eps), float32(lr))
	} else {
		rmspropKernel(p.Value.Float64s()[lo:hi], p.Grad.Float64s()[lo:hi], o.st(i, 0).Float64s()[lo:hi],
			scale, c.WeightDecay, c.Rho, 1-c.Rho, c.Eps, lr)
	}
}

// rmspropKernel takes rho and 1−rho (omr) so the subtraction is done once,
// in float64.
func rmspropKernel[T float](w, grad, v []T, s, wd, rho, omr, eps, lr T) {
	grad, v = grad[:len(w)], v[:len(w)]
	for i := range w {
		g := s*grad[i] + wd*w[i]
		vi := rho*v[i] + omr*(g*g)
		v[i] = vi
		w[i] -= lr * (g / (sqrt(vi) + eps))
		grad[i] = 0
	}
}
