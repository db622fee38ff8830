package graph

import (
	"math/rand/v2"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Model is an architecture with its parameters. It compiles programs:
// Train makes a training program for its caller; Infer and Eval lend
// pooled inference and evaluation programs; Predict and Probabilities run
// inputs through them and are safe for concurrent use.
//
// The parameters must not change while other goroutines predict: training
// updates them in place.
type Model struct {
	// Arch is the architecture, with its defaults filled in: Inputs lists
	// every input, and Loss is set.
	Arch   Arch
	Params *Params

	// out is the shape of one example's output.
	out []int
	// running is held (shared) by every Run and (exclusive) by a compile,
	// which writes to the parameters' tensors
	// (docs/GORGONIA.md#newtapemachine-writes-every-bound-value).
	running sync.RWMutex
	mu      sync.Mutex
	free    map[poolKey][]*Program
}

type poolKey struct {
	mode  Mode
	batch int
}

// NewModel validates arch and creates its parameters in a store of element
// type dt (Float32 or Float64), initialized from rng.
func NewModel(arch Arch, dt tensor.Dtype, rng *rand.Rand) (*Model, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if dt != Float32 && dt != Float64 {
		return nil, errors.Errorf("unsupported dtype %v (want float32 or float64)", dt)
	}
	arch = arch.withDefaults()
	out, err := arch.OutShape()
	if err != nil {
		return nil, err
	}
	var specs []ParamSpec
	if ml, ok := arch.Net.(MultiLayer); ok && len(arch.Inputs) > 1 {
		specs = ml.Params()
	} else {
		specs = arch.Net.Params()
	}
	params := NewParams(dt)
	for _, spec := range specs {
		if _, err := params.Add(spec, rng); err != nil {
			return nil, err
		}
	}
	return &Model{Arch: arch, Params: params, out: out, free: map[poolKey][]*Program{}}, nil
}

// OutShape returns the shape of one example's output.
func (m *Model) OutShape() []int { return append([]int(nil), m.out...) }

// OutSize is the number of values in one example's output.
func (m *Model) OutSize() int { return prod(m.out) }

// InSize is the number of values in one example of input k.
func (m *Model) InSize(k int) int { return prod(m.Arch.Inputs[k].Shape) }

// Train compiles a training program for the batch size; rng draws its
// dropout masks. The caller owns the program.
func (m *Model) Train(batch int, rng *rand.Rand) (*Program, error) {
	p, err := compile(m, batch, Training, rng)
	return p, errors.Wrapf(err, "compiling the training program (batch %d)", batch)
}

// Infer lends an inference program of the batch size from the model's pool,
// compiling one when none is free. The caller has it to itself until it
// gives it back with Release. Safe for concurrent use.
func (m *Model) Infer(batch int) (*Program, error) { return m.borrow(Infer, batch) }

// Eval lends an evaluation program (outputs and loss) as Infer does.
func (m *Model) Eval(batch int) (*Program, error) { return m.borrow(Eval, batch) }

func (m *Model) borrow(mode Mode, batch int) (*Program, error) {
	k := poolKey{mode, batch}
	m.mu.Lock()
	if free := m.free[k]; len(free) > 0 {
		p := free[len(free)-1]
		m.free[k] = free[:len(free)-1]
		m.mu.Unlock()
		return p, nil
	}
	m.mu.Unlock()
	p, err := compile(m, batch, mode, nil)
	return p, errors.Wrapf(err, "compiling the %s program (batch %d)", mode, batch)
}

// Release gives back a program that Infer or Eval lent.
func (m *Model) Release(p *Program) {
	if p == nil || p.model != m || p.Mode == Training {
		return
	}
	m.mu.Lock()
	k := poolKey{p.Mode, p.Batch}
	m.free[k] = append(m.free[k], p)
	m.mu.Unlock()
}

// predictBatch is the batch size Predict runs n examples in: the power of
// two at or above n, at most 256, so that a model keeps at most nine
// program sizes however many sizes it is asked for.
func predictBatch(n int) int {
	b := 1
	for b < n && b < 256 {
		b *= 2
	}
	return b
}

// Predict returns the network's raw outputs, [n, out...] row-major, for the
// n examples in x (n·InSize(0) values) of a network of one input. It is safe
// for concurrent use. For class probabilities use Probabilities.
func (m *Model) Predict(x []float32) ([]float64, error) {
	if len(m.Arch.Inputs) != 1 {
		return nil, errors.Errorf("predict: the model takes %d inputs; use PredictN", len(m.Arch.Inputs))
	}
	return m.PredictN([][]float32{x})
}

// PredictN is Predict for a network of several inputs: xs[k] holds the n
// examples of input k.
func (m *Model) PredictN(xs [][]float32) ([]float64, error) {
	n, err := countExamples(m, xs)
	if err != nil {
		return nil, err
	}
	batch := predictBatch(n)
	p, err := m.Infer(batch)
	if err != nil {
		return nil, err
	}
	defer m.Release(p)
	return runPadded(p, xs, n)
}

// Probabilities returns class probabilities, [n, out...], for the n examples
// in x: the softmax of each row for CrossEntropy, each output's sigmoid for
// SigmoidCrossEntropy. A model whose loss is not a Classifier (a
// regression) has none.
func (m *Model) Probabilities(x []float32) ([]float64, error) {
	c, ok := m.Arch.Loss.(Classifier)
	if !ok {
		return nil, errors.Errorf("probabilities: a model trained with %T is not a classifier; Predict gives its outputs", m.Arch.Loss)
	}
	out, err := m.Predict(x)
	if err != nil {
		return nil, err
	}
	c.Probabilities(out, m.OutSize())
	return out, nil
}

// countExamples checks that every input holds the same whole number of
// examples and returns it.
func countExamples(m *Model, xs [][]float32) (int, error) {
	if len(xs) != len(m.Arch.Inputs) {
		return 0, errors.Errorf("predict: %d inputs for a model of %d", len(xs), len(m.Arch.Inputs))
	}
	n := -1
	for k, x := range xs {
		in := m.InSize(k)
		if len(x) == 0 {
			return 0, errors.Errorf("predict: input %s has no examples", m.Arch.Inputs[k].Name)
		}
		if len(x)%in != 0 {
			return 0, errors.Errorf("predict: input %s: %d values is not a whole number of %d-value examples", m.Arch.Inputs[k].Name, len(x), in)
		}
		if n >= 0 && len(x)/in != n {
			return 0, errors.Errorf("predict: input %s has %d examples, input %s %d", m.Arch.Inputs[k].Name, len(x)/in, m.Arch.Inputs[0].Name, n)
		}
		n = len(x) / in
	}
	return n, nil
}

// runPadded runs the n examples of xs through p, p.Batch at a time, padding
// a last partial batch with zeros (inference uses no batch statistics, so
// padding does not change the other rows), and returns the outputs as
// float64.
func runPadded(p *Program, xs [][]float32, n int) ([]float64, error) {
	m := p.model
	outSize := m.OutSize()
	out := make([]float64, 0, n*outSize)
	for lo := 0; lo < n; lo += p.Batch {
		hi := min(lo+p.Batch, n)
		for k, x := range xs {
			in := m.InSize(k)
			if err := setRows(p.Inputs[k], x[lo*in:hi*in]); err != nil {
				return nil, err
			}
		}
		if err := p.Run(); err != nil {
			return nil, errors.Wrap(err, "predict")
		}
		out = appendFloat64s(out, p.Output(), (hi-lo)*outSize)
	}
	return out, nil
}

// appendFloat64s appends the first n values of t (float32 or float64) to
// out as float64. Float32s and Float64s do not allocate, as t.Data() does.
func appendFloat64s(out []float64, t *tensor.Dense, n int) []float64 {
	if t.Dtype() == tensor.Float32 {
		for _, v := range t.Float32s()[:n] {
			out = append(out, float64(v))
		}
		return out
	}
	return append(out, t.Float64s()[:n]...)
}

// setRows copies src into the first rows of t (float32 or float64) and
// zeroes the rest.
func setRows(t *tensor.Dense, src []float32) error {
	return setRowsAt(t, 0, src, true)
}

// Softmax returns the row-wise softmax of a [n, classes] tensor in float64,
// subtracting each row's own maximum.
func Softmax(logits *tensor.Dense) []float64 {
	v := toFloat64s(logits)
	CrossEntropy{}.Probabilities(v, logits.Shape().TotalSize()/logits.Shape()[0])
	return v
}

// Argmax returns the index of the largest value of each row of a [n, classes]
// tensor into dst (len n).
func Argmax(logits *tensor.Dense, dst []int) {
	s := logits.Shape()
	cols := s.TotalSize() / s[0]
	switch d := logits.Data().(type) {
	case []float32:
		argmaxRows(d, cols, dst)
	case []float64:
		argmaxRows(d, cols, dst)
	}
}

// argmaxRows sets dst[r] to the index of the first largest value of row r
// of a row-major matrix of cols columns.
func argmaxRows[T float32 | float64](d []T, cols int, dst []int) {
	for r := range dst {
		row := d[r*cols : (r+1)*cols]
		best := 0
		for i, x := range row {
			if x > row[best] {
				best = i
			}
		}
		dst[r] = best
	}
}
