package train

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/graph"
)

// feed is the memory one program's batches are written into: the
// datasets.Batch a source fills, bound to the program's input tensors (or,
// for a float64 program, to float32 staging buffers copied in after the
// fill), and the labels or targets the metrics read.
type feed struct {
	prog    *graph.Program
	b       datasets.Batch
	stage   bool      // inputs and targets are converted into float64 tensors after Fill
	labels  []int     // classify: the batch's labels
	targets []float32 // values: the batch's targets, [batch, out...]
	out     int       // values of one example's output
	byLabel bool      // the loss takes labels
	ranged  bool      // the loss accepts targets in [lo, hi] only
	lo, hi  float32
	what    string      // the loss's name, for errors
	classes int         // classify: the number of classes
	y32     []float32   // the program's float32 targets, when not staged
	y64     []float64   // the program's float64 targets, when staged
	in64    [][]float64 // the program's float64 inputs, when staged
}

func newFeed(m *graph.Model, p *graph.Program) *feed {
	f := &feed{prog: p, out: m.OutSize(), byLabel: m.Arch.Loss.Labels()}
	if r, ok := m.Arch.Loss.(graph.TargetRanger); ok && !f.byLabel {
		lo, hi := r.TargetRange()
		f.ranged, f.lo, f.hi, f.what = true, float32(lo), float32(hi), fmt.Sprintf("%T", m.Arch.Loss)
	}
	f.stage = m.Params.Dtype() == graph.Float64
	for k, in := range p.Inputs {
		if f.stage {
			f.in64 = append(f.in64, in.Float64s())
			f.b.Inputs = append(f.b.Inputs, make([]float32, p.Batch*m.InSize(k)))
		} else {
			f.b.Inputs = append(f.b.Inputs, in.Float32s())
		}
	}
	if f.byLabel {
		f.classes = f.out
		f.labels = make([]int, p.Batch)
		f.b.Labels = f.labels
	} else {
		f.targets = make([]float32, p.Batch*f.out)
		f.b.Targets = f.targets
	}
	if p.Y != nil {
		if f.stage {
			f.y64 = p.Y.Float64s()
		} else {
			f.y32 = p.Y.Float32s()
		}
	}
	return f
}

// fill writes batch i of src into the program's inputs and targets, which
// must be exactly the program's size, and checks what the source wrote:
// every label in range, every target written, and the first and last value
// of every example's inputs written (the buffers hold the previous batch,
// and a Fill that forgot them would train on it again; checking every
// value would cost a pass over the inputs at every step).
func (f *feed) fill(src datasets.Source, i int) error {
	n := f.prog.Batch
	nan := float32(math.NaN())
	for _, x := range f.b.Inputs {
		in := len(x) / n
		for j := range n {
			x[j*in], x[j*in+in-1] = nan, nan
		}
	}
	if f.byLabel {
		for j := range f.labels {
			f.labels[j] = -1 // a label the source does not write stays out of range
		}
	} else {
		for j := range f.targets {
			f.targets[j] = nan // a target the source does not write stays NaN
		}
	}
	got, err := src.Fill(i, &f.b)
	if err != nil {
		return errors.Wrapf(err, "filling batch %d", i)
	}
	if got != n {
		return errors.Errorf("batch %d: the source wrote %d examples, want %d", i, got, n)
	}
	if err := f.check(src, i); err != nil {
		return err
	}
	f.setTargets()
	if f.stage {
		for k, x := range f.b.Inputs {
			for j, v := range x {
				f.in64[k][j] = float64(v)
			}
		}
	}
	return nil
}

// check refuses labels out of range, and targets and inputs the source did
// not write, saying which example of src (by its place in the source's own
// order, when src is a datasets.Indexer).
func (f *feed) check(src datasets.Source, i int) error {
	where := func(j int) string {
		if ix, ok := src.(datasets.Indexer); ok {
			return fmt.Sprintf("example %d (example %d of the source's own order)", j, ix.Example(i, j))
		}
		return fmt.Sprintf("example %d", j)
	}
	n := f.prog.Batch
	for k, x := range f.b.Inputs {
		in := len(x) / n
		for j := range n {
			if a, b := x[j*in], x[j*in+in-1]; a != a || b != b {
				return errors.Errorf("batch %d: input %d of %s is NaN or was not written by the source", i, k, where(j))
			}
		}
	}
	for j, l := range f.labels {
		if l < 0 || l >= f.classes {
			if l == -1 {
				return errors.Errorf("batch %d: the source wrote no label for %s", i, where(j))
			}
			return errors.Errorf("batch %d: %s has label %d, want 0..%d", i, where(j), l, f.classes-1)
		}
	}
	for j, v := range f.targets {
		if v != v {
			return errors.Errorf("batch %d: target %d of %s is NaN or was not written by the source", i, j%f.out, where(j/f.out))
		}
		if f.ranged && (v < f.lo || v > f.hi) {
			return errors.Errorf("batch %d: target %d of %s is %v, but %s takes targets from %v to %v",
				i, j%f.out, where(j/f.out), v, f.what, f.lo, f.hi)
		}
	}
	return nil
}

// setTargets writes the program's targets: the one-hot rows of the labels,
// into a cleared buffer, or the targets as they are.
func (f *feed) setTargets() {
	switch {
	case f.y32 != nil && f.byLabel:
		clear(f.y32)
		for j, l := range f.labels {
			f.y32[j*f.classes+l] = 1
		}
	case f.y64 != nil && f.byLabel:
		clear(f.y64)
		for j, l := range f.labels {
			f.y64[j*f.classes+l] = 1
		}
	case f.y32 != nil:
		copy(f.y32, f.targets)
	case f.y64 != nil:
		for j, v := range f.targets {
			f.y64[j] = float64(v)
		}
	}
}

// output returns the program's outputs of the last run.
func (f *feed) output() *tensor.Dense { return f.prog.Output() }
