package bench

import (
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// loadAvg1 returns the 1-minute load average (Linux only): how many
// threads were running or waiting to run. On a machine shared with other
// jobs it says how much of the CPU a measurement really had.
func loadAvg1() (float64, error) { return readLoadAvg("/proc/loadavg") }

// readLoadAvg reads the first field of a /proc/loadavg file
// ("4.22 4.56 5.71 5/95 32377").
func readLoadAvg(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, errors.Wrap(err, "reading the load average")
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.Errorf("reading the load average: %s is empty", path)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 {
		return 0, errors.Errorf("reading the load average: %s starts with %q, not a load", path, f[0])
	}
	return v, nil
}
