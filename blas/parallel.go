package blas

import (
	"sync"
	"sync/atomic"
)

// part is one share of a parallel job, sent to a worker goroutine.
type part struct {
	job  interface{ run(part int) }
	i    int
	done *sync.WaitGroup
}

// Workers are long-lived goroutines started on first need, because a go
// statement with arguments allocates and a GEMM must not allocate in steady
// state. The queue is buffered so that handing out a part never waits for a
// worker to come back from its previous one.
var (
	partQueue  = make(chan part, 64)
	workersMu  sync.Mutex
	numWorkers atomic.Int64
)

func worker() {
	for p := range partQueue {
		p.job.run(p.i)
		p.done.Done()
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

// runParallel runs job.run(0..n-1) and returns when all have finished. The
// caller runs part 0, and any part that finds the queue full, itself.
func runParallel(job interface{ run(part int) }, n int, wg *sync.WaitGroup) {
	startWorkers(n - 1)
	wg.Add(n - 1)
	for i := n - 1; i > 0; i-- {
		select {
		case partQueue <- part{job: job, i: i, done: wg}:
		default:
			job.run(i)
			wg.Done()
		}
	}
	job.run(0)
	wg.Wait()
}
