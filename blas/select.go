package blas

import (
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

// Names lists the BLAS implementations Use accepts: "tapestry" (this
// package) and "gonum" (Gorgonia's default, pure Go).
var Names = []string{"tapestry", "gonum"}

// Use makes the named BLAS the one Gorgonia and tensor call, for the
// commands' and benchmarks' -blas settings; "" is "tapestry". Like
// gorgonia.Use it is meant for start-up, before any graph runs.
func Use(name string) error {
	switch name {
	case "tapestry", "":
		Install()
	case "gonum":
		gorgonia.Use(gonum.Implementation{})
	default:
		return errors.Errorf("unknown BLAS %q (want one of %s)", name, strings.Join(Names, ", "))
	}
	return nil
}
