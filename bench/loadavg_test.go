package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestReadLoadAvg(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text string
		want       float64
		ok         bool
	}{
		// A line as Linux writes it (proc(5)).
		{"good", "4.22 4.56 5.71 5/95 32377\n", 4.22, true},
		{"empty", "", 0, false},
		{"garbage", "high 1 1\n", 0, false},
		{"negative", "-1 0 0\n", 0, false},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readLoadAvg(path)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: %v, %v; want %v, ok %v", tc.name, got, err, tc.want, tc.ok)
		}
	}
	if runtime.GOOS == "linux" {
		if _, err := loadAvg1(); err != nil {
			t.Error(err)
		}
	}
}
