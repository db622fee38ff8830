package optim

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// float is the element type of the update kernels. Each kernel is
// instantiated for float32 and float64, so a float32 parameter is updated in
// float32 arithmetic.
type float interface{ ~float32 | ~float64 }

// sqrt is math.Sqrt in T; for float32 the compiler turns the conversions
// around math.Sqrt into a single float32 square root.
func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }

// layout is what Init recorded of one parameter; Step checks each call's
// parameters against it before changing anything.
type layout struct {
	name string
	f32  bool // float32, else float64
	size int
}

// core is what every optimizer shares: its config, the parameters it was
// initialized for, its state tensors and its step count.
type core struct {
	cfg    Config
	slots  []string // state tensors per parameter, e.g. "m", "v"
	params []layout
	state  []NamedTensor // len(params)·len(slots), parameter-major
	steps  int64
	ready  bool

	// The update and the gradient checks are split into spans
	// (parallel.go) run by par; cur holds the parameters of the Step under
	// way, and sq the gradient checks' results per span.
	par pass
	cur []Param
	sq  sumSqJob
}

// sumSqJob computes Σ g² of each span of the gradients into partial, or
// with finiteOnly, 0 for a span whose gradients are all finite and +Inf
// for one that is not.
type sumSqJob struct {
	params     []Param
	partial    []float64
	finiteOnly bool
}

func (j *sumSqJob) runSpan(k int, s span) {
	g := j.params[s.param].Grad
	f32 := g.Dtype() == tensor.Float32
	switch {
	case j.finiteOnly && f32:
		j.partial[k] = finiteMark(finite32(g.Float32s()[s.lo:s.hi]))
	case j.finiteOnly:
		j.partial[k] = finiteMark(allFinite64(g.Float64s()[s.lo:s.hi]))
	case f32:
		j.partial[k] = sumSq(g.Float32s()[s.lo:s.hi])
	default:
		j.partial[k] = sumSq(g.Float64s()[s.lo:s.hi])
	}
}

func finiteMark(ok bool) float64 {
	if ok {
		return 0
	}
	return math.Inf(1)
}

// gradsFinite says whether every gradient is finite, checked in parallel
// over c's spans.
func (c *core) gradsFinite(params []Param) bool {
	c.sq.params, c.sq.finiteOnly = params, true
	c.par.run(&c.sq)
	c.sq.params, c.sq.finiteOnly = nil, false
	for _, v := range c.sq.partial {
		if v != 0 {
			return false
		}
	}
	return true
}

// gradNorm is the package's gradNorm computed over c's spans in parallel:
// the same spans, sums and order, so the same bits.
func (c *core) gradNorm(params []Param) (float64, int) {
	c.sq.params = params
	c.par.run(&c.sq)
	c.sq.params = nil
	total := 0.0
	k := 0
	for i := range params {
		s := 0.0
		for ; k < len(c.par.spans) && c.par.spans[k].param == i; k++ {
			s += c.sq.partial[k]
		}
		total += s
	}
	return finishNorm(params, total)
}

// update runs job over every span of params, the parameters of a Step that
// begin accepted.
func (c *core) update(params []Param, job spanJob) {
	c.cur = params
	c.par.run(job)
	c.cur = nil
}

func (c *core) Config() Config { return c.cfg }
func (c *core) Steps() int64   { return c.steps }

func (c *core) SetSteps(n int64) {
	if n < 0 {
		panic(errors.Errorf("optim: SetSteps(%d): negative step count", n))
	}
	c.steps = n
}

// State returns a copy of the list, so a caller cannot reorder ours; the
// tensors themselves are shared.
func (c *core) State() []NamedTensor {
	return append([]NamedTensor(nil), c.state...)
}

// st returns state tensor j of parameter i.
func (c *core) st(i, j int) *tensor.Dense { return c.state[i*len(c.slots)+j].T }

func (c *core) Init(params []Param) error {
	lay := make([]layout, len(params))
	seen := make(map[string]bool, len(params))
	var state []NamedTensor
	for i, p := range params {
		if err := checkParam(p); err != nil {
			return errors.Wrapf(err, "%s init: parameter %d (%.40q)", c.cfg.Name, i, p.Name)
		}
		if seen[p.Name] {
			return errors.Errorf("%s init: parameter %d: name %.40q is used twice", c.cfg.Name, i, p.Name)
		}
		seen[p.Name] = true
		dt := p.Value.Dtype()
		lay[i] = layout{name: p.Name, f32: dt == tensor.Float32, size: dataLen(p.Value, dt == tensor.Float32)}
		for _, s := range c.slots {
			t := tensor.New(tensor.Of(dt), tensor.WithShape(p.Value.Shape().Clone()...))
			state = append(state, NamedTensor{Name: c.cfg.Name + "." + s + "/" + p.Name, T: t})
		}
	}
	c.params, c.state, c.steps, c.ready = lay, state, 0, true
	c.par.init(makeSpans(lay))
	c.sq.partial = make([]float64, len(c.par.spans))
	return nil
}

