package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

func TestCustomLayer(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, filepath.Join(t.TempDir(), "m.safetensors"), 30); err != nil {
		t.Fatal(err)
	}
	var checked int
	var maxErr, mse, a, b float64
	if _, err := fmt.Sscanf(out.String(), "gradient check: %d elements, largest error %e\ntraining mse %f\nf(1, −1) = %f (want 4); loaded from the file: %f",
		&checked, &maxErr, &mse, &a, &b); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if checked != 3*4+4 || maxErr > 1e-6 || mse > 0.1 || a < 3.7 || a > 4.3 || a != b {
		t.Errorf("%s", out.String())
	}
}
