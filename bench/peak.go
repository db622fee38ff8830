package bench

import (
	"runtime"
	"time"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/tapestry-ml/tapestry/blas"
)

// peakSize and peakRuns are the SGEMM that measures the machine's peak: n³
// at n = 512 is package blas's fastest square size on one core (docs/
// PERFORMANCE.md, "SGEMM, one core"), 268 MFLOP, a few milliseconds.
const (
	peakSize = 512
	peakRuns = 20
)

// sgemmPeak returns the machine's measured SGEMM peak in GFLOP/s at the
// current GOMAXPROCS: the fastest of peakRuns multiplies of two 512×512
// matrices by package blas, whatever BLAS the workloads use. It is the
// yardstick of every row's peak_fraction, measured in the same process and
// under the same load as the rows.
func sgemmPeak() float64 {
	n := peakSize
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) - 3
		b[i] = float32(i%5) - 2
	}
	var impl blas.Implementation
	mul := func() {
		impl.Sgemm(gblas.NoTrans, gblas.NoTrans, n, n, n, 1, a, n, b, n, 0, c, n)
	}
	mul() // the first call fills the packing buffers' pools
	best := time.Duration(1 << 62)
	for range peakRuns {
		t := time.Now()
		mul()
		best = min(best, time.Since(t))
	}
	runtime.KeepAlive(c)
	return 2 * float64(n) * float64(n) * float64(n) / best.Seconds() / 1e9
}
