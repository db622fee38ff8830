package ops

import (
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var dtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

// tensorOf returns a tensor of dt and shape holding vals.
func tensorOf(dt tensor.Dtype, shape []int, vals []float64) *tensor.Dense {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	setAll(t, func(i int) float64 { return vals[i] })
	return t
}

// randTensor returns a tensor of dt and shape drawn from U(−1, 1).
func randTensor(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	setAll(t, func(int) float64 { return 2*rng.Float64() - 1 })
	return t
}

func setAll(t *tensor.Dense, f func(i int) float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(f(i))
		}
	case []float64:
		for i := range d {
			d[i] = f(i)
		}
	}
}

// float64s returns the elements of a *tensor.Dense value as float64.
func float64s(t *testing.T, v G.Value) []float64 {
	t.Helper()
	d, ok := v.(*tensor.Dense)
	if !ok {
		t.Fatalf("value is a %T, want a *tensor.Dense", v)
	}
	var out []float64
	switch s := d.Data().(type) {
	case []float32:
		for _, x := range s {
			out = append(out, float64(x))
		}
	case []float64:
		out = append(out, s...)
	}
	return out
}

// sameBits fails unless got and want hold the same numbers (a NaN
// matching a NaN): the ops' by-hand results are exact.
func sameBits(t *testing.T, got, want []float64) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(g, w float64) bool { return g == w || (g != g && w != w) }) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// hashesApart fails if two of the ops hash alike.
func hashesApart(t *testing.T, ops ...G.Op) {
	t.Helper()
	seen := map[uint32]int{}
	for i, op := range ops {
		if j, ok := seen[op.Hashcode()]; ok {
			t.Errorf("ops %d (%v) and %d (%v) hash alike", j, ops[j], i, op)
		}
		seen[op.Hashcode()] = i
	}
}

// runOps runs each op's Do on its inputs, in order, and panics on error:
// a forward op and its backward ops, as the tape machine would.
func runOps(ops []G.Op, inputs [][]G.Value) {
	for i, op := range ops {
		if _, err := op.Do(inputs[i]...); err != nil {
			panic(err)
		}
	}
}
