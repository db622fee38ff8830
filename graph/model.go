package graph

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Model is an architecture with its parameters. It compiles programs on
// demand: one training program per call to Train, and inference programs
// cached by batch size.
type Model struct {
	Arch   Arch
	Params *Params
	// Loss is the training objective. NewModel sets CrossEntropy.
	Loss Loss

	mu    sync.Mutex
	infer map[int]*Program
}

// NewModel validates arch and creates its parameters in a store of element
// type dt, initialized from rng.
func NewModel(arch Arch, dt tensor.Dtype, rng *rand.Rand) (*Model, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if dt != Float32 && dt != Float64 {
		return nil, errors.Errorf("unsupported dtype %v (want float32 or float64)", dt)
	}
	params := NewParams(dt)
	for _, spec := range arch.Net.Params() {
		if _, err := params.Add(spec, rng); err != nil {
			return nil, err
		}
	}
	return &Model{Arch: arch, Params: params, Loss: CrossEntropy{}, infer: map[int]*Program{}}, nil
}

// Train compiles a training program for the batch size; rng draws its
// dropout masks.
func (m *Model) Train(batch int, rng *rand.Rand) (*Program, error) {
	p, err := compile(m, batch, true, rng)
	return p, errors.Wrapf(err, "compiling the training program (batch %d)", batch)
}

// Infer returns the inference program for the batch size, compiling it on
// first use.
func (m *Model) Infer(batch int) (*Program, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.infer[batch]; ok {
		return p, nil
	}
	p, err := compile(m, batch, false, nil)
	if err != nil {
		return nil, errors.Wrapf(err, "compiling the inference program (batch %d)", batch)
	}
	m.infer[batch] = p
	return p, nil
}

// InSize is the number of values in one input example.
func (m *Model) InSize() int { return prod(m.Arch.InShape) }

// Predict returns class probabilities, [n, classes] row-major, for the n
// examples in x (n·InSize values). It runs the inference program of batch n.
func (m *Model) Predict(x []float32) ([]float64, error) {
	in := m.InSize()
	if len(x) == 0 || len(x)%in != 0 {
		return nil, errors.Errorf("predict: %d values is not a whole number of %d-value examples", len(x), in)
	}
	n := len(x) / in
	p, err := m.Infer(n)
	if err != nil {
		return nil, err
	}
	if err := copyInto(p.X, x); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, err
	}
	return Softmax(p.Logits()), nil
}

func copyInto(t *tensor.Dense, x []float32) error {
	switch d := t.Data().(type) {
	case []float32:
		copy(d, x)
	case []float64:
		for i, v := range x {
			d[i] = float64(v)
		}
	default:
		return errors.Errorf("unsupported dtype %v", t.Dtype())
	}
	return nil
}

// Softmax returns the row-wise softmax of a [n, classes] tensor in float64,
// subtracting each row's own maximum.
func Softmax(logits *tensor.Dense) []float64 {
	s := logits.Shape()
	rows, cols := s[0], s.TotalSize()/s[0]
	v := toFloat64s(logits)
	for r := 0; r < rows; r++ {
		row := v[r*cols : (r+1)*cols]
		mx := math.Inf(-1)
		for _, x := range row {
			mx = math.Max(mx, x)
		}
		sum := 0.0
		for i, x := range row {
			row[i] = math.Exp(x - mx)
			sum += row[i]
		}
		for i := range row {
			row[i] /= sum
		}
	}
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
