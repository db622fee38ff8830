package mnist

import (
	"math/rand/v2"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets"
)

// norm32 maps a pixel byte to (p/255 - Mean) / Std, rounded from the
// float64 value: a table lookup per pixel is cheaper than the arithmetic.
var norm32 = normTable()

func normTable() (t [256]float32) {
	for p := range 256 {
		t[p] = float32((float64(p)/255 - Mean) / Std)
	}
	return t
}

// Batches cuts a Dataset into mini-batches in an order drawn by Shuffle, and
// writes them into caller-owned slices (the input tensors of a compiled
// graph) without allocating. It is a train.Source.
type Batches struct {
	d        *Dataset
	size     int
	batches  int
	order    []int32 // example indices, in the order of this epoch
	dropLast bool
}

// NewBatches returns batches of size examples of d, in d's own order until
// Shuffle draws a random one. If dropLast is true the final batch is dropped
// when it would be partial, so every batch has exactly size examples;
// otherwise the last batch holds the remainder.
func NewBatches(d *Dataset, size int, dropLast bool) (*Batches, error) {
	switch {
	case d == nil || d.Len() == 0:
		return nil, errors.New("batching MNIST: empty dataset")
	case len(d.Images) != d.Len()*Pixels:
		return nil, errors.Errorf("batching MNIST: %d image bytes for %d labels, want %d", len(d.Images), d.Len(), d.Len()*Pixels)
	case size <= 0:
		return nil, errors.Errorf("batching MNIST: batch size %d, want > 0", size)
	case dropLast && size > d.Len():
		return nil, errors.Errorf("batching MNIST: batch size %d exceeds the %d examples, and dropLast leaves no batch", size, d.Len())
	case d.Len() > 1<<31-1:
		return nil, errors.Errorf("batching MNIST: %d examples is too many", d.Len())
	}
	b := &Batches{d: d, size: size, dropLast: dropLast, order: make([]int32, d.Len())}
	b.batches = d.Len() / size
	if !dropLast && d.Len()%size != 0 {
		b.batches++
	}
	for i := range b.order {
		b.order[i] = int32(i)
	}
	return b, nil
}

// Len returns the number of batches in an epoch.
func (b *Batches) Len() int { return b.batches }

// Size returns the number of examples in batch i: the batch size, except
// for a partial last batch; 0 for an i out of range, as datasets.Batches.
func (b *Batches) Size(i int) int {
	if i < 0 || i >= b.batches {
		return 0
	}
	return min(b.size, len(b.order)-i*b.size)
}

// Example implements datasets.Indexer: the index in the data of example j
// of batch i.
func (b *Batches) Example(i, j int) int { return int(b.order[i*b.size+j]) }

// Shuffle draws a new order of the examples from rng; call it before each
// epoch. A nil rng keeps d's own order.
//
// Each order is a shuffle of d's own order, not of the previous epoch's, so
// that an epoch's order depends only on rng's state: a run resumed from a
// checkpoint that saved that state sees the same batches.
func (b *Batches) Shuffle(rng *rand.Rand) {
	o := b.order
	for i := range o {
		o[i] = int32(i)
	}
	if rng != nil {
		rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
	}
}

// Fill implements datasets.Source: it writes batch i and returns its
// number of examples n:
//
//	b.Inputs[0]: [n, 784] normalized pixels (p/255 - Mean) / Std
//	b.Labels:    [n] digits, if not nil
//	b.Targets:   [n, 10] one-hot rows of the digits, if not nil (for a model
//	             trained on values, such as MSE against one-hot rows)
//
// Only the first n rows are written. A slice too short for n rows is an
// error, as is an index out of range.
func (b *Batches) Fill(i int, batch *datasets.Batch) (int, error) {
	if i < 0 || i >= b.batches {
		return 0, errors.Errorf("mnist: batch %d out of range [0, %d)", i, b.batches)
	}
	n := b.Size(i)
	switch {
	case len(batch.Inputs) != 1:
		return 0, errors.Errorf("mnist: a batch of MNIST has one input, the model takes %d", len(batch.Inputs))
	case len(batch.Inputs[0]) < n*Pixels:
		return 0, errors.Errorf("mnist: %d input values for %d images of %d pixels (is the model's input 784 values?)", len(batch.Inputs[0]), n, Pixels)
	case batch.Labels != nil && len(batch.Labels) < n:
		return 0, errors.Errorf("mnist: %d labels for %d images", len(batch.Labels), n)
	case batch.Targets != nil && len(batch.Targets) < n*Classes:
		return 0, errors.Errorf("mnist: %d target values for %d images of %d classes (is the model's output 10 values?)", len(batch.Targets), n, Classes)
	}
	x, y, labels := batch.Inputs[0][:n*Pixels], batch.Targets, batch.Labels
	if y != nil {
		y = y[:n*Classes]
	}
	if labels != nil {
		labels = labels[:n]
	}
	for j, e := range b.order[i*b.size : i*b.size+n] {
		normalize(x[j*Pixels:(j+1)*Pixels], b.d.Images[int(e)*Pixels:(int(e)+1)*Pixels], &norm32)
		l := b.d.Labels[e]
		if y != nil {
			row := y[j*Classes : (j+1)*Classes]
			clear(row)
			row[l] = 1
		}
		if labels != nil {
			labels[j] = int(l)
		}
	}
	return n, nil
}

func normalize(dst []float32, src []uint8, table *[256]float32) {
	dst = dst[:len(src)]
	for k, p := range src {
		dst[k] = table[p]
	}
}
