package bench

import (
	"context"
	"testing"
	"time"
)

// TestMeasureStallsSeesAStall runs the meter on one processor while another
// goroutine takes that processor from it for 60 ms: the Go scheduler hands
// it over in slices of about 10 ms, so the meter must report gaps of
// milliseconds in the window where they happened. (Window 0 may have its
// own: the machine's.)
func TestMeasureStallsSeesAStall(t *testing.T) {
	if testing.Short() {
		t.Skip("spins for 6 s")
	}
	go func() {
		time.Sleep(StallWindow + 200*time.Millisecond)
		for end := time.Now().Add(60 * time.Millisecond); time.Now().Before(end); {
		}
	}()
	rep, err := MeasureStalls(context.Background(), StallWindow+time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.Procs != 1 || len(rep.WindowLongestUS) != 2 || rep.Seconds < 6 {
		t.Fatalf("report %+v: want 1 proc, 2 windows, 6 s", rep)
	}
	if rep.Over1ms < 1 || rep.WindowLongestUS[1] < 3000 || rep.LongestUS != max(rep.WindowLongestUS[0], rep.WindowLongestUS[1]) {
		t.Errorf("the 60 ms taken from the meter's processor in window 1 did not show: %+v", rep)
	}
}

func TestMeasureStallsRefusesBadArguments(t *testing.T) {
	for _, c := range []struct {
		d     time.Duration
		procs int
	}{{0, 1}, {time.Second, 0}, {-time.Second, 2}} {
		if _, err := MeasureStalls(context.Background(), c.d, c.procs); err == nil {
			t.Errorf("MeasureStalls(%v, %d) accepted", c.d, c.procs)
		}
	}
}

func TestMeasureStallsStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := MeasureStalls(ctx, time.Hour, 1); err == nil {
		t.Error("a cancelled measurement returned no error")
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("took %v to stop", took)
	}
}
