package pool

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter counts the runs of each part.
type counter struct{ runs []atomic.Int32 }

func newCounter(parts int) *counter { return &counter{runs: make([]atomic.Int32, parts)} }

func (c *counter) RunPart(k int) { c.runs[k].Add(1) }

// check fails unless every part ran exactly once, and clears the counts.
func (c *counter) check(t *testing.T, what string) {
	t.Helper()
	for k := range c.runs {
		if n := c.runs[k].Swap(0); n != 1 {
			t.Fatalf("%s: part %d of %d ran %d times", what, k, len(c.runs), n)
		}
	}
}

// withProcs runs f with GOMAXPROCS set to n.
func withProcs(n int, f func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	f()
}

// TestEveryPartRunsOnce runs jobs of many sizes many times on one Runner:
// every part must run exactly once per Run, and a worker that comes late
// must not run a part of a later pass (which would count twice there; run
// it with -race, which also checks that a late worker touches nothing the
// next Run writes).
func TestEveryPartRunsOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 4, 9} {
		withProcs(procs, func() {
			var r Runner
			for _, parts := range []int{0, 1, 2, 3, 7, 64, 1000} {
				c := newCounter(parts)
				for i := range 200 {
					r.Run(c, parts)
					c.check(t, "procs "+strconv.Itoa(procs)+" run "+strconv.Itoa(i))
				}
			}
		})
	}
}

// TestConcurrentCallers runs jobs from many goroutines at once, each with
// its own Runner, as concurrent programs do: they share the workers.
func TestConcurrentCallers(t *testing.T) {
	withProcs(4, func() {
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				var r Runner
				c := newCounter(3 + g)
				for range 300 {
					r.Run(c, len(c.runs))
					c.check(t, "goroutine "+strconv.Itoa(g))
				}
			})
		}
		wg.Wait()
	})
}

// nested is a job whose every part runs an inner job of its own.
type nested struct {
	runners []Runner
	inner   []*counter
}

func (n *nested) RunPart(k int) { n.runners[k].Run(n.inner[k], len(n.inner[k].runs)) }

// TestNestedJobs runs a job whose parts run jobs themselves, as a
// convolution's parts call GEMMs: the inner parts run once each and nothing
// deadlocks, though the workers that would help the inner jobs are busy
// with the outer one.
func TestNestedJobs(t *testing.T) {
	withProcs(3, func() {
		const outer = 5
		n := &nested{runners: make([]Runner, outer)}
		for k := range outer {
			n.inner = append(n.inner, newCounter(2+k))
		}
		var r Runner
		for range 300 {
			r.Run(n, outer)
			for k, c := range n.inner {
				c.check(t, "inner job "+strconv.Itoa(k))
			}
		}
	})
}

// TestRunDoesNotAllocate: in steady state a Run allocates nothing, on one
// processor or several.
func TestRunDoesNotAllocate(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		withProcs(procs, func() {
			var r Runner
			c := newCounter(8)
			r.Run(c, 8) // start the workers, make the channel
			if a := testing.AllocsPerRun(100, func() { r.Run(c, 8) }); a != 0 {
				t.Errorf("GOMAXPROCS %d: %v allocations per Run, want 0", procs, a)
			}
		})
	}
}

// goid returns the calling goroutine's number, from its stack trace.
func goid() int {
	var buf [64]byte
	s := buf[:runtime.Stack(buf[:], false)]
	s = bytes.TrimPrefix(s, []byte("goroutine "))
	n, _ := strconv.Atoi(string(s[:bytes.IndexByte(s, ' ')]))
	return n
}

// blocker is a job whose parts, run by a worker, block until release is
// closed; the part the caller runs waits until every other part is held by
// a worker, so that when Run is under way every worker is stuck in it.
type blocker struct {
	caller  int
	held    atomic.Int32
	release chan struct{}
}

