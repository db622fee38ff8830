package optim

// adadelta is Adadelta (Zeiler, 2012, arXiv:1212.5701) as PyTorch 1.13's
// torch.optim.Adadelta, which also scales the update by lr (default 1):
//
//	g = grad + wd·w
//	v = ρ·v + (1−ρ)·g²
//	δ = √(u + ε)/√(v + ε) · g
//	u = ρ·u + (1−ρ)·δ²
//	w = w − lr·δ
//
// State: "adadelta.v/<param>" and "adadelta.u/<param>", PyTorch's
// square_avg and acc_delta.
type adadelta struct {
	core
	scale, lr float64 // of the Step under way, for runSpan
}

func newAdadelta(c Config) *adadelta {
	return &adadelta{core: core{cfg: c, slots: []string{"v", "u"}}}
}

func (o *adadelta) Step(params []Param, lr float64) error {
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
func (o *adadelta) runSpan(_ int, s span) {
	i, p, lo, hi := s.param, o.cur[s.param], s.lo, s.hi
	c, scale, lr := o.cfg, o.scale, o.lr
	if o.params[i].f32 {
		adadeltaKernel(p.Value.Float32s()[lo:hi], p.Grad.Float32s()[lo:hi], o.st(i, 0).Float32s()[lo:hi], o.st(i, 1).Float32s()[lo:hi],
			float32(scale), float32(c.WeightDecay), float32(c.Rho), float32(1-c.Rho), float32(c.Eps), float32(lr))
	} else {
		adadeltaKernel(p.Value.Float64s()[lo:hi], p.Grad.Float64s()[lo:hi], o.st(i, 0).Float64s()[lo:hi], o.st(i, 1).Float64s()[lo:hi],
			scale, c.WeightDecay, c.Rho, 1-c.Rho, c.Eps, lr)
	}
}

func adadeltaKernel[T float](w, grad, v, u []T, s, wd, rho, omr, eps, lr T) {
	grad, v, u = grad[:len(w)], v[:len(w)], u[:len(w)]
	for i := range w {
		g := s*grad[i] + wd*w[i]
		vi := rho*v[i] + omr*(g*g)
		d := sqrt(u[i]+eps) / sqrt(vi+eps) * g
		v[i] = vi
		u[i] = rho*u[i] + omr*(d*d)
		w[i] -= lr * d
		grad[i] = 0
	}
}
