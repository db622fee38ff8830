package ops

import (
	"runtime"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/internal/pool"
)

// split cuts an op's items (images, planes, channels or elements) into
// parts run on the workers of internal/pool. Part k covers the items
// [k·n/parts, (k+1)·n/parts). An op fixes its split when it is built, one
// part per processor then, so that each part always covers the same items:
// sums made part by part into per-part buffers, then combined in part
// order, are the same bits at every run, whichever goroutine ran a part.
type split struct {
	n, parts int
	r        pool.Runner
}

// init splits n items into one part per processor, at most one per
// perPart items, and at least one part.
func (s *split) init(n, perPart int) {
	s.n, s.parts = n, max(1, min(runtime.GOMAXPROCS(0), n/perPart))
}

// part returns the items [lo, hi) of part k.
func (s *split) part(k int) (lo, hi int) { return k * s.n / s.parts, (k + 1) * s.n / s.parts }

// run runs job over every part and returns when all are done.
func (s *split) run(job pool.Job) { s.r.Run(job, s.parts) }

// A preparer has work to do before its parts run: see doParts.
type preparer interface{ prepare() }

// doParts is the Do of an op whose kernel, job, runs in the parts of par
// over inputs read into args and an output *y of the given shape whose
// elements go to *yd. A job that has a method prepare has it called once
// the inputs are read, before the parts run (to make scratch buffers on
// the first run, or lay out a weight). doParts drops the inputs once the
// parts are done, so that the op does not keep the caller's memory.
func doParts[T Float](op described, par *split, job pool.Job, inputs []G.Value, y **tensor.Dense, yd *[]T, shape []int, args ...arg[T]) (G.Value, error) {
	if err := readInputs(op, inputs, args...); err != nil {
		return nil, err
	}
	*yd = Output[T](y, shape...)
	if p, ok := job.(preparer); ok {
		p.prepare()
	}
	par.run(job)
	for _, a := range args {
		*a.dst = nil
	}
	return *y, nil
}
