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
	k32 adadeltaCoef[float32] // of the Step under way, for runSpan
	k64 adadeltaCoef[float64]
}

// adadeltaCoef are the per-step constants of the kernel, in its type.
type adadeltaCoef[T float] struct {
	s   T // gradient clipping factor
	wd  T
	rho T
	omr T // 1 − ρ
	eps T
	lr  T
}

func makeAdadeltaCoef[T float](s, wd, rho, eps, lr float64) adadeltaCoef[T] {
	return adadeltaCoef[T]{s: T(s), wd: T(wd), rho: T(rho), omr: T(1 - rho), eps: T(eps), lr: T(lr)}
}

func newAdadelta(c Config) *adadelta {
	return &adadelta{core: core{cfg: c, slots: []string{"v", "u"}}}
}

func (o *adadelta) Step(params []Param, lr float64) error {
	scale, err := o.begin(params, lr)
	if err != nil {
		return err
	}
	c := o.cfg
	o.k32 = makeAdadeltaCoef[float32](scale, c.WeightDecay, c.Rho, c.Eps, lr)
	o.k64 = makeAdadeltaCoef[float64](scale, c.WeightDecay, c.Rho, c.Eps, lr)
	o.update(params, o)
	o.steps++
	return nil
}

// runSpan updates one span; elements are independent, so running spans in
// parallel (parallel.go) changes no bit.
func (o *adadelta) runSpan(_ int, s span) {
	i, p, lo, hi := s.param, o.cur[s.param], s.lo, s.hi
	if o.params[i].f32 {
		adadeltaKernel32(p.Value.Float32s()[lo:hi], p.Grad.Float32s()[lo:hi], o.st(i, 0).Float32s()[lo:hi], o.st(i, 1).Float32s()[lo:hi], &o.k32)
	} else {
		adadeltaKernel(p.Value.Float64s()[lo:hi], p.Grad.Float64s()[lo:hi], o.st(i, 0).Float64s()[lo:hi], o.st(i, 1).Float64s()[lo:hi], &o.k64)
	}
}

func adadeltaKernel[T float](w, grad, v, u []T, k *adadeltaCoef[T]) {
	grad, v, u = grad[:len(w)], v[:len(w)], u[:len(w)]
	s, wd, rho, omr, eps, lr := k.s, k.wd, k.rho, k.omr, k.eps, k.lr
	// The conversions T(…) round each product before it is added, so that
	// the compiler fuses no multiply and add (GOAMD64=v3 would) and the
	// bits match adadeltaAVX's in every build; without fusion, as in the
	// default build, they change nothing.
	for i := range w {
		g := T(s*grad[i]) + T(wd*w[i])
		vi := T(rho*v[i]) + T(omr*(g*g))
		d := T(sqrt(u[i]+eps)/sqrt(vi+eps)) * g
		v[i] = vi
		u[i] = T(rho*u[i]) + T(omr*T(d*d))
		w[i] -= T(lr * d)
		grad[i] = 0
	}
}
