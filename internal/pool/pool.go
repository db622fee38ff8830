package pool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
// goroutine, which runs parts too, but only workers that are free, and no
// more than the processors that other callers' jobs and busy workers leave:
// with the cores busy with other callers' jobs (goroutines predicting at
// once, say), with one part or with one processor the caller runs every
// part itself, in order, without handing out a ticket. A worker it invited
// could only take a core from another caller, and if the worker's thread
// were descheduled holding a part, the caller would wait for it.
func (r *Runner) Run(job Job, parts int) {
	procs := runtime.GOMAXPROCS(0)
	helpers := min(procs, parts) - 1
	if helpers >= 1 {
		startWorkers(helpers)
		free := int(idle.Load())
		helpers = min(helpers, free, procs-1-int(active.Load())-(int(numWorkers.Load())-free))
	}
	if helpers < 1 {
		for k := range parts {
			job.RunPart(k)
		}
		return
	}
	active.Add(1)
	defer active.Add(-1)
	if r.done == nil {
		r.done = make(chan struct{}, 1)
	}
	r.job, r.parts = job, int64(parts)
	r.next.Store(0)
	gen := r.state.Load() >> 32
	for range helpers {
		select {
		case queue <- ticket{r: r, gen: gen}:
		default: // every slot is taken: the caller does the work
		}
	}
	r.work()
	if s := r.state.Or(closing); s&inside != 0 {
		r.await()
	}
	// A 32-bit generation could only be confused with a later one if a
	// worker held a ticket across 2³² passes of this Runner.
	r.state.Store((gen + 1) << 32)
	r.job = nil
}

// await waits for the token that the last worker to leave a closing pass
// sends on done. The workers are each finishing the one part they hold,
// on cores of their own, so the caller polls for the token for spin before
// it blocks: blocked, the send would make it runnable in the next slot of
// the worker's processor, where it waits for the worker to yield (the same
// pause as a ticket's, see spin).
func (r *Runner) await() {
	began := time.Now()
	for i := 1; ; i++ {
		select {
		case <-r.done:
			return
		default:
		}
		if i%16 == 0 {
			if time.Since(began) > spin {
				<-r.done
				return
			}
			runtime.Gosched()
		}
	}
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
// parts for itself. idle counts the workers waiting for a ticket, which
// Run invites no more of; the others are busy.
var (
	queue      = make(chan ticket, 64)
	workersMu  sync.Mutex
	numWorkers atomic.Int64
	idle       atomic.Int64
	// active counts the callers whose jobs have helpers now.
	active atomic.Int64
)

// spin is how long a worker that has finished its parts keeps polling the
// queue before it blocks on it. A ticket sent to a blocked worker makes it
// runnable in the next slot of the sender's own processor, from which
// another processor steals it only after a pause: the measured pickup was
// over 20 µs, so a caller split in two parts of 20 µs ran both alone. A
// polling worker picks the ticket from the buffer at once. The jobs of one
// training step or one prediction come microseconds apart, so the worker
// stays on its core through them, and blocks 200 µs after the last; while
// it polls it yields its processor to any other runnable goroutine. 50 µs
// was too short: its own yields use it up, and in 2.8% of the passes of
// back-to-back batch-1 predictions the worker had blocked, the caller ran
// both halves of a product alone, and those predictions (p50 146 µs against
// 77) were the whole p99 tail; at 200 µs, 0.2% (measured by counting the
// passes a caller ran alone). OpenMP runtimes spin for longer (libgomp's
// default is about 300,000 spins).
const spin = 200 * time.Microsecond

// worker runs the passes its tickets invite it to. It counts as idle from
// before it lets the caller go (leave) until it has a ticket, so that a
// caller that starts its next pass at once finds it free.
func worker() {
	idle.Add(1)
	for {
		t := nextTicket()
		idle.Add(-1)
		if !t.join() {
			idle.Add(1)
			continue
		}
		t.r.work()
		idle.Add(1)
		t.leave()
	}
}

// nextTicket waits for a ticket: polling for spin, then blocked.
func nextTicket() ticket {
	began := time.Now()
	for i := 1; ; i++ {
		select {
		case t := <-queue:
			return t
		default:
		}
		if i%16 == 0 {
			if time.Since(began) > spin {
				return <-queue
			}
			runtime.Gosched()
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
