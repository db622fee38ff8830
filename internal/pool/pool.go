package pool

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// A Job is work cut into parts numbered from 0. RunPart runs part k; the
// parts of one Run may run at the same time on different goroutines, each
// exactly once, and a part may itself call Run on another Runner.
type Job interface{ RunPart(k int) }

// A Runner is one caller's state for running jobs on the shared workers: a
// goroutine that runs jobs keeps its own Runner (a field of the op or
// optimizer that runs them) and reuses it from call to call, so that a call
// allocates nothing. The zero value is ready to use. A Runner runs one job
// at a time: goroutines that run jobs at the same time each need their own,
// and a part must not call Run on the Runner that runs it.
//
// Each Run is a pass with a generation number. A worker is invited by a
// ticket carrying the generation, and joins only if the pass of that
// generation is still open; the caller closes the pass when no part is
// left to claim and then waits only for the workers that joined. A ticket
// that comes late, after its pass closed, is dropped: a worker never
// touches a job after Run returns, so the caller may reuse or free the
// job's memory at once.
type Runner struct {
	job   Job
	parts int64
	next  atomic.Int64 // the next part to claim
	// state is the generation of the pass (high 32 bits), a closing flag
	// (bit 31) and the number of workers inside the pass (low 31 bits), in
	// one word so that joining and closing cannot cross.
	state atomic.Uint64
	done  chan struct{} // the last worker out of a closing pass sends
}

const (
	closing = 1 << 31
	inside  = closing - 1
)

// Run runs job.RunPart(k) for every k in [0, parts) and returns when all
// have finished. Up to min(parts, GOMAXPROCS)−1 workers help the calling
// goroutine, which runs parts too; with one part or one processor the
// caller runs them all, in order.
func (r *Runner) Run(job Job, parts int) {
	helpers := min(runtime.GOMAXPROCS(0), parts) - 1
	if helpers < 1 {
		for k := range parts {
			job.RunPart(k)
		}
		return
	}
	if r.done == nil {
		r.done = make(chan struct{}, 1)
	}
	r.job, r.parts = job, int64(parts)
	r.next.Store(0)
	gen := r.state.Load() >> 32
	startWorkers(helpers)
	for range helpers {
		select {
		case queue <- ticket{r: r, gen: gen}:
		default: // every slot is taken: the caller does the work
		}
	}
	r.work()
	if s := r.state.Or(closing); s&inside != 0 {
		<-r.done
	}
	// A 32-bit generation could only be confused with a later one if a
	// worker held a ticket across 2³² passes of this Runner.
	r.state.Store((gen + 1) << 32)
	r.job = nil
}

// work claims parts until none is left.
func (r *Runner) work() {
	for {
		k := r.next.Add(1) - 1
		if k >= r.parts {
			return
		}
		r.job.RunPart(int(k))
	}
}

// A ticket invites a worker to pass gen of r.
type ticket struct {
	r   *Runner
	gen uint64
}

// join lets a worker into the ticket's pass if it is still open.
func (t ticket) join() bool {
	for {
		s := t.r.state.Load()
		if s>>32 != t.gen || s&closing != 0 {
			return false
		}
		if t.r.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// leave lets a worker out, waking the caller if it waits for the last one.
func (t ticket) leave() {
	if s := t.r.state.Add(^uint64(0)); s&closing != 0 && s&inside == 0 {
		t.r.done <- struct{}{}
	}
}

// The workers are goroutines started on first need and kept, because a go
// statement per call would allocate. The queue is buffered so that handing
// out a ticket never blocks: with every slot taken, the caller keeps the
// parts for itself.
var (
	queue      = make(chan ticket, 64)
	workersMu  sync.Mutex
	numWorkers atomic.Int64
)

func worker() {
	for t := range queue {
		if t.join() {
			t.r.work()
			t.leave()
		}
	}
}

// startWorkers makes sure that at least n workers exist.
func startWorkers(n int) {
	if int(numWorkers.Load()) >= n {
		return
	}
	workersMu.Lock()
	defer workersMu.Unlock()
	for int(numWorkers.Load()) < n {
		go worker()
		numWorkers.Add(1)
	}
}