// checkParam says what is wrong with one parameter, if anything.
func checkParam(p Param) error {
	switch {
	case p.Name == "":
		return errors.New("no name")
	case p.Value == nil:
		return errors.New("nil value")
	case p.Grad == nil:
		return errors.New("nil gradient")
	case p.Value == p.Grad:
		return errors.New("value and gradient are the same tensor")
	case p.Value.IsView() || p.Grad.IsView():
		return errors.New("a view; optimizers need tensors that own their data")
	case p.Value.Dtype() != tensor.Float32 && p.Value.Dtype() != tensor.Float64:
		return errors.Errorf("dtype %v; want float32 or float64", p.Value.Dtype())
	case p.Grad.Dtype() != p.Value.Dtype():
		return errors.Errorf("gradient dtype %v differs from value dtype %v", p.Grad.Dtype(), p.Value.Dtype())
	case !p.Grad.Shape().Eq(p.Value.Shape()):
		return errors.Errorf("gradient shape %v differs from value shape %v", p.Grad.Shape(), p.Value.Shape())
	}
	return nil
}

// dataLen is the number of elements of t, which holds float32 if f32, else
// float64.
func dataLen(t *tensor.Dense, f32 bool) int {
	if f32 {
		return len(t.Float32s())
	}
	return len(t.Float64s())
}

// begin does what every Step does before updating: it checks lr and that
// params are the ones Init saw (calling Init on the first Step), checks that
// every gradient is finite, and returns the factor by which clipping scales
// the gradients (1 without clipping). On error nothing has been changed.
func (c *core) begin(params []Param, lr float64) (scale float64, err error) {
	if !(lr >= 0) || math.IsInf(lr, 1) {
		return 0, errors.Errorf("%s step: learning rate %v is not a finite non-negative number", c.cfg.Name, lr)
	}
	if !c.ready {
		if err := c.Init(params); err != nil {
			return 0, err
		}
	}
	if len(params) != len(c.params) {
		return 0, errors.Errorf("%s step: %d parameters, but Init saw %d", c.cfg.Name, len(params), len(c.params))
	}
	for i, p := range params {
		l := &c.params[i]
		if err := l.check(p); err != nil {
			return 0, errors.Wrapf(err, "%s step: parameter %d (%.40q)", c.cfg.Name, i, p.Name)
		}
	}
	// Without clipping the norm is not needed, only the promise that no
	// gradient is NaN or infinite, which a check of the exponent bits keeps
	// for half the cost of the sum of squares; the norm is computed only
	// for the error message.
	if c.cfg.ClipNorm <= 0 && c.gradsFinite(params) {
		return 1, nil
	}
	norm, bad := c.gradNorm(params)
	if bad >= 0 {
		return 0, errors.Errorf("%s step: gradient of %.40q is not finite (global norm %v); no weight changed",
			c.cfg.Name, params[bad].Name, norm)
	}
	return clipScale(norm, c.cfg.ClipNorm), nil
}

// check is the cheap per-Step version of checkParam: same name, dtype and
// size as at Init. It does not allocate unless it fails.
func (l *layout) check(p Param) error {
	want := tensor.Float64
	if l.f32 {
		want = tensor.Float32
	}
	switch {
	case p.Name != l.name:
		return errors.Errorf("Init saw %.40q at this position", l.name)
	case p.Value == nil || p.Grad == nil:
		return errors.New("nil value or gradient")
	case p.Value.Dtype() != want || p.Grad.Dtype() != want:
		return errors.Errorf("dtype %v (gradient %v), but Init saw %v", p.Value.Dtype(), p.Grad.Dtype(), want)
	case dataLen(p.Value, l.f32) != l.size || dataLen(p.Grad, l.f32) != l.size:
		return errors.Errorf("%d elements (gradient %d), but Init saw %d",
			dataLen(p.Value, l.f32), dataLen(p.Grad, l.f32), l.size)
	}
	return nil
}
