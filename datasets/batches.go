package datasets

import (
	"math/rand/v2"

	"github.com/pkg/errors"
)

// Batches cuts a Dataset into mini-batches in an order drawn by Shuffle and
// copies them into the caller's Batch without allocating. It is a Source.
type Batches struct {
	d        *Dataset
	size     int
	batches  int
	order    []int // positions in d's slices, in the order of this pass
	dropLast bool
}

// Batches returns d's examples in batches of size, in d's own order until
// Shuffle draws another. If dropLast is true a partial last batch is left
// out, so that every batch has size examples; otherwise the last batch holds
// the rest.
func (d *Dataset) Batches(size int, dropLast bool) (*Batches, error) {
	switch {
	case size <= 0:
		return nil, errors.Errorf("batching: batch size %d, want > 0", size)
	case dropLast && size > d.Len():
		return nil, errors.Errorf("batching: batch size %d exceeds the %d examples, and dropLast leaves no batch", size, d.Len())
	}
	b := &Batches{d: d, size: size, dropLast: dropLast, order: make([]int, d.Len())}
	b.batches = d.Len() / size
	if !dropLast && d.Len()%size != 0 {
		b.batches++
	}
	b.Shuffle(nil)
	return b, nil
}

// Len returns the number of batches in a pass.
func (b *Batches) Len() int { return b.batches }

// Size returns the number of examples in batch i: the batch size, but for a
// partial last batch; 0 for an i out of range.
func (b *Batches) Size(i int) int {
	if i < 0 || i >= b.batches {
		return 0
	}
	return min(b.size, len(b.order)-i*b.size)
}

// Example implements Indexer: the dataset index of example j of batch i.
func (b *Batches) Example(i, j int) int { return b.order[i*b.size+j] }

// Shuffle draws a new order of the examples from rng for the next pass; a
// nil rng restores the dataset's own order. It shuffles the dataset's own
// order, not the previous pass's, so that the order depends only on rng's
// state (a run resumed from a saved state sees the same batches).
func (b *Batches) Shuffle(rng *rand.Rand) {
	o := b.order
	for i := range o {
		o[i] = b.d.base(i)
	}
	if rng != nil {
		rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
	}
}

// Fill implements Source: it copies batch i into the first n rows of each
// non-nil slice of batch and returns n. What it writes:
//
//	batch.Inputs[k]: [n, shape of input k...], one slice per input
//	batch.Labels:    [n] the labels; an error if the dataset has none
//	batch.Targets:   [n, target shape...] the targets; or, for a dataset
//	                 with labels but no targets and a batch of one target
//	                 an example, float32(label): a labelled dataset trains
//	                 a one-output model with a loss on values (0/1 for a
//	                 sigmoid loss)
//
// Every non-nil slice must hold the same whole number of rows (the batch
// memory's capacity), at least n: a slice of another length means the
// model's shapes are not the dataset's, which is an error, as is an i out
// of range. Fill never panics on the batch it is given.
func (b *Batches) Fill(i int, batch *Batch) (int, error) {
	if i < 0 || i >= b.batches {
		return 0, errors.Errorf("batch %d out of range [0, %d)", i, b.batches)
	}
	n := b.Size(i)
	if err := b.check(batch, i, n); err != nil {
		return 0, err
	}
	d, rows := b.d, b.order[i*b.size:i*b.size+n]
	for k, in := range d.inputs {
		copyRows(batch.Inputs[k], in.Data, d.sizes[k], rows)
	}
	if batch.Labels != nil {
		for j, e := range rows {
			batch.Labels[j] = d.labels[e]
		}
	}
	switch {
	case batch.Targets == nil:
	case d.targets.Data != nil:
		copyRows(batch.Targets, d.targets.Data, d.tsize, rows)
	default:
		for j, e := range rows {
			batch.Targets[j] = float32(d.labels[e])
		}
	}
	return n, nil
}

// copyRows copies the examples at rows of src, size values each, into the
// first rows of dst.
func copyRows(dst, src []float32, size int, rows []int) {
	for j, e := range rows {
		copy(dst[j*size:(j+1)*size], src[e*size:(e+1)*size])
	}
}

// check returns an error unless every non-nil slice of batch holds the same
// whole number of rows, at least n (batch i's size), of what the dataset
// has.
func (b *Batches) check(batch *Batch, i, n int) error {
	d := b.d
	if batch == nil {
		return errors.New("a nil batch")
	}
	if len(batch.Inputs) != len(d.inputs) {
		return errors.Errorf("the dataset has %d inputs, the batch %d: does the model take %d?", len(d.inputs), len(batch.Inputs), len(d.inputs))
	}
	rows := -1
	for k, x := range batch.Inputs {
		if len(x)%d.sizes[k] != 0 {
			return errors.Errorf("input %d: %d values is not a whole number of examples of shape %v (%d values): is the model's input %d of that shape?",
				k, len(x), d.inputs[k].Shape, d.sizes[k], k)
		}
		r := len(x) / d.sizes[k]
		if rows >= 0 && r != rows {
			return errors.Errorf("input %d has room for %d examples of shape %v, input 0 for %d: is the model's input %d of that shape?",
				k, r, d.inputs[k].Shape, rows, k)
		}
		rows = r
	}
	if rows < n {
		return errors.Errorf("the batch memory has room for %d examples, batch %d has %d", rows, i, n)
	}
	if err := b.checkLabels(batch, rows); err != nil {
		return err
	}
	return b.checkTargets(batch, rows)
}

func (b *Batches) checkLabels(batch *Batch, rows int) error {
	d := b.d
	switch {
	case batch.Labels == nil:
		return nil
	case d.labels == nil && d.targets.Data != nil:
		return errors.Errorf("the model's loss takes class labels, the dataset has float targets of shape %v: train it with a loss on values", d.targets.Shape)
	case d.labels == nil:
		return errors.New("the model's loss takes class labels, the dataset has none")
	case len(batch.Labels) != rows:
		return errors.Errorf("room for %d labels in a batch of %d examples", len(batch.Labels), rows)
	}
	return nil
}

func (b *Batches) checkTargets(batch *Batch, rows int) error {
	d := b.d
	width := d.tsize
	switch {
	case batch.Targets == nil:
		return nil
	case d.targets.Data == nil && d.labels == nil:
		return errors.New("the model's loss takes targets, the dataset has none")
	case d.targets.Data == nil:
		width = 1
		if len(batch.Targets) != rows {
			return errors.Errorf("room for %d target values in a batch of %d examples, and the dataset has class labels, not targets: "+
				"labels feed a loss that takes labels, or a model of one output trained on values (0/1 for a sigmoid loss)", len(batch.Targets), rows)
		}
	}
	if len(batch.Targets) != rows*width {
		return errors.Errorf("room for %d target values in a batch of %d examples of targets of shape %v (%d values): is the model's output of that shape?",
			len(batch.Targets), rows, d.targets.Shape, width)
	}
	return nil
}
