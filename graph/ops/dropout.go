package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DropoutConfig configures Dropout.
type DropoutConfig struct {
	// Name tells apart, in the op's hash, dropouts of the same shape
	// (docs/GORGONIA.md#identical-nodes-merge).
	Name string
	// P is the rate the mask was drawn with, in [0, 1).
	P float64
}

// Dropout multiplies x by a dropout mask, elementwise, as one op: y = x⊙mask
// and dx = dy⊙mask. The mask is an input of the graph holding 0 or
// 1/(1−P), refilled before each run by FillDropoutMask from the run's
// seeded generator. It replaces Gorgonia's Dropout, whose backward divides
// by P instead of 1−P and whose generator is seeded from the clock
// (docs/GORGONIA.md#dropout-is-wrong), and HadamardProd, which allocates
// its output at every run and whose backward also computes the gradient
// with respect to the mask, which nothing needs.
//
//	x, mask: [d0, d1, …] → y: same shape
func Dropout(x, mask *G.Node, cfg DropoutConfig) (*G.Node, error) {
	if !hasShape(mask, x.Shape()) {
		return nil, errors.Errorf("ops.Dropout %s: mask %v, want the input's shape %v", cfg.Name, mask.Shape(), x.Shape())
	}
	if !(cfg.P >= 0 && cfg.P < 1) {
		return nil, errors.Errorf("ops.Dropout %s: rate %v not in [0, 1)", cfg.Name, cfg.P)
	}
	shape := []int(x.Shape().Clone())
	return apply("ops.Dropout", x.Dtype(),
		func() G.Op { return newDropoutOp[float32](cfg, shape) },
		func() G.Op { return newDropoutOp[float64](cfg, shape) }, x, mask)
}

// dropoutOp is the forward op of Dropout.
type dropoutOp[T Float] struct {
	elemOp[T]
	cfg DropoutConfig
}

func newDropoutOp[T Float](cfg DropoutConfig, shape []int) *dropoutOp[T] {
	desc := fmt.Sprintf("Dropout %s p=%v %v", cfg.Name, cfg.P, shape)
	return &dropoutOp[T]{elemOp: newElemOp[T](desc, elemMul, shape, "input", "mask"), cfg: cfg}
}

// DiffWRT implements gorgonia.SDOp: the mask is not differentiated.
func (op *dropoutOp[T]) DiffWRT(n int) []bool { return []bool{true, false} }

