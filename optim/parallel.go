package optim

import (
	"runtime"
	"sync"
	"sync/atomic"
)

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
// package's workers. Each span is done exactly once, by whichever goroutine
// takes it first; what a span computes never depends on who runs it or in
// what order (updates are elementwise, and sums are kept per span and
// added in span order by the caller), so the results are the same bits
// whatever the number of processors.
//
// The caller never waits for a worker that has not started: on a machine
// whose other cores are busy, a worker may get no CPU for a long while, and
// the caller, which takes spans too, may well have done them all by then. A
// worker joins the pass only while it is open; the caller closes it when it
// runs out of spans and waits only for the workers inside. state holds the
// pass's generation (high 32 bits), a closing flag (bit 31) and the number
// of workers inside (low bits); a worker whose ticket is of an older
// generation leaves at once.
type pass struct {
	spans []span
	size  int // total elements
	job   spanJob
	next  atomic.Int64
	state atomic.Uint64
	done  chan struct{} // the last worker out of a closing pass sends
}

const (
	passClosing = 1 << 31
	passInside  = passClosing - 1
)

// passTicket invites a worker to pass p of generation gen.
type passTicket struct {
	p   *pass
	gen uint64
}

func (p *pass) init(ss []span) {
	p.spans, p.size = ss, 0
	for _, s := range ss {
		p.size += s.hi - s.lo
	}
	if p.done == nil {
		p.done = make(chan struct{}, 1)
	}
}

// run does job over every span and returns when all are done. It does not
// allocate.
func (p *pass) run(job spanJob) {
	helpers := min(runtime.GOMAXPROCS(0), len(p.spans)) - 1
	if p.size < parallelMin || helpers < 1 {
		for k, s := range p.spans {
			job.runSpan(k, s)
		}
		return
	}
	p.job = job
	p.next.Store(0)
	gen := p.state.Load() >> 32
	startPassWorkers(helpers)
	for range helpers {
		select {
		case passQueue <- passTicket{p: p, gen: gen}:
		default: // the queue is full: the caller does the work
		}
	}
	p.work()
	for {
		s := p.state.Load()
		if p.state.CompareAndSwap(s, s|passClosing) {
			if s&passInside != 0 {
				<-p.done
			}
			break
		}
	}
	p.state.Store((gen + 1) << 32)
	p.job = nil
}

// work takes spans until none is left.
func (p *pass) work() {
	for {
		k := int(p.next.Add(1)) - 1
		if k >= len(p.spans) {
			return
		}
		p.job.runSpan(k, p.spans[k])
	}
}

// join lets a worker in if the pass of its ticket is still open.
func (t passTicket) join() bool {
	for {
		s := t.p.state.Load()
		if s>>32 != t.gen || s&passClosing != 0 {
			return false
		}
		if t.p.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// leave lets a worker out, waking the caller if it waits for the last one.
func (t passTicket) leave() {
	if s := t.p.state.Add(^uint64(0)); s&passClosing != 0 && s&passInside == 0 {
		t.p.done <- struct{}{}
	}
}

// The workers are long-lived goroutines started on first need, as in
// graph's op workers: a go statement per step would allocate. The queue is
// buffered so that handing out a ticket never blocks.
var (
	passQueue      = make(chan passTicket, 64)
	passWorkersMu  sync.Mutex
	numPassWorkers atomic.Int64
)

func passWorker() {
	for t := range passQueue {
		if t.join() {
			t.p.work()
			t.leave()
		}
	}
}

func startPassWorkers(n int) {
	if int(numPassWorkers.Load()) >= n {
		return
	}
	passWorkersMu.Lock()
	defer passWorkersMu.Unlock()
	for int(numPassWorkers.Load()) < n {
		go passWorker()
		numPassWorkers.Add(1)
	}
}
