package graph

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// An opJob is work that our own ops (convolution, pooling, batch norm) split
// into parts by a static partition, so that each part always covers the same
// items and sums made part by part, then reduced in part order, are
// bit-reproducible from run to run.
type opJob interface {
	// runPart does part p of parts over the items [lo, hi).
	runPart(p, lo, hi int)
}

// opTask is one part of a job handed to a worker.
type opTask struct {
	job       opJob
	p, lo, hi int
	done      *sync.WaitGroup
}

// The workers are long-lived goroutines started on first use rather than a
// goroutine per batch item (what Gorgonia's im2col does: GORGONIA.md "Where
// CPU time goes"): a go statement allocates, and a training step should not.
// The queue is buffered so that handing out a part never blocks; a part that
// finds the queue full is run by the caller.
var (
	opTasks      = make(chan opTask, 64)
	opWorkersMu  sync.Mutex
	opNumWorkers atomic.Int64
)

func opWorker() {
	for t := range opTasks {
		t.job.runPart(t.p, t.lo, t.hi)
		t.done.Done()
	}
}

func startOpWorkers(n int) {
	if int(opNumWorkers.Load()) >= n {
		return
	}
	opWorkersMu.Lock()
	defer opWorkersMu.Unlock()
	for int(opNumWorkers.Load()) < n {
		go opWorker()
		opNumWorkers.Add(1)
	}
}

// opParts is the number of parts to split n items into: one per processor
// (GOMAXPROCS when the op is built, so that the partition, and with it the
// order of every sum, stays fixed for the op's life), at most one per item.
func opParts(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n))
}

// runOpJob runs job over n items in parts pieces and returns when all are
// done. Part p covers items [p·n/parts, (p+1)·n/parts). The caller runs part
// 0 itself. wg belongs to the job's owner, so that nothing is allocated.
func runOpJob(job opJob, n, parts int, wg *sync.WaitGroup) {
	if parts <= 1 || n <= 1 {
		job.runPart(0, 0, n)
		return
	}
	startOpWorkers(parts - 1)
	wg.Add(parts - 1)
	for p := parts - 1; p > 0; p-- {
		lo, hi := p*n/parts, (p+1)*n/parts
		select {
		case opTasks <- opTask{job: job, p: p, lo: lo, hi: hi, done: wg}:
		default:
			job.runPart(p, lo, hi)
			wg.Done()
		}
	}
	job.runPart(0, 0, n/parts)
	wg.Wait()
}

// elemwiseMinPart is the fewest elements worth handing to another worker:
// below ~32k a pass over the elements takes microseconds, about what waking
// a worker costs.
const elemwiseMinPart = 1 << 15

// elemKernel names an elementwise kernel. It is a number rather than a func
// value because a generic function taken as a value inside generic code
// allocates a closure at every run.
type elemKernel int

const (
	elemReLU     elemKernel = iota // dst = relu(a)
	elemReLUGrad                   // dst = b where a ≥ 0, else 0
	elemMul                        // dst = a⊙b
)

// elemwise runs an elementwise kernel over the workers, each part on its
// own range of the elements. Since each element is computed alone, the
// split does not change any result.
type elemwise[T opFloat] struct {
	kernel    elemKernel
	dst, a, b []T
	wg        sync.WaitGroup
}

// run sets dst = kernel(a, b) elementwise; b is nil for a kernel that reads
// only a.
func (e *elemwise[T]) run(kernel elemKernel, dst, a, b []T) {
	e.kernel, e.dst, e.a, e.b = kernel, dst, a, b
	runOpJob(e, len(dst), opParts(len(dst)/elemwiseMinPart), &e.wg)
	e.dst, e.a, e.b = nil, nil, nil
}

func (e *elemwise[T]) runPart(_, lo, hi int) {
	dst, a := e.dst[lo:hi], e.a[lo:hi]
	switch e.kernel {
	case elemReLU:
		reluForward(dst, a)
	case elemReLUGrad:
		reluBackward(dst, a, e.b[lo:hi])
	case elemMul:
		mulInto(dst, a, e.b[lo:hi])
	}
}