// SymDiff implements gorgonia.SDOp: dx = mask⊙dy, and no gradient for the
// mask.
func (op *dropoutOp[T]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.CheckArity(len(inputs)); err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("Dropout %s p=%v dx %v", op.cfg.Name, op.cfg.P, op.shape)
	dxOp := newElemOp[T](desc, elemMul, op.shape, "mask", "output gradient")
	dx, err := applyGrad(op, "input gradient", &dxOp, inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}

// FillDropoutMask fills t, a float32 or float64 mask for Dropout, from rng:
// each element is 0 with probability p and 1/(1−p) otherwise, computed in
// float64 and rounded to t's type. It drops exactly the elements for which
// rng.Float64() < p would hold, so that a seed always gives the same masks.
// It panics if t holds another type.
//
// When rng draws from a *rand.PCG (as the trainer's does), the draws are
// made by a copy of the generator without a call per element, and a large
// mask is filled in parts on the workers of internal/pool, each part from
// its own place in the stream: the same mask, and rng left where the draws
// one by one would leave it.
func FillDropoutMask(rng *rand.Rand, t *tensor.Dense, p float64) {
	keep := 1 / (1 - p)
	switch t.Dtype() {
	case tensor.Float32:
		fillMask(rng, t.Float32s(), p, float32(keep))
	case tensor.Float64:
		fillMask(rng, t.Float64s(), p, keep)
	default:
		panic(errors.Errorf("ops.FillDropoutMask: unsupported dtype %v", t.Dtype()))
	}
}

// maskMinPart is the fewest elements of a mask worth a part of their own:
// a draw takes a few nanoseconds, so 2¹⁴ of them some tens of
// microseconds, well above what handing a part to a worker costs.
const maskMinPart = 1 << 14

// fillMask is fillDropoutMask, from a copy of rng's PCG when it has one.
func fillMask[T Float](rng *rand.Rand, m []T, p float64, keep T) {
	src := pcgOf(rng)
	if src == nil {
		fillDropoutMask(rng, m, p, keep)
		return
	}
	j, _ := maskJobs.Get().(*maskJob[T])
	if j == nil {
		j = new(maskJob[T])
	}
	j.m, j.thr, j.vals, j.start = m, dropThreshold(p), [2]T{0, keep}, loadPCG(src)
	j.par.init(len(m), maskMinPart)
	j.par.run(j)
	storePCG(src, j.start.jump(uint64(len(m))))
	j.m = nil
	maskJobs.Put(j)
}

// maskJobs holds maskJob[float32] and maskJob[float64] values alike.
var maskJobs sync.Pool

// maskJob fills a mask in parts, part k from the generator's state after
// the draws of the parts before it.
type maskJob[T Float] struct {
	m     []T
	thr   uint64
	vals  [2]T
	start pcg
	par   split
}

// RunPart implements pool.Job. Each draw waits for the previous one (the
// generator's state is a chain of 128-bit multiply-adds), so the part is
// drawn as four quarters at once, each from its own place in the stream,
// whose chains overlap.
func (j *maskJob[T]) RunPart(k int) {
	lo, hi := j.par.part(k)
	m, thr, vals := j.m[lo:hi], j.thr, j.vals
	q := len(m) / 4
	g0, g1, g2, g3 := j.start.jump(uint64(lo)), j.start.jump(uint64(lo+q)), j.start.jump(uint64(lo+2*q)), j.start.jump(uint64(lo+3*q))
	m0, m1, m2, m3 := m[:q], m[q:2*q], m[2*q:3*q], m[3*q:]
	m1, m2, m3 = m1[:len(m0)], m2[:len(m0)], m3[:len(m3)] // drop the checks in the loop
	for i := range m0 {
		u0, u1, u2, u3 := g0.uint64()<<11>>11, g1.uint64()<<11>>11, g2.uint64()<<11>>11, g3.uint64()<<11>>11
		m0[i] = vals[((u0-thr)>>63^1)&1] // see fillDropoutMask
		m1[i] = vals[((u1-thr)>>63^1)&1]
		m2[i] = vals[((u2-thr)>>63^1)&1]
		m3[i] = vals[((u3-thr)>>63^1)&1]
	}
	for i := q; i < len(m3); i++ { // the last quarter's extra elements
		u := g3.uint64() << 11 >> 11
		m3[i] = vals[((u-thr)>>63^1)&1]
	}
}

// dropThreshold is ⌈p·2⁵³⌉: Float64 < p ⟺ the low 53 bits of its draw are
// below it (fillDropoutMask).
func dropThreshold(p float64) uint64 { return uint64(math.Ceil(p * (1 << 53))) }

// fillDropoutMask sets each element of m to 0 with probability p and to
// keep otherwise. Rather than draw rng.Float64() and compare, it compares
// integers: Float64 is u/2⁵³ for u the low 53 bits of one rng.Uint64,
// exactly, so Float64 < p ⟺ u < ⌈p·2⁵³⌉.
func fillDropoutMask[T Float](rng *rand.Rand, m []T, p float64, keep T) {
	thr := dropThreshold(p)
	vals := [2]T{0, keep}
	for i := range m {
		u := rng.Uint64() << 11 >> 11
		// u − thr wraps to a number with the top bit set exactly when
		// u < thr: indexing by it rather than branching, since which
		// elements drop is random and a branch would often be
		// mispredicted.
		m[i] = vals[((u-thr)>>63^1)&1]
	}
}

var (
	_ G.SDOp = (*dropoutOp[float32])(nil)
	_ G.Op   = (*elemOp[float64])(nil)
)
