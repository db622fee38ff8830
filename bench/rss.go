package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// peakRSSMB returns the process's peak resident set size in MiB: VmHWM in
// /proc/self/status (Linux only).
func peakRSSMB() (float64, error) {
	return readVmHWM("/proc/self/status")
}

// readVmHWM reads the "VmHWM:  1234 kB" line of a /proc/<pid>/status file.
func readVmHWM(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, errors.Wrap(err, "reading the peak RSS")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, errors.Errorf("reading the peak RSS: %s: malformed VmHWM line %q", path, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, errors.Errorf("reading the peak RSS: %s: malformed VmHWM line %q", path, sc.Text())
		}
		return float64(kb) / 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, errors.Wrapf(err, "reading the peak RSS from %s", path)
	}
	return 0, errors.Errorf("reading the peak RSS: %s has no VmHWM line", path)
}

// resetPeakRSS makes VmHWM start again from the current RSS, so that each
// workload's peak is its own (Linux ≥ 4.0: writing 5 to clear_refs). It
// reports whether that worked; when it did not, VmHWM is the peak of the
// whole process so far.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
