package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestReadVmHWM(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, status string
		want         float64
		ok           bool
	}{
		// 2048 kB is 2 MiB.
		{"good", "Name:\tbench\nVmPeak:\t  9999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n", 2, true},
		{"missing", "Name:\tbench\n", 0, false},
		{"malformed", "VmHWM:\t lots\n", 0, false},
		{"unit", "VmHWM:\t 12 MB\n", 0, false},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.status), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readVmHWM(path)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: %v, %v; want %v, ok %v", tc.name, got, err, tc.want, tc.ok)
		}
	}
	if _, err := readVmHWM(filepath.Join(dir, "absent")); err == nil {
		t.Error("absent file: no error")
	}
	if runtime.GOOS == "linux" {
		if mb, err := peakRSSMB(); err != nil || mb <= 0 {
			t.Errorf("peakRSSMB() = %v, %v", mb, err)
		}
	}
}
