package optim

import (
	"math"
	"unsafe"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// clipEps keeps the clipping factor finite for a zero norm; it is PyTorch
// 1.13's (torch.nn.utils.clip_grad_norm_: max_norm / (total_norm + 1e-6)).
const clipEps = 1e-6

// GlobalNorm returns the L2 norm of all gradients taken as one vector,
// √(Σ g²), accumulated in float64. It is NaN or +Inf if a gradient is.
func GlobalNorm(params []Param) float64 {
	norm, _ := gradNorm(params)
	return norm
}

// ClipGlobalNorm scales every gradient by maxNorm/(norm + 1e-6) when that
// factor is below 1, so the global norm becomes at most maxNorm, as PyTorch
// 1.13's clip_grad_norm_ does. It returns the norm before clipping. If the
// norm is NaN or infinite it changes nothing (PyTorch would fill the
// gradients with NaN); the caller decides what to do. It panics if maxNorm
// is not positive and finite.
func ClipGlobalNorm(params []Param, maxNorm float64) (norm float64) {
	if !(maxNorm > 0) || math.IsInf(maxNorm, 1) {
		panic(errors.Errorf("optim: ClipGlobalNorm: maxNorm %v is not positive and finite", maxNorm))
	}
	norm, bad := gradNorm(params)
	if bad >= 0 {
		return norm
	}
	if s := clipScale(norm, maxNorm); s != 1 {
		for _, p := range params {
			if p.Grad.Dtype() == tensor.Float32 {
				scaleSlice(p.Grad.Float32s(), float32(s))
			} else {
				scaleSlice(p.Grad.Float64s(), s)
			}
		}
	}
	return norm
}

// ZeroGrads sets every gradient to zero, for a caller that skips a step
// after Step refused non-finite gradients.
func ZeroGrads(params []Param) {
	for _, p := range params {
		if p.Grad.Dtype() == tensor.Float32 {
			clear(p.Grad.Float32s())
		} else {
			clear(p.Grad.Float64s())
		}
	}
}

// clipScale is the factor clipping multiplies the gradients by: 1 when off
// (maxNorm 0) or when the norm is within bounds.
func clipScale(norm, maxNorm float64) float64 {
	if maxNorm <= 0 {
		return 1
	}
	return math.Min(1, maxNorm/(norm+clipEps))
}

func scaleSlice[T float](x []T, s T) {
	for i := range x {
		x[i] *= s
	}
}

// gradNorm returns the global gradient norm and the index of the first
// parameter whose gradient holds a NaN or an infinity, or -1 if none does.
// The common case is one pass of float64 sums of squares; only when that sum
// is not finite does it look for the culprit, and if every element is finite
// (float64 squares above ~1e308 overflowed) it recomputes the norm scaled.
func gradNorm(params []Param) (float64, int) {
	total := 0.0
	for _, p := range params {
		total += sumSquares(p.Grad)
	}
	return finishNorm(params, total)
}

// finishNorm is the end of gradNorm, given the sum of squares.
func finishNorm(params []Param, total float64) (float64, int) {
	if !math.IsNaN(total) && !math.IsInf(total, 0) {
		return math.Sqrt(total), -1
	}
	for i, p := range params {
		if !allFinite(p.Grad) {
			return math.Sqrt(total), i
		}
	}
	return scaledNorm(params), -1
}

// sumSquares returns Σ x² over t, summed span by span (spans of spanSize
// elements, as a parallel Step cuts them) and the spans' sums added in
// order, so that GlobalNorm and the norm a Step computes are the same bits.
func sumSquares(t *tensor.Dense) float64 {
	if t.Dtype() == tensor.Float32 {
		return sumSqSpans(t.Float32s())
	}
	return sumSqSpans(t.Float64s())
}

func sumSqSpans[T float](x []T) float64 {
	s := 0.0
	for lo := 0; lo < len(x); lo += spanSize {
		s += sumSq(x[lo:min(lo+spanSize, len(x))])
	}
	return s
}

// sumSq returns Σ x² in float64. Four accumulators let the additions
// overlap instead of each waiting for the previous one.
func sumSq[T float](x []T) float64 {
	var s0, s1, s2, s3 float64
	for ; len(x) >= 4; x = x[4:] {
		a, b, c, d := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for _, v := range x {
		a := float64(v)
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}

// allFinite32 says whether every element of x is finite, that is whether
// none has an exponent of all ones (±Inf, NaN). It reads two elements as one
// uint64 and adds, per half, 1 to the exponent field: the addition carries
// into the half's top bit exactly when the exponent was all ones (no carry
// crosses into the other half), and the top bits are OR-ed together, so the
// loop has no branch and no float arithmetic.
func allFinite32(x []float32) bool {
	const (
		exp   = 0x7f8000007f800000
		one   = 0x0080000000800000
		carry = 0x8000000080000000
	)
	if len(x) > 0 && uintptr(unsafe.Pointer(&x[0]))%8 != 0 {
		if !finite(x[:1]) {
			return false
		}
		x = x[1:]
	}
	if len(x) < 2 {
		// No pair to read as one uint64; SliceData of what is left may
		// point past its allocation (the race detector's checkptr says so).
		return finite(x)
	}
	u := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(x))), len(x)/2)
	var a0, a1 uint64
	for ; len(u) >= 2; u = u[2:] {
		a0 |= u[0]&exp + one
		a1 |= u[1]&exp + one
	}
	for _, v := range u {
		a0 |= v&exp + one
	}
	return (a0|a1)&carry == 0 && finite(x[len(x)&^1:])
}

// allFinite64 is allFinite32 for float64, one element at a time.
func allFinite64(x []float64) bool {
	const (
		exp   = 0x7ff0000000000000
		one   = 0x0010000000000000
		carry = 0x8000000000000000
	)
	var a0, a1 uint64
	for ; len(x) >= 2; x = x[2:] {
		a0 |= math.Float64bits(x[0])&exp + one
		a1 |= math.Float64bits(x[1])&exp + one
	}
	for _, v := range x {
		a0 |= math.Float64bits(v)&exp + one
	}
	return (a0|a1)&carry == 0
}

func allFinite(t *tensor.Dense) bool {
	if t.Dtype() == tensor.Float32 {
		return finite(t.Float32s())
	}
	return finite(t.Float64s())
}

func finite[T float](x []T) bool {
	for _, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// scaledNorm computes the norm as m·√(Σ (x/m)²) with m the largest |x|, so
// finite float64 values whose squares overflow still give the right norm.
func scaledNorm(params []Param) float64 {
	m := 0.0
	for _, p := range params {
		forEach(p.Grad, func(x float64) { m = math.Max(m, math.Abs(x)) })
	}
	if m == 0 {
		return 0
	}
	s := 0.0
	for _, p := range params {
		forEach(p.Grad, func(x float64) { s += (x / m) * (x / m) })
	}
	return m * math.Sqrt(s)
}

// forEach calls f on every element of t; it is only for rare slow paths.
func forEach(t *tensor.Dense, f func(float64)) {
	if t.Dtype() == tensor.Float32 {
		for _, v := range t.Float32s() {
			f(float64(v))
		}
		return
	}
	for _, v := range t.Float64s() {
		f(v)
	}
}
