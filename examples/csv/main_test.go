package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

func TestCSV(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, filepath.Join(t.TempDir(), "fruit.csv"), 60); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`test accuracy (\d+\.\d+)% \((\d+)/80\)\n.*probability (\d\.\d\d)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output %q", out.String())
	}
	acc, _ := strconv.ParseFloat(m[1], 64)
	p, _ := strconv.ParseFloat(m[3], 64)
	if acc < 90 || p < 0.9 {
		t.Errorf("accuracy %v%%, ripe probability %v:\n%s", acc, p, out.String())
	}
}
