package datasets

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/pkg/errors"
)

// An Array is one input, or the targets, of a Dataset: Data holds the
// examples one after another, each Shape's values row-major. An empty Shape
// is one value an example.
type Array struct {
	Data  []float32
	Shape []int
}

// A Dataset is a set of examples held in Go slices: one or more inputs, and
// class labels, float targets, both or neither (neither suits prediction).
// It shares the slices it was made from, so they must not change while it
// is in use; Subset and Split make views of the same memory, which keep all
// of it alive.
type Dataset struct {
	inputs  []Array // Data shared with the caller, Shape copied
	sizes   []int   // values an example, per input
	labels  []int   // nil: no labels
	targets Array   // Data nil: no targets
	tsize   int     // values an example of the targets
	index   []int   // the examples of the view, in its order; nil: all, in order
	n       int
}

// New returns a dataset of one input x, examples of the given shape, with a
// class label each (labels may be nil). It is what a loss that takes labels
// (graph.CrossEntropy) trains on; a model of one output trained on values
// (a sigmoid loss) gets the labels as 0/1 targets, see Batches.Fill.
func New(x []float32, shape []int, labels []int) (*Dataset, error) {
	return NewMulti([]Array{{Data: x, Shape: shape}}, labels, nil)
}

// NewTargets returns a dataset of one input x, examples of the given shape,
// with float targets y of yShape each: for regression, or multi-label
// classification with 0/1 targets.
func NewTargets(x []float32, shape []int, y []float32, yShape []int) (*Dataset, error) {
	return NewMulti([]Array{{Data: x, Shape: shape}}, nil, &Array{Data: y, Shape: yShape})
}

// NewMulti returns a dataset of any number of inputs (at least one), for a
// model of several inputs, with labels (nil for none) and targets (nil for
// none). Every input, the labels and the targets must hold the same number
// of examples, at least one; no value may be NaN or infinite, and no label
// negative (the trainer checks labels against the model's classes).
func NewMulti(inputs []Array, labels []int, targets *Array) (*Dataset, error) {
	if len(inputs) == 0 {
		return nil, errors.New("dataset: no inputs")
	}
	d := &Dataset{n: -1}
	for k, in := range inputs {
		a, size, n, err := checkArray(in, "input "+strconv.Itoa(k))
		if err != nil {
			return nil, err
		}
		if d.n >= 0 && n != d.n {
			return nil, errors.Errorf("dataset: input %d holds %d examples, input 0 holds %d", k, n, d.n)
		}
		d.inputs, d.sizes, d.n = append(d.inputs, a), append(d.sizes, size), n
	}
	if d.n == 0 {
		return nil, errors.New("dataset: no examples")
	}
	if labels != nil {
		if err := checkLabels(labels, d.n); err != nil {
			return nil, err
		}
		d.labels = labels
	}
	if targets != nil {
		a, size, n, err := checkArray(*targets, "targets")
		if err != nil {
			return nil, err
		}
		if n != d.n {
			return nil, errors.Errorf("dataset: the targets hold %d examples, the inputs %d", n, d.n)
		}
		d.targets, d.tsize = a, size
	}
	return d, nil
}

// checkArray returns a with its shape copied, the values an example and the
// number of examples, or an error naming what (an input or the targets).
func checkArray(a Array, what string) (Array, int, int, error) {
	size := 1
	for _, dim := range a.Shape {
		if dim <= 0 {
			return a, 0, 0, errors.Errorf("dataset: %s has shape %v, want every dimension > 0", what, a.Shape)
		}
		if size > math.MaxInt32/dim {
			return a, 0, 0, errors.Errorf("dataset: %s has shape %v, too large for an example", what, a.Shape)
		}
		size *= dim
	}
	if len(a.Data)%size != 0 {
		return a, 0, 0, errors.Errorf("dataset: %s holds %d values, not a whole number of examples of shape %v (%d values)",
			what, len(a.Data), a.Shape, size)
	}
	for i, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return a, 0, 0, errors.Errorf("dataset: %s: example %d has %v at value %d", what, i/size, v, i%size)
		}
	}
	a.Shape = slices.Clone(a.Shape)
	return a, size, len(a.Data) / size, nil
}

