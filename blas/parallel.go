package blas

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// job is a computation in parts that the caller and the worker goroutines
// share out: each claims the next unclaimed part until none is left.
type job interface {
	run(part int)
	sched() *sched
	// release is called once nobody touches the job any more, so that it
	// can be reused.
	release()
}

// sched is the state by which the goroutines share out one job's parts.
// Parts are claimed, not assigned, so that a worker that is late to start
// (its core busy with another process, or its thread asleep) leaves its
// parts to the caller instead of making it wait: a parallel call is never
// much slower than a serial one.
type sched struct {
	next  atomic.Int64 // the next part to claim
	parts int64
	wg    sync.WaitGroup // counts parts not yet finished
	// refs counts the goroutines that may still read the job: the caller,
	// and the workers handed it that have not yet given it back.
	refs atomic.Int64
}

// runParts runs parts of j until all have been claimed.
func (s *sched) runParts(j job) {
	for {
		i := s.next.Add(1) - 1
		if i >= s.parts {
			return
		}
		j.run(int(i))
		s.wg.Done()
	}
}

// done drops one reference to j, releasing it with the last one.
func (s *sched) done(j job) {
	if s.refs.Add(-1) == 0 {
		j.release()
	}
}

// Workers are long-lived goroutines started on first need, because a go
// statement with arguments allocates and a GEMM must not allocate in steady
// state. The queue is buffered so that handing out a job never waits for a
// worker to come back from its previous one.
var (
	jobQueue   = make(chan job, 64)
	workersMu  sync.Mutex
	numWorkers atomic.Int64
)

func worker() {
	for j := range jobQueue {
		s := j.sched()
		s.runParts(j)
		s.done(j)
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

// runParallel runs j.run(0..parts-1), in the calling goroutine and up to
// GOMAXPROCS-1 workers, and returns when all parts have finished; j is
// released once the last worker handed it is done with it, which may be
// after runParallel returns.
func runParallel(j job, parts int) {
	s := j.sched()
	helpers := min(parts, runtime.GOMAXPROCS(0)) - 1
	s.next.Store(0)
	s.parts = int64(parts)
	s.wg.Add(parts)
	s.refs.Store(int64(1 + helpers))
	startWorkers(helpers)
	for range helpers {
		select {
		case jobQueue <- j:
		default: // all workers busy: the caller's loop takes the part
			s.refs.Add(-1)
		}
	}
	s.runParts(j)
	s.wg.Wait()
	s.done(j)
}
