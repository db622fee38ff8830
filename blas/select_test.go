package blas

import (
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
)

func TestUse(t *testing.T) {
	prev := gorgonia.WhichBLAS()
	defer gorgonia.Use(prev)
	for _, name := range []string{"gonum", "tapestry", ""} {
		if err := Use(name); err != nil {
			t.Fatalf("Use(%q): %v", name, err)
		}
		_, ours := gorgonia.WhichBLAS().(Implementation)
		if want := name != "gonum"; ours != want {
			t.Errorf("Use(%q): gorgonia calls %T", name, gorgonia.WhichBLAS())
		}
	}
	if err := Use("openblas"); err == nil || !strings.Contains(err.Error(), "tapestry, gonum") {
		t.Errorf("Use(openblas): %v", err)
	}
}
