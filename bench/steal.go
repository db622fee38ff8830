package bench

import (
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// cpuTimes are the machine's CPU times from /proc/stat (Linux): all of
// them, and steal, the time the hypervisor ran other virtual machines on
// this one's virtual CPUs while they had work.
type cpuTimes struct{ total, steal uint64 }

func readCPUTimes() (cpuTimes, error) { return parseCPUTimes("/proc/stat") }

// parseCPUTimes reads the first line of a /proc/stat file, "cpu  user nice
// system idle iowait irq softirq steal guest guest_nice" in clock ticks
// (proc(5)); guest time is part of user time, so it is not added twice.
func parseCPUTimes(path string) (cpuTimes, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return cpuTimes{}, errors.Wrap(err, "reading the CPU times")
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, errors.Errorf("reading the CPU times: %s does not start with a cpu line of 8 times", path)
	}
	var t cpuTimes
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, errors.Errorf("reading the CPU times: %q in %s is not a count", s, path)
		}
		t.total += v
		if i == 7 {
			t.steal = v
		}
	}
	return t, nil
}

// stealFraction is the share of the CPU time from a to b that the
// hypervisor took (0 when no time passed).
func stealFraction(a, b cpuTimes) float64 {
	if b.total <= a.total {
		return 0
	}
	return float64(b.steal-a.steal) / float64(b.total-a.total)
}
