package optim

import "math"

// adam is Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019),
// following PyTorch 1.13's torch.optim.Adam and torch.optim.AdamW (amsgrad
// off). At step t (1-based):
//
//	w = w·(1 − lr·wd)                 (adamw only: decoupled decay)
//	g = grad + wd·w                   (adam only: L2 decay, coupled)
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	w = w − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
//
// which is PyTorch's form of w −= lr·m̂/(√v̂ + ε). The bias corrections are
// computed once per step in float64.
//
// Gorgonia's AdamW never changes the weights (solvers.go:1694,
// docs/GORGONIA.md#adamw-never-changes-the-weights); this one does.
//
// State: "<name>.m/<param>" and "<name>.v/<param>", the first and second
// moment estimates.
//
// The update runs span by span on every processor (parallel.go); each
// element's update depends on that element alone, so the split changes no
// bit.
type adam struct {
	core
	k32 adamCoef[float32]
	k64 adamCoef[float64]
}

func newAdam(c Config) *adam {
	return &adam{core: core{cfg: c, slots: []string{"m", "v"}}}
}

// adamCoef are the per-step constants of the kernel, in the kernel's type.
type adamCoef[T float] struct {
	s     T // gradient clipping factor
	l2    T // coupled weight decay (adam), 0 for adamw
	decay T // decoupled decay factor 1 − lr·wd (adamw), 1 for adam
	b1    T
	c1    T // 1 − β1
	b2    T
	c2    T // 1 − β2
	step  T // lr / (1 − β1^t)
	rbc2  T // 1 / √(1 − β2^t)
	eps   T
}

func makeAdamCoef[T float](s, l2, decay, b1, b2, step, rbc2, eps float64) adamCoef[T] {
	return adamCoef[T]{s: T(s), l2: T(l2), decay: T(decay), b1: T(b1), c1: T(1 - b1),
		b2: T(b2), c2: T(1 - b2), step: T(step), rbc2: T(rbc2), eps: T(eps)}
}

func (o *adam) Step(params []Param, lr float64) error {
	scale, err := o.begin(params, lr)
	if err != nil {
		return err
	}
	c := o.cfg
	t := float64(o.steps + 1)
	step := lr / (1 - math.Pow(c.Beta1, t))
	rbc2 := 1 / math.Sqrt(1-math.Pow(c.Beta2, t))
	l2, decay := c.WeightDecay, 1.0
	if c.Name == "adamw" {
		l2, decay = 0, 1-lr*c.WeightDecay
	}
	o.k32 = makeAdamCoef[float32](scale, l2, decay, c.Beta1, c.Beta2, step, rbc2, c.Eps)
	o.k64 = makeAdamCoef[float64](scale, l2, decay, c.Beta1, c.Beta2, step, rbc2, c.Eps)
	o.update(params, o)
	o.steps++
	return nil
}

func (o *adam) runSpan(_ int, s span) {
	i, p, lo, hi := s.param, o.cur[s.param], s.lo, s.hi
	if o.params[i].f32 {
		adamKernel32(p.Value.Float32s()[lo:hi], p.Grad.Float32s()[lo:hi],
			o.st(i, 0).Float32s()[lo:hi], o.st(i, 1).Float32s()[lo:hi], &o.k32)
	} else {
		adamKernel(p.Value.Float64s()[lo:hi], p.Grad.Float64s()[lo:hi],
			o.st(i, 0).Float64s()[lo:hi], o.st(i, 1).Float64s()[lo:hi], &o.k64)
	}
}

func adamKernel[T float](w, grad, m, v []T, k *adamCoef[T]) {
	grad, m, v = grad[:len(w)], m[:len(w)], v[:len(w)]
	s, l2, decay, b1, c1, b2, c2, step, rbc2, eps := k.s, k.l2, k.decay, k.b1, k.c1, k.b2, k.c2, k.step, k.rbc2, k.eps
	// The conversions T(…) round each product before it is added: they
	// keep the compiler from fusing a multiply and an add (which the Go
	// spec allows, and which it does for GOAMD64=v3), so that the bits do
	// not depend on the build and match adamAVX's.
	for i := range w {
		wi := w[i] * decay
		g := T(s*grad[i]) + T(l2*wi)
		mi := T(b1*m[i]) + T(c1*g)
		vi := T(b2*v[i]) + T(c2*(g*g))
		m[i], v[i] = mi, vi
		w[i] = wi - T(step*(mi/(T(sqrt(vi)*rbc2)+eps)))
		grad[i] = 0
	}
}
