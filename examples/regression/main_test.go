package main

import (
	"bytes"
	"fmt"
	"testing"
)

func TestRegression(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, 60); err != nil {
		t.Fatal(err)
	}
	var mse, r2, top float64
	if _, err := fmt.Sscanf(out.String(), "validation mse %f  r2 %f; sin(π/2) ≈ %f", &mse, &r2, &top); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if r2 < 0.98 || top < 0.9 || top > 1.1 {
		t.Errorf("after 60 epochs: %s", out.String())
	}
}
