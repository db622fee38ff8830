package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/pkg/errors"
)

// StallReport is what MeasureStalls saw: how long, at most, a goroutine
// that never blocks went without running. On a shared virtual machine the
// operating system and the hypervisor stop a thread now and then; any
// call that is running at that moment takes that much longer, so a
// latency tail is only tapestry's to the extent it exceeds this floor.
type StallReport struct {
	Seconds float64 `json:"seconds"`
	Procs   int     `json:"procs"`
	// LongestUS is the longest gap between two consecutive clock readings
	// of one spinning goroutine; WindowLongestUS the longest in each
	// window of StallWindow, in order.
	LongestUS       float64   `json:"longest_stall_us"`
	WindowLongestUS []float64 `json:"window_longest_us"`
	// Over1ms and Over10ms count the gaps longer than 1 and 10 ms, over
	// every spinning goroutine.
	Over1ms  int `json:"stalls_over_1ms"`
	Over10ms int `json:"stalls_over_10ms"`
	// StealFraction is the share of the CPU time the hypervisor took
	// meanwhile (/proc/stat); -1 where it cannot be read.
	StealFraction float64 `json:"steal_fraction"`
}

// StallWindow is the span of one window of StallReport.WindowLongestUS.
const StallWindow = 5 * time.Second

// MeasureStalls spins one goroutine per processor (GOMAXPROCS procs) for
// d, each reading the clock as fast as it can and keeping the gaps between
// readings, and reports them. The goroutines never block and no other
// work runs, so a gap is time the thread did not run: an interrupt, another
// process, the hypervisor (or the Go runtime's own pauses, which a
// workload would see too). It uses every core for d.
func MeasureStalls(ctx context.Context, d time.Duration, procs int) (StallReport, error) {
	if d <= 0 || procs < 1 {
		return StallReport{}, errors.Errorf("stalls: duration %v and procs %d must be positive", d, procs)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	rep := StallReport{Procs: procs, StealFraction: -1}
	before, errBefore := readCPUTimes()
	windows := int((d + StallWindow - 1) / StallWindow)
	perProc := make([]spinResult, procs)
	began := time.Now()
	end := began.Add(d)
	var wg sync.WaitGroup
	for p := range perProc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			perProc[p] = spin(ctx, began, end, windows)
		}()
	}
	wg.Wait()
	rep.Seconds = time.Since(began).Seconds()
	if err := ctx.Err(); err != nil {
		return rep, errors.Wrap(err, "stalls")
	}
	if after, err := readCPUTimes(); err == nil && errBefore == nil {
		rep.StealFraction = stealFraction(before, after)
	}
	rep.WindowLongestUS = make([]float64, windows)
	for _, r := range perProc {
		rep.Over1ms += r.over1ms
		rep.Over10ms += r.over10ms
		for w, g := range r.windowLongest {
			us := float64(g) / float64(time.Microsecond)
			rep.WindowLongestUS[w] = max(rep.WindowLongestUS[w], us)
			rep.LongestUS = max(rep.LongestUS, us)
		}
	}
	return rep, nil
}

// spinResult is one spinning goroutine's gaps.
type spinResult struct {
	windowLongest     []time.Duration
	over1ms, over10ms int
}

// spin reads the clock until end (or ctx is done), keeping the longest
// gap of each StallWindow from began and counting the long ones. A gap
// counts in the window where it ended.
func spin(ctx context.Context, began, end time.Time, windows int) spinResult {
	r := spinResult{windowLongest: make([]time.Duration, windows)}
	last := time.Now()
	for i := 0; last.Before(end); i++ {
		if i%(1<<16) == 0 && ctx.Err() != nil {
			break
		}
		now := time.Now()
		gap := now.Sub(last)
		last = now
		if gap < time.Millisecond/10 {
			continue
		}
		w := min(windows-1, int(now.Sub(began)/StallWindow))
		r.windowLongest[w] = max(r.windowLongest[w], gap)
		if gap > time.Millisecond {
			r.over1ms++
		}
		if gap > 10*time.Millisecond {
			r.over10ms++
		}
	}
	return r
}

// RunStalls is cmd/bench -stalls: MeasureStalls for d at each GOMAXPROCS of
// procs, a line of text to log for each and, with jsonOut, the report as
// one JSON line to out.
func RunStalls(ctx context.Context, d time.Duration, procs []int, jsonOut bool, out, log io.Writer) error {
	for _, n := range procs {
		rep, err := MeasureStalls(ctx, d, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "stalls GOMAXPROCS %d over %.1f s: longest %.1f µs, %d over 1 ms, %d over 10 ms, steal %.1f%%; longest per %v window (µs): %.0f\n",
			rep.Procs, rep.Seconds, rep.LongestUS, rep.Over1ms, rep.Over10ms, 100*rep.StealFraction, StallWindow, rep.WindowLongestUS)
		if jsonOut {
			if err := json.NewEncoder(out).Encode(rep); err != nil {
				return errors.Wrap(err, "stalls")
			}
		}
	}
	return nil
}
