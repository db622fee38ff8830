package main

import (
	"bytes"
	"fmt"
	"testing"
)

func TestResidual(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, 15); err != nil {
		t.Fatal(err)
	}
	var params, epochs int
	var acc float64
	if _, err := fmt.Sscanf(out.String(), "%d parameters; validation accuracy %f%% after %d epochs", &params, &acc, &epochs); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if acc < 95 || epochs != 15 {
		t.Errorf("%s", out.String())
	}
}
