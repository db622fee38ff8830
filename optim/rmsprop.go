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
type rmsprop struct{ core }

func newRMSProp(c Config) *rmsprop {
	return &rmsprop{core{cfg: c, slots: []string{"v"}}}
}

func (o *rmsprop) Step(params []Param, lr float64) error {
	scale, err := o.begin(params, lr)
	if err != nil {
		return err
	}
	c := o.cfg
	for i, p := range params {
		if o.params[i].f32 {
			rmspropKernel(p.Value.Float32s(), p.Grad.Float32s(), o.st(i, 0).Float32s(),
				float32(scale), float32(c.WeightDecay), float32(c.Rho), float32(1-c.Rho), float32(c.Eps), float32(lr))
		} else {
			rmspropKernel(p.Value.Float64s(), p.Grad.Float64s(), o.st(i, 0).Float64s(),
				scale, c.WeightDecay, c.Rho, 1-c.Rho, c.Eps, lr)
		}
	}
	o.steps++
	return nil
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