func checkLabels(labels []int, n int) error {
	if len(labels) != n {
		return errors.Errorf("dataset: %d labels for %d examples", len(labels), n)
	}
	for i, l := range labels {
		if l < 0 {
			return errors.Errorf("dataset: example %d has label %d, want >= 0", i, l)
		}
	}
	return nil
}

// Len returns the number of examples.
func (d *Dataset) Len() int {
	if d.index != nil {
		return len(d.index)
	}
	return d.n
}

// InputShapes returns the shape of one example of each input.
func (d *Dataset) InputShapes() [][]int {
	s := make([][]int, len(d.inputs))
	for k, in := range d.inputs {
		s[k] = slices.Clone(in.Shape)
	}
	return s
}

// TargetShape returns the shape of one example's targets, or nil if the
// dataset has none (an empty, non-nil shape is one value).
func (d *Dataset) TargetShape() []int {
	if d.targets.Data == nil {
		return nil
	}
	return append([]int{}, d.targets.Shape...)
}

// HasLabels reports whether the examples have class labels.
func (d *Dataset) HasLabels() bool { return d.labels != nil }

// Subset returns the examples at the given positions of d, in that order,
// repeats allowed (a bootstrap sample). It shares d's memory: only the
// positions are copied.
func (d *Dataset) Subset(indices []int) (*Dataset, error) {
	if len(indices) == 0 {
		return nil, errors.New("dataset: an empty subset")
	}
	s := *d
	s.index = make([]int, len(indices))
	for j, i := range indices {
		if i < 0 || i >= d.Len() {
			return nil, errors.Errorf("dataset: subset position %d is example %d, want 0..%d", j, i, d.Len()-1)
		}
		s.index[j] = d.base(i)
	}
	return &s, nil
}

// base returns the position in the slices of example i of d.
func (d *Dataset) base(i int) int {
	if d.index != nil {
		return d.index[i]
	}
	return i
}

// Split shuffles the examples with rng and returns the first part as train
// and the rest, a fraction valFraction of them (see SplitIndices), as val;
// valFraction 0 gives val nil. Both share d's memory. The same rng state
// gives the same split.
func (d *Dataset) Split(valFraction float64, rng *rand.Rand) (train, val *Dataset, err error) {
	first, second, err := SplitIndices(d.Len(), valFraction, rng)
	if err != nil {
		return nil, nil, errors.Wrap(err, "dataset")
	}
	if train, err = d.Subset(first); err != nil {
		return nil, nil, err
	}
	if second == nil {
		return train, nil, nil
	}
	if val, err = d.Subset(second); err != nil {
		return nil, nil, err
	}
	return train, val, nil
}

// SplitIndices shuffles 0..n-1 with rng and cuts the order in two: the
// second part holds round(fraction·n) indices, at least one if fraction > 0,
// and the first part the rest, which may not be empty. fraction must be in
// [0, 1); 0 gives second nil. Dataset.Split and tabular.SplitRows use it,
// so that the same seed splits a dataset and its rows alike.
func SplitIndices(n int, fraction float64, rng *rand.Rand) (first, second []int, err error) {
	switch {
	case !(fraction >= 0 && fraction < 1):
		return nil, nil, errors.Errorf("splitting off a fraction %v of the examples, want 0 <= fraction < 1", fraction)
	case rng == nil:
		return nil, nil, errors.New("splitting without a generator: the split would not be reproducible")
	case n < 1:
		return nil, nil, errors.Errorf("splitting %d examples", n)
	}
	k := int(math.Round(fraction * float64(n)))
	if fraction > 0 && k == 0 {
		k = 1
	}
	if k >= n {
		return nil, nil, errors.Errorf("splitting a fraction %v off %d examples leaves none in the first part", fraction, n)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	if k == 0 {
		return order, nil, nil
	}
	return order[: n-k : n-k], order[n-k:], nil
}