func (b *blocker) RunPart(int) {
	if goid() != b.caller {
		b.held.Add(1)
		<-b.release
		return
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if int(b.held.Load()) == int(numWorkers.Load()) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStalledWorkersDoNotBlockTheCaller stalls every worker inside another
// caller's job, as a busy machine stalls a thread, then runs a job: its
// tickets find no free worker, and the caller must run every part itself
// instead of waiting. A pool that hands parts to workers rather than
// letting them claim parts would wait here until the workers came back.
func TestStalledWorkersDoNotBlockTheCaller(t *testing.T) {
	withProcs(4, func() {
		startWorkers(3)
		workers := int(numWorkers.Load()) // more if an earlier test used more processors
		awaitIdle(t)                      // a caller invites only free workers
		b := &blocker{release: make(chan struct{})}
		stalled := make(chan struct{})
		go func() {
			defer close(stalled)
			b.caller = goid()
			var r Runner
			// As many processors as there are workers plus the caller, so
			// that every worker gets a ticket.
			withProcs(workers+1, func() { r.Run(b, workers+1) })
		}()
		for deadline := time.Now().Add(10 * time.Second); int(b.held.Load()) < workers; {
			if time.Now().After(deadline) {
				close(b.release)
				t.Fatalf("only %d of %d workers joined the blocking job", b.held.Load(), workers)
			}
			time.Sleep(time.Millisecond)
		}

		done := make(chan struct{})
		c := newCounter(8)
		go func() {
			defer close(done)
			var r Runner
			r.Run(c, 8)
		}()
		select {
		case <-done:
			c.check(t, "job run while the workers are stalled")
		case <-time.After(5 * time.Second):
			t.Error("Run waited for stalled workers")
		}
		close(b.release)
		<-stalled
		<-done
	})
}

// TestOneProcessor: with GOMAXPROCS 1 the caller runs every part itself, in
// order, and hands out no ticket.
func TestOneProcessor(t *testing.T) {
	withProcs(1, func() {
		me := goid()
		var order []int
		var r Runner
		r.Run(jobFunc(func(k int) {
			if goid() != me {
				t.Errorf("part %d ran on another goroutine", k)
			}
			order = append(order, k)
		}), 5)
		for k, v := range order {
			if v != k {
				t.Fatalf("parts ran in the order %v", order)
			}
		}
		if len(order) != 5 || r.done != nil {
			t.Errorf("%d parts ran; the pass machinery was used: %v", len(order), r.done != nil)
		}
	})
}

type jobFunc func(k int)

func (f jobFunc) RunPart(k int) { f(k) }

// TestIdleWorkers: once the passes are over, every worker counts as idle,
// and a caller finds them free for its next pass.
func TestIdleWorkers(t *testing.T) {
	withProcs(4, func() {
		var r Runner
		c := newCounter(16)
		for range 100 {
			r.Run(c, len(c.runs))
			c.check(t, "pass")
		}
		awaitIdle(t)
		if active.Load() != 0 {
			t.Errorf("%d callers active after the passes", active.Load())
		}
	})
}

// awaitIdle waits until every worker is idle and no ticket of a closed pass
// is left in the queue (with the queue full, a caller would keep its parts
// to itself).
func awaitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for idle.Load() != numWorkers.Load() || len(queue) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle workers of %d after the passes", idle.Load(), numWorkers.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBusyWorkerDoesNotStallCaller: with the one worker of GOMAXPROCS 2
// held inside another caller's part, a second caller's job completes on
// its own goroutine.
func TestBusyWorkerDoesNotStallCaller(t *testing.T) {
	withProcs(2, func() {
		startWorkers(1)
		awaitIdle(t) // so that the first caller invites a worker
		release := make(chan struct{})
		held := make(chan struct{}, 2)
		blocker := &blockJob{release: release, held: held}
		var r1 Runner
		done1 := make(chan struct{})
		go func() {
			r1.Run(blocker, 2) // both parts block: the caller's and the worker's
			close(done1)
		}()
		<-held
		select { // both goroutines are inside a part
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatalf("the first caller's second part did not start: %d idle of %d workers, %d active, queue %d, state %x",
				idle.Load(), numWorkers.Load(), active.Load(), len(queue), r1.state.Load())
		}
		var r2 Runner
		c := newCounter(8)
		finished := make(chan struct{})
		go func() {
			r2.Run(c, len(c.runs))
			close(finished)
		}()
		select {
		case <-finished:
			c.check(t, "second caller")
		case <-time.After(10 * time.Second):
			t.Fatal("a caller waited for a worker busy with another caller's part")
		}
		close(release)
		<-done1
	})
}

// blockJob's parts wait for release, saying so on held.
type blockJob struct {
	release chan struct{}
	held    chan struct{}
}

func (b *blockJob) RunPart(int) {
	b.held <- struct{}{}
	<-b.release
}
