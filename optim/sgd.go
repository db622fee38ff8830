package optim

// sgd is stochastic gradient descent, with optional momentum or Nesterov
// momentum, following PyTorch 1.13's torch.optim.SGD with dampening 0:
//
//	g = grad + wd·w
//	b = μ·b + g            (momentum, nesterov; b starts at 0, so the
//	                        first b is g, as PyTorch's buffer = g)
//	g = g + μ·b  (nesterov)   or   g = b  (momentum)
//	w = w − lr·g
//
// State: "<name>.buf/<param>" (the momentum buffer b), none for plain sgd.
type sgd struct {
	core
	// scale, wd, mu and lr of the Step under way, for runSpan.
	scale, wd, mu, lr float64
}

func newSGD(c Config) *sgd {
	o := &sgd{core: core{cfg: c}}
	if c.Name != "sgd" {
		o.slots = []string{"buf"}
	}
	return o
}

func (o *sgd) Step(params []Param, lr float64) error {
	scale, err := o.begin(params, lr)
	if err != nil {
		return err
	}
	o.scale, o.wd, o.mu, o.lr = scale, o.cfg.WeightDecay, o.cfg.Momentum, lr
	o.update(params, o)
	o.steps++
	return nil
}

// runSpan updates one span; elements are independent, so running spans in
// parallel (parallel.go) changes no bit.
func (o *sgd) runSpan(_ int, s span) {
	i, p, lo, hi := s.param, o.cur[s.param], s.lo, s.hi
	scale, wd, mu, lr := o.scale, o.wd, o.mu, o.lr
	f32 := o.params[i].f32
	switch {
	case o.cfg.Name == "sgd" && f32:
		sgdKernel(p.Value.Float32s()[lo:hi], p.Grad.Float32s()[lo:hi], float32(scale), float32(wd), float32(lr))
	case o.cfg.Name == "sgd":
		sgdKernel(p.Value.Float64s()[lo:hi], p.Grad.Float64s()[lo:hi], scale, wd, lr)
	case o.cfg.Name == "momentum" && f32:
		momentumKernel(p.Value.Float32s()[lo:hi], p.Grad.Float32s()[lo:hi], o.st(i, 0).Float32s()[lo:hi],
			float32(scale), float32(wd), float32(mu), float32(lr))
	case o.cfg.Name == "momentum":
		momentumKernel(p.Value.Float64s()[lo:hi], p.Grad.Float64s()[lo:hi], o.st(i, 0).Float64s()[lo:hi], scale, wd, mu, lr)
	case f32: // nesterov
		nesterovKernel(p.Value.Float32s()[lo:hi], p.Grad.Float32s()[lo:hi], o.st(i, 0).Float32s()[lo:hi],
			float32(scale), float32(wd), float32(mu), float32(lr))
	default:
		nesterovKernel(p.Value.Float64s()[lo:hi], p.Grad.Float64s()[lo:hi], o.st(i, 0).Float64s()[lo:hi], scale, wd, mu, lr)
	}
}

// The kernels take the gradient clipping factor s; the reslicing to len(w)
// lets the compiler drop bounds checks in the loop.
func sgdKernel[T float](w, grad []T, s, wd, lr T) {
	grad = grad[:len(w)]
	for i := range w {
		g := s*grad[i] + wd*w[i]
		w[i] -= lr * g
		grad[i] = 0
	}
}

func momentumKernel[T float](w, grad, buf []T, s, wd, mu, lr T) {
	grad, buf = grad[:len(w)], buf[:len(w)]
	for i := range w {
		g := s*grad[i] + wd*w[i]
		b := mu*buf[i] + g
		buf[i] = b
		w[i] -= lr * b
		grad[i] = 0
	}
}

func nesterovKernel[T float](w, grad, buf []T, s, wd, mu, lr T) {
	grad, buf = grad[:len(w)], buf[:len(w)]
	for i := range w {
		g := s*grad[i] + wd*w[i]
		b := mu*buf[i] + g
		buf[i] = b
		w[i] -= lr * (g + mu*b)
		grad[i] = 0
	}
}
