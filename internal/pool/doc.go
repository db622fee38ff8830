// Package pool runs work in parts on the calling goroutine and on a set of
// long-lived worker goroutines that the whole program shares: the GEMMs of
// package blas, the optimizers' updates of package optim and the kernels of
// graph/ops all use it, so that they never start more than GOMAXPROCS−1
// workers between them.
//
//	type scale struct{ x []float64 }
//
//	func (s *scale) RunPart(k int) { // part k of 4
//		lo, hi := k*len(s.x)/4, (k+1)*len(s.x)/4
//		for i := lo; i < hi; i++ {
//			s.x[i] *= 2
//		}
//	}
//
//	var r pool.Runner // one per caller, reused from call to call
//	r.Run(&scale{x}, 4)
//
// The caller and the workers claim the parts one by one, so that a worker
// that is late to start (its core busy with another process, its thread
// descheduled) costs the caller nothing: the caller runs the parts itself
// and never waits for a worker that has not begun. A caller invites only
// workers that are free; when all are busy with other callers' jobs (many
// goroutines predicting at once) it runs its parts alone. A worker that
// has finished polls for the next job for 50 µs before it sleeps, so that
// the jobs of one training step or prediction, microseconds apart, find it
// awake: a sleeping worker took over 20 µs to join. Which goroutine runs a
// part is left to chance, so a job whose result must be the same bits at
// every run keeps what each part computes to itself (a partial sum per
// part) and combines the parts in part order once Run returns.
package pool
