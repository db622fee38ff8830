package mnist

import (
	"math/rand/v2"

	"github.com/pkg/errors"
)

// norm32 and norm64 map a pixel byte to (p/255 - Mean) / Std. A table
// lookup per pixel is cheaper than the arithmetic, and both precisions are
// rounded from the same float64 value.
var norm32, norm64 = normTables()

func normTables() (t32 [256]float32, t64 [256]float64) {
	for p := range 256 {
		v := (float64(p)/255 - Mean) / Std
		t32[p], t64[p] = float32(v), v
	}
	return t32, t64
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
// for a partial last batch.
func (b *Batches) Size(i int) int {
	if i < 0 || i >= b.batches {
		panic(errors.Errorf("mnist: batch %d out of range [0, %d)", i, b.batches))
	}
	return min(b.size, len(b.order)-i*b.size)
}

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

// Fill writes batch i and returns its number of examples n:
//
//	x: [n, 784] normalized pixels (p/255 - Mean) / Std
//	y: [n, 10] one-hot labels (y may be nil)
//	labels: [n] digits (labels may be nil)
//
// Only the first n rows are written. Fill panics if i is out of range or a
// non-nil slice is too short for n rows.
func (b *Batches) Fill(i int, x, y []float32, labels []int) (n int) {
	return fill(b, i, x, y, labels, &norm32)
}

// Fill64 is Fill for float64 slices.
func (b *Batches) Fill64(i int, x, y []float64, labels []int) (n int) {
	return fill(b, i, x, y, labels, &norm64)
}

func fill[T float32 | float64](b *Batches, i int, x, y []T, labels []int, table *[256]T) int {
	n := b.Size(i)
	idx := b.order[i*b.size : i*b.size+n]
	x = x[:n*Pixels]
	if y != nil {
		y = y[:n*Classes]
	}
	if labels != nil {
		labels = labels[:n]
	}
	for j, e := range idx {
		normalize(x[j*Pixels:(j+1)*Pixels], b.d.Images[int(e)*Pixels:(int(e)+1)*Pixels], table)
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
	return n
}

func normalize[T float32 | float64](dst []T, src []uint8, table *[256]T) {
	dst = dst[:len(src)]
	for k, p := range src {
		dst[k] = table[p]
	}
}
