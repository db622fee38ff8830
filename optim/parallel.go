package optim

import "github.com/tapestry-ml/tapestry/internal/pool"

// spanSize is the number of elements of one span, the unit of work of a
// parallel pass: big enough that handing a span to a worker costs little
// next to the work, small enough that two cores share a network's
// parameters evenly.
const spanSize = 1 << 15

// parallelMin is the number of elements below which a pass runs on the
// calling goroutine alone: waking a worker costs microseconds.
const parallelMin = 1 << 16

// A span is elements [lo, hi) of parameter param.
type span struct{ param, lo, hi int }

// makeSpans cuts each parameter into spans of spanSize elements (the last
// one shorter), in parameter order.
func makeSpans(lay []layout) []span {
	var ss []span
	for i, l := range lay {
		for lo := 0; lo < l.size; lo += spanSize {
			ss = append(ss, span{param: i, lo: lo, hi: min(lo+spanSize, l.size)})
		}
	}
	return ss
}

// A spanJob does the work of span k.
type spanJob interface{ runSpan(k int, s span) }

// pass runs a spanJob over a fixed list of spans, on the caller and on the
// workers of internal/pool, a span a part. Each span is done exactly once,
// by whichever goroutine claims it first; what a span computes never
// depends on who runs it or in what order (updates are elementwise, and
// sums are kept per span and added in span order by the caller), so the
// results are the same bits whatever the number of processors.
type pass struct {
	spans []span
	size  int // total elements
	job   spanJob
	r     pool.Runner
}

func (p *pass) init(ss []span) {
	p.spans, p.size = ss, 0
	for _, s := range ss {
		p.size += s.hi - s.lo
	}
}

// run does job over every span and returns when all are done. It does not
// allocate.
func (p *pass) run(job spanJob) {
	if p.size < parallelMin {
		for k, s := range p.spans {
			job.runSpan(k, s)
		}
		return
	}
	p.job = job
	p.r.Run(p, len(p.spans))
	p.job = nil
}

// RunPart implements pool.Job: part k is span k.
func (p *pass) RunPart(k int) { p.job.runSpan(k, p.spans[k]) }
