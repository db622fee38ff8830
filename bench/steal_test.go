package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestParseCPUTimes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A /proc/stat as Linux writes it (proc(5)): user nice system idle
	// iowait irq softirq steal guest guest_nice.
	a, err := parseCPUTimes(write("a", "cpu  100 0 20 800 5 0 5 70 0 0\ncpu0 50 0 10 400 2 0 2 35 0 0\n"))
	if err != nil || a.total != 1000 || a.steal != 70 {
		t.Fatalf("parsed %+v, %v; want total 1000, steal 70", a, err)
	}
	b, err := parseCPUTimes(write("b", "cpu  150 0 30 900 5 0 5 110 3 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	// 200 ticks passed, 40 of them stolen.
	if f := stealFraction(a, b); f != 0.2 {
		t.Errorf("steal fraction %v, want 0.2", f)
	}
	if f := stealFraction(b, b); f != 0 {
		t.Errorf("steal fraction with no time passed %v, want 0", f)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu 1 2 3 4 5 6 x 8\n"} {
		if _, err := parseCPUTimes(write("bad", bad)); err == nil {
			t.Errorf("parseCPUTimes(%q): no error", bad)
		}
	}
	if runtime.GOOS == "linux" {
		if _, err := readCPUTimes(); err != nil {
			t.Error(err)
		}
	}
}
