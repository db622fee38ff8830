//go:build linux

package memlimit

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHelperAllocate allocates $MEMLIMIT_TEST_BYTES and touches every page.
func TestHelperAllocate(t *testing.T) {
	if !Child(t) {
		return
	}
	n, _ := strconv.Atoi(os.Getenv("MEMLIMIT_TEST_BYTES"))
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	Exit(nil)
}

// TestLimitBites shows that the limit is real: an allocation twice the budget kills
// the child, one of a tenth of it does not. A test that uses Run to show a reader
// stays within the budget could otherwise pass with no limit at all. The runtime says
// "fatal error: out of memory"; under the race detector, whose shadow memory must be
// mapped too, the runtime or the detector itself fails to map it.
func TestLimitBites(t *testing.T) {
	r := Run(t, "TestHelperAllocate", Budget, 30*time.Second, "MEMLIMIT_TEST_BYTES="+strconv.Itoa(2*Budget))
	oom := strings.Contains(r.Output, "fatal error: out of memory") ||
		strings.Contains(r.Output, "fatal error: too many address space collisions") ||
		strings.Contains(r.Output, "ThreadSanitizer failed to allocate")
	if !r.Crashed() || !oom {
		t.Fatalf("allocating 2 GiB under a 1 GiB budget: exit %d, output:\n%.2000s", r.ExitCode, r.Output)
	}
	r = Run(t, "TestHelperAllocate", Budget, 30*time.Second, "MEMLIMIT_TEST_BYTES="+strconv.Itoa(Budget/10))
	if r.Crashed() || r.ExitCode != 0 {
		t.Fatalf("allocating 100 MiB under a 1 GiB budget: exit %d, output:\n%s", r.ExitCode, r.Output)
	}
}

func TestTimeoutIsReported(t *testing.T) {
	r := Run(t, "TestHelperSleep", Budget, 200*time.Millisecond)
	if !r.TimedOut || !r.Crashed() {
		t.Fatalf("a child sleeping past its timeout: %+v", r)
	}
}

func TestHelperSleep(t *testing.T) {
	if !Child(t) {
		return
	}
	time.Sleep(time.Minute)
}
