package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Float64s returns a copy of the elements of t, which holds float32 or
// float64, as float64: the common currency of checkpoints and interop.
func Float64s(t *tensor.Dense) []float64 { return toFloat64s(t) }

// SetFloat64s copies src into t (float32 or float64), rounding to float32
// where t holds float32. src must have exactly t's number of elements.
func SetFloat64s(t *tensor.Dense, src []float64) error {
	if n := t.Shape().TotalSize(); len(src) != n {
		return errors.Errorf("%d values for a tensor of shape %v (%d elements)", len(src), t.Shape(), n)
	}
	switch t.Dtype() {
	case tensor.Float32, tensor.Float64:
	default:
		return errors.Errorf("unsupported dtype %v (want float32 or float64)", t.Dtype())
	}
	setFloat64s(t, src)
	return nil
}
