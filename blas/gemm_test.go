package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// testSizes are the dimensions the brief asks for: 1 to 3, and numbers on
// both sides of the register tiles (4, 6, 12 rows; 4, 8, 16, 32 columns)
// and of the cache blocks (kc = 256 or 384, nc = 128 to 640).
var testSizes = []int{1, 2, 3, 7, 17, 31, 33, 63, 65, 127, 129, 300}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}

// scalars are the alpha and beta values of the brief: the special cases 0
// and 1, and two general values.
var scalars = []float64{0, 1, -1.5, 0.5}

// gemmCase is one call to compare against gonum.
type gemmCase struct {
	tA, tB      blas.Transpose
	m, n, k     int
	alpha, beta float64
	padA, padB  int // extra elements per stored row
	padC        int
}

func (c gemmCase) String() string {
	return fmt.Sprintf("%c%c m=%d n=%d k=%d alpha=%g beta=%g pad=%d,%d,%d",
		c.tA, c.tB, c.m, c.n, c.k, c.alpha, c.beta, c.padA, c.padB, c.padC)
}

// gemmCases covers every size of testSizes for m and n, with k, the
// transposes, the scalars and the paddings cycling so that each value meets
// many others without running the full product of all of them.
func gemmCases() []gemmCase {
	var cases []gemmCase
	i := 0
	for _, m := range testSizes {
		for _, n := range testSizes {
			for _, tA := range transposes[:2] {
				for _, tB := range transposes[:2] {
					cases = append(cases, gemmCase{
						tA: tA, tB: tB, m: m, n: n,
						k:     testSizes[(i*5+m+n)%len(testSizes)],
						alpha: scalars[i%len(scalars)],
						beta:  scalars[(i/len(scalars))%len(scalars)],
						padA:  []int{0, 1, 5}[i%3],
						padB:  []int{0, 3, 1}[i%3],
						padC:  []int{0, 2, 7}[(i/3)%3],
					})
					i++
				}
			}
		}
	}
	// Empty dimensions, and ConjTrans, which is Trans for real matrices.
	for _, s := range [][3]int{{0, 5, 3}, {5, 0, 3}, {5, 3, 0}, {0, 0, 0}, {1, 1, 0}} {
		for _, beta := range scalars {
			cases = append(cases, gemmCase{tA: blas.NoTrans, tB: blas.Trans, m: s[0], n: s[1], k: s[2], alpha: 1, beta: beta})
		}
	}
	cases = append(cases,
		gemmCase{tA: blas.ConjTrans, tB: blas.NoTrans, m: 33, n: 17, k: 65, alpha: 1, beta: 0.5},
		gemmCase{tA: blas.NoTrans, tB: blas.ConjTrans, m: 17, n: 33, k: 65, alpha: -1.5, beta: 0},
		gemmCase{tA: blas.ConjTrans, tB: blas.ConjTrans, m: 65, n: 31, k: 7, alpha: 0.5, beta: 1},
		// k beyond one block in both precisions and every kernel, uneven.
		gemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: 29, n: 45, k: 800, alpha: 1, beta: 0.5},
		gemmCase{tA: blas.Trans, tB: blas.Trans, m: 45, n: 29, k: 800, alpha: -1.5, beta: 1},
		// A transposed A whose panel rows span more than maxTransSpan bytes
		// (192 rows of a k-block × 1500 × 4 or 8 bytes) is packed, not read
		// in place.
		gemmCase{tA: blas.Trans, tB: blas.NoTrans, m: 20, n: 33, k: 384, alpha: 0.5, beta: 0, padA: 1480},
		// n beyond one block (nc is at most 640), with an edge panel.
		gemmCase{tA: blas.NoTrans, tB: blas.Trans, m: 13, n: 1300, k: 40, alpha: 1, beta: 0},
	)
	return cases
}

// matrix is a stored matrix with padding and guard elements set to a
// sentinel, which a correct GEMM neither reads nor writes.
type matrix[T float] struct {
	all   []T // data followed by guard
	data  []T // the slice passed to the GEMM: exactly as long as BLAS requires
	guard []T // elements after it in the same array
	rows  int
	cols  int
	ld    int
}

const guardLen = 64 // more than one row of the widest tile, 32 floats

// newMatrix returns a rows×cols matrix with stride cols+pad filled by fill,
// and NaN in the padding and guard.
func newMatrix[T float](rows, cols, pad int, fill func() T) matrix[T] {
	ld := max(1, cols+pad)
	n := 0 // the length BLAS requires, also when cols = 0
	if rows > 0 {
		n = (rows-1)*ld + cols
	}
	all := make([]T, n+guardLen)
	for i := range all {
		all[i] = T(math.NaN())
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			all[i*ld+j] = fill()
		}
	}
	return matrix[T]{all: all, data: all[:n:n], guard: all[n:], rows: rows, cols: cols, ld: ld}
}

func (x matrix[T]) clone() matrix[T] {
	all := append([]T(nil), x.all...)
	n := len(x.data)
	return matrix[T]{all: all, data: all[:n:n], guard: all[n:], rows: x.rows, cols: x.cols, ld: x.ld}
}

// operands builds A, B and C for a case. With alpha = 0, A and B are all
// NaN: the reference BLAS does not read them. With beta = 0, C is all NaN:
// the reference BLAS overwrites it without reading it.
func operands[T float](tc gemmCase, r *rand.Rand) (a, b, c matrix[T]) {
	uniform := func() T { return T(2*r.Float64() - 1) }
	nan := func() T { return T(math.NaN()) }
	ab := uniform
	if tc.alpha == 0 {
		ab = nan
	}
	cf := uniform
	if tc.beta == 0 {
		cf = nan
	}
	ar, ac := tc.m, tc.k
	if tc.tA != blas.NoTrans {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.tB != blas.NoTrans {
		br, bc = bc, br
	}
	return newMatrix(ar, ac, tc.padA, ab), newMatrix(br, bc, tc.padB, ab), newMatrix(tc.m, tc.n, tc.padC, cf)
}

type gemmFunc[T float] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// checkGemm runs one case through ours and gonum's and compares every
// element of C, the padding and the guard.
func checkCase[T float](t *testing.T, ours, ref gemmFunc[T], tc gemmCase, r *rand.Rand) {
	t.Helper()
	a, b, c := operands[T](tc, r)
	want := c.clone()
	ref(tc.tA, tc.tB, tc.m, tc.n, tc.k, T(tc.alpha), a.data, a.ld, b.data, b.ld, T(tc.beta), want.data, want.ld)
	got := c.clone()
	ours(tc.tA, tc.tB, tc.m, tc.n, tc.k, T(tc.alpha), a.data, a.ld, b.data, b.ld, T(tc.beta), got.data, got.ld)

	// Both results are within γ_(k+2)·(|alpha|·Σ_p|a_ip·b_pj| + |beta·c_ij|)
	// of the exact one (Higham 2002, eq. 3.5), so of each other within twice that.
	eps := math.Pow(2, -52)
	if _, single := any(T(0)).(float32); single {
		eps = math.Pow(2, -23)
	}
	at := func(x matrix[T], i, j int, trans bool) float64 {
		if trans {
			i, j = j, i
		}
		return float64(x.data[i*x.ld+j])
	}
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			g, w := float64(got.data[i*c.ld+j]), float64(want.data[i*c.ld+j])
			bound := 0.0
			if tc.alpha != 0 {
				for p := 0; p < tc.k; p++ {
					bound += math.Abs(at(a, i, p, tc.tA != blas.NoTrans) * at(b, p, j, tc.tB != blas.NoTrans))
				}
				bound *= math.Abs(tc.alpha)
			}
			if tc.beta != 0 {
				bound += math.Abs(tc.beta * float64(c.data[i*c.ld+j]))
			}
			tol := 2 * float64(tc.k+2) * eps * bound
			if math.IsNaN(g) || math.Abs(g-w) > tol {
				if bad < 3 {
					t.Errorf("%v: C[%d][%d] = %v, gonum %v (tolerance %.3g)", tc, i, j, g, w, tol)
				}
				bad++
			}
		}
	}
	// Padding between rows and the guard after the last one must be untouched.
	for i := 0; i < tc.m-1 && tc.n > 0; i++ {
		for j := tc.n; j < c.ld; j++ {
			if v := got.data[i*c.ld+j]; !math.IsNaN(float64(v)) {
				t.Errorf("%v: padding C[%d][%d] written: %v", tc, i, j, v)
				return
			}
		}
	}
	for i, v := range got.guard {
		if !math.IsNaN(float64(v)) {
			t.Errorf("%v: guard element %d after C written: %v", tc, i, v)
			return
		}
	}
}

// forEachKernel runs f with each kernel set this CPU has forced in turn, so
// that the AVX2 and portable kernels are tested on an AVX-512 machine too.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	for _, ks := range kernelSets {
		t.Run(ks.name, func(t *testing.T) {
			defer func(prev kernelSet) { kernels = prev }(kernels)
			kernels = ks
			f(t)
		})
	}
}

func TestSgemmMatchesGonum(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 1))
		for _, tc := range gemmCases() {
			checkCase(t, Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, tc, r)
		}
	})
}

func TestDgemmMatchesGonum(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, tc := range gemmCases() {
			checkCase(t, Implementation{}.Dgemm, gonum.Implementation{}.Dgemm, tc, r)
		}
	})
}

// TestGemmParallelSplits runs shapes big enough to be split, along M and
// along N, with more goroutines than cores so that parts are uneven.
func TestGemmParallelSplits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(5))
	cases := []gemmCase{
		{tA: blas.NoTrans, tB: blas.NoTrans, m: 301, n: 67, k: 129, alpha: 1, beta: 0},   // split M
		{tA: blas.Trans, tB: blas.NoTrans, m: 67, n: 301, k: 129, alpha: -1.5, beta: 1},  // split N
		{tA: blas.NoTrans, tB: blas.Trans, m: 200, n: 10, k: 512, alpha: 0.5, beta: 0.5}, // n has one tile
		{tA: blas.Trans, tB: blas.Trans, m: 5, n: 700, k: 300, alpha: 1, beta: -1.5},     // m has one tile
		// Split M with op(B) packed once for all parts, over more than one
		// block of kc (384 and 256 on AVX-512) and of nc (640 and 480).
		{tA: blas.NoTrans, tB: blas.Trans, m: 661, n: 650, k: 40, alpha: 1, beta: 0.5},
		{tA: blas.Trans, tB: blas.NoTrans, m: 300, n: 100, k: 401, alpha: 2, beta: 0},
		// A shared op(B) bigger than a workspace's B block (kc×nc) for the
		// AVX2 and Go kernels (256×256), which takes a buffer of its own.
		{tA: blas.NoTrans, tB: blas.NoTrans, m: 400, n: 330, k: 300, alpha: 1, beta: 0},
	}
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 3))
		for _, tc := range cases {
			checkCase(t, Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, tc, r)
			checkCase(t, Implementation{}.Dgemm, gonum.Implementation{}.Dgemm, tc, r)
		}
	})
}

// TestGemmNaNPropagates checks the other side of the beta = 0 rule: a NaN
// in A does reach C when alpha is not zero.
func TestGemmNaNPropagates(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		a := []float32{1, float32(math.NaN()), 3, 4} // 2×2
		b := []float32{1, 0, 0, 1}
		c := []float32{0, 0, 0, 0}
		Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
		if !math.IsNaN(float64(c[1])) || c[2] != 3 || c[3] != 4 {
			t.Errorf("C = %v, want [1 NaN 3 4]", c)
		}
	})
}

// TestGemmPanics checks that bad arguments panic as gonum's do.
func TestGemmPanics(t *testing.T) {
	s := make([]float32, 100)
	cases := []struct {
		name       string
		tA, tB     blas.Transpose
		m, n, k    int
		lda, ldb   int
		ldc        int
		la, lb, lc int
	}{
		{"transpose A", 'X', blas.NoTrans, 2, 2, 2, 2, 2, 2, 4, 4, 4},
		{"transpose B", blas.NoTrans, 'X', 2, 2, 2, 2, 2, 2, 4, 4, 4},
		{"m < 0", blas.NoTrans, blas.NoTrans, -1, 2, 2, 2, 2, 2, 4, 4, 4},
		{"n < 0", blas.NoTrans, blas.NoTrans, 2, -1, 2, 2, 2, 2, 4, 4, 4},
		{"k < 0", blas.NoTrans, blas.NoTrans, 2, 2, -1, 2, 2, 2, 4, 4, 4},
		{"lda", blas.NoTrans, blas.NoTrans, 2, 2, 3, 2, 2, 2, 6, 6, 4},
		{"lda trans", blas.Trans, blas.NoTrans, 3, 2, 2, 2, 2, 2, 6, 4, 6},
		{"ldb", blas.NoTrans, blas.NoTrans, 2, 3, 2, 2, 2, 3, 4, 6, 6},
		{"ldb trans", blas.NoTrans, blas.Trans, 2, 2, 3, 3, 2, 2, 6, 6, 4},
		{"ldc", blas.NoTrans, blas.NoTrans, 2, 3, 2, 2, 3, 2, 4, 6, 6},
		{"short a", blas.NoTrans, blas.NoTrans, 2, 2, 2, 2, 2, 2, 3, 4, 4},
		{"short a trans", blas.Trans, blas.NoTrans, 2, 2, 2, 2, 2, 2, 3, 4, 4},
		{"short b", blas.NoTrans, blas.NoTrans, 2, 2, 2, 2, 2, 2, 4, 3, 4},
		{"short b trans", blas.NoTrans, blas.Trans, 2, 2, 2, 2, 2, 2, 4, 3, 4},
		{"short c", blas.NoTrans, blas.NoTrans, 2, 2, 2, 2, 2, 2, 4, 4, 3},
		{"short a, k = 0", blas.NoTrans, blas.NoTrans, 3, 2, 0, 1, 2, 2, 1, 4, 6},
		{"empty m, short slices", blas.NoTrans, blas.NoTrans, 0, 2, 2, 2, 2, 2, 0, 0, 0},
	}
	catch := func(f func()) (msg any) {
		defer func() { msg = recover() }()
		f()
		return nil
	}
	for _, tc := range cases {
		call := func(impl blas.Float32) func() {
			return func() {
				impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, s[:tc.la], tc.lda, s[:tc.lb], tc.ldb, 0, s[:tc.lc], tc.ldc)
			}
		}
		got, want := catch(call(Implementation{})), catch(call(gonum.Implementation{}))
		if got != want {
			t.Errorf("%s: panic %v, gonum's %v", tc.name, got, want)
		}
		dcall := func(impl blas.Float64) func() {
			d := make([]float64, 100)
			return func() {
				impl.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, d[:tc.la], tc.lda, d[:tc.lb], tc.ldb, 0, d[:tc.lc], tc.ldc)
			}
		}
		got, want = catch(dcall(Implementation{})), catch(dcall(gonum.Implementation{}))
		if got != want {
			t.Errorf("%s: Dgemm panic %v, gonum's %v", tc.name, got, want)
		}
	}
}

// TestGemmDoesNotAllocate checks that, once the pools are warm, a GEMM
// allocates nothing, whether it runs on one goroutine or several.
func TestGemmDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumentation allocates")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, sz := range [][3]int{{8, 8, 8}, {128, 512, 512}, {300, 40, 200}} {
		m, n, k := sz[0], sz[1], sz[2]
		a32, b32, c32 := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		a64, b64, c64 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		impl := Implementation{}
		s := func() { impl.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a32, k, b32, k, 0.5, c32, n) }
		d := func() { impl.Dgemm(blas.Trans, blas.NoTrans, m, n, k, 1, a64, m, b64, n, 0, c64, n) }
		for name, f := range map[string]func(){"Sgemm": s, "Dgemm": d} {
			f() // fill the pools and start the workers
			if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
				t.Errorf("%s %v: %v allocations per call, want 0", name, sz, allocs)
			}
		}
	}
}

// TestGemmConcurrentCalls runs GEMMs from several goroutines at once, as
// concurrent graphs would: they share the worker goroutines and pools.
func TestGemmConcurrentCalls(t *testing.T) {
	cases := []gemmCase{
		{tA: blas.NoTrans, tB: blas.NoTrans, m: 129, n: 65, k: 127, alpha: 1, beta: 0},
		{tA: blas.Trans, tB: blas.NoTrans, m: 65, n: 300, k: 33, alpha: 0.5, beta: 1},
		{tA: blas.NoTrans, tB: blas.Trans, m: 300, n: 17, k: 129, alpha: -1.5, beta: 0.5},
		{tA: blas.Trans, tB: blas.Trans, m: 63, n: 127, k: 65, alpha: 1, beta: -1.5},
	}
	done := make(chan struct{})
	for g, tc := range cases {
		go func() {
			defer func() { done <- struct{}{} }()
			r := rand.New(rand.NewPCG(2, uint64(g)))
			for range 3 {
				checkCase(t, Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, tc, r)
				checkCase(t, Implementation{}.Dgemm, gonum.Implementation{}.Dgemm, tc, r)
			}
		}()
	}
	for range cases {
		<-done
	}
}

// TestSmallMMatchesPacked checks that a GEMM of 1 to 8 rows, which runs on
// the small-M kernels with B read in place, gives the packed kernels' bits
// exactly, and that each of its rows is that row of a taller product: a
// prediction does not depend on the batch size.
func TestSmallMMatchesPacked(t *testing.T) {
	if len(kernels.s.small) == 0 {
		t.Skip("no small-M kernels on this CPU")
	}
	defer func(prev int) { smallM, inPlaceMaxM = true, prev }(inPlaceMaxM)
	inPlaceMaxM = 0 // the reference is the packed path
	r := rand.New(rand.NewPCG(1, 4))
	for _, tc := range []gemmCase{
		{tA: blas.NoTrans, m: 1, n: 512, k: 784, alpha: 1, beta: 1},
		{tA: blas.NoTrans, m: 1, n: 10, k: 512, alpha: 1, beta: 0},
		{tA: blas.NoTrans, m: 2, n: 65, k: 800, alpha: -1.5, beta: 0.5, padA: 3, padB: 5, padC: 1},
		{tA: blas.Trans, m: 3, n: 129, k: 31, alpha: 0.5, beta: 0, padA: 2},
		{tA: blas.Trans, m: 4, n: 64, k: 385, alpha: 1, beta: -1.5, padB: 7},
		{tA: blas.NoTrans, m: 4, n: 1, k: 1, alpha: 1, beta: 0},
		{tA: blas.NoTrans, m: 5, n: 300, k: 100, alpha: 1, beta: 1, padA: 1},
		{tA: blas.Trans, m: 7, n: 33, k: 785, alpha: -1.5, beta: 0.5, padC: 3},
		{tA: blas.NoTrans, m: 8, n: 512, k: 784, alpha: 1, beta: 1},
	} {
		tc.tB = blas.NoTrans
		for _, double := range []bool{false, true} {
			a, b, c := operands[float64](tc, r)
			small, packed := c.clone(), c.clone()
			tall := newMatrix(12, tc.n, tc.padC, func() float64 { return 0 })
			tallA := newMatrix(12, tc.k, 0, func() float64 { return 0 })
			for i := 0; i < tc.m; i++ {
				for p := 0; p < tc.k; p++ {
					if tc.tA == blas.NoTrans {
						tallA.data[i*tallA.ld+p] = a.data[i*a.ld+p]
					} else {
						tallA.data[i*tallA.ld+p] = a.data[p*a.ld+i]
					}
				}
				for j := 0; j < tc.n; j++ {
					tall.data[i*tall.ld+j] = c.data[i*c.ld+j]
				}
			}
			run := func(useSmall bool, tA blas.Transpose, m int, am, cm matrix[float64]) {
				smallM = useSmall
				if double {
					Implementation{}.Dgemm(tA, tc.tB, m, tc.n, tc.k, tc.alpha, am.data, am.ld, b.data, b.ld, tc.beta, cm.data, cm.ld)
					return
				}
				a32, b32, c32 := toF32(am.data), toF32(b.data), toF32(cm.data)
				Implementation{}.Sgemm(tA, tc.tB, m, tc.n, tc.k, float32(tc.alpha), a32, am.ld, b32, b.ld, float32(tc.beta), c32, cm.ld)
				for i, v := range c32 {
					cm.data[i] = float64(v)
				}
			}
			if !double { // the same float32 operands for every run
				roundF32(a.data)
				roundF32(b.data)
				roundF32(c.data)
				roundF32(small.data)
				roundF32(packed.data)
				roundF32(tall.data)
				roundF32(tallA.data)
			}
			run(true, tc.tA, tc.m, a, small)
			run(false, tc.tA, tc.m, a, packed)
			run(true, blas.NoTrans, 12, tallA, tall)
			for i := 0; i < tc.m; i++ {
				for j := 0; j < tc.n; j++ {
					s, p, w := small.data[i*c.ld+j], packed.data[i*c.ld+j], tall.data[i*tall.ld+j]
					if math.Float64bits(s) != math.Float64bits(p) || math.Float64bits(s) != math.Float64bits(w) {
						t.Fatalf("%v double=%t: C[%d][%d] small %v, packed %v, row of 12 %v", tc, double, i, j, s, p, w)
					}
				}
			}
		}
	}
}

func toF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func roundF32(x []float64) {
	for i, v := range x {
		x[i] = float64(float32(v))
	}
}

// TestGemmPackedMatchesGemm: a product by a packed op(B) gives Sgemm's and
// Dgemm's bits, for each kernel set, and one Packed serves several
// products and repacks for new shapes.
func TestGemmPackedMatchesGemm(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 5))
		var p32 Packed[float32]
		var p64 Packed[float64]
		for _, tc := range []gemmCase{
			{tA: blas.NoTrans, tB: blas.NoTrans, m: 64, n: 622, k: 32, alpha: 1, beta: 1},
			{tA: blas.Trans, tB: blas.NoTrans, m: 32, n: 622, k: 64, alpha: 1, beta: 1, padA: 3},
			{tA: blas.NoTrans, tB: blas.Trans, m: 32, n: 64, k: 622, alpha: 1, beta: 0, padB: 2},
			{tA: blas.NoTrans, tB: blas.NoTrans, m: 3, n: 700, k: 801, alpha: -1.5, beta: 0.5, padC: 4},
			{tA: blas.Trans, tB: blas.Trans, m: 129, n: 33, k: 7, alpha: 0.5, beta: 0},
			{tA: blas.NoTrans, tB: blas.NoTrans, m: 5, n: 3, k: 0, alpha: 1, beta: 0.5},
			{tA: blas.NoTrans, tB: blas.NoTrans, m: 5, n: 3, k: 4, alpha: 0, beta: -1.5},
		} {
			a, b, c := operands[float64](tc, r)
			for rep := range 2 { // the second product reuses the packing
				a2, _, c2 := operands[float64](tc, r)
				if rep == 0 {
					a2, c2 = a, c
				}
				want, got := c2.clone(), c2.clone()
				Implementation{}.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a2.data, a2.ld, b.data, b.ld, tc.beta, want.data, want.ld)
				if rep == 0 {
					p64.Pack(tc.tB != blas.NoTrans, tc.k, tc.n, b.data, b.ld)
				}
				GemmPacked(tc.tA, tc.m, tc.alpha, a2.data, a2.ld, &p64, tc.beta, got.data, got.ld)
				for i := range want.all {
					if math.Float64bits(want.all[i]) != math.Float64bits(got.all[i]) {
						t.Fatalf("%v rep %d: Dgemm %v, GemmPacked %v at %d", tc, rep, want.all[i], got.all[i], i)
					}
				}
				a32, b32, w32, g32 := toF32(a2.all), toF32(b.all), toF32(c2.all), toF32(c2.all)
				na, nb, nc := len(a2.data), len(b.data), len(c2.data)
				Implementation{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), a32[:na], a2.ld, b32[:nb], b.ld, float32(tc.beta), w32[:nc], c2.ld)
				if rep == 0 {
					p32.Pack(tc.tB != blas.NoTrans, tc.k, tc.n, b32[:nb], b.ld)
				}
				GemmPacked(tc.tA, tc.m, float32(tc.alpha), a32[:na], a2.ld, &p32, float32(tc.beta), g32[:nc], c2.ld)
				for i := range w32 {
					if math.Float32bits(w32[i]) != math.Float32bits(g32[i]) {
						t.Fatalf("%v rep %d: Sgemm %v, GemmPacked %v at %d", tc, rep, w32[i], g32[i], i)
					}
				}
			}
		}
	})
}

// TestInPlaceMatchesPacked: a GEMM that reads B in place (B not
// transposed, at most inPlaceMaxM rows) gives the packed path's bits, for
// shapes with whole and partial row panels (remainders of 1 to 11 rows),
// partial tiles of B, k over several blocks, strides, and both A layouts,
// serial and split over goroutines.
func TestInPlaceMatchesPacked(t *testing.T) {
	if len(kernels.s.tall) == 0 {
		t.Skip("no in-place kernels on this CPU")
	}
	defer func(prev int) { inPlaceMaxM = prev }(inPlaceMaxM)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	r := rand.New(rand.NewPCG(1, 6))
	var cases []gemmCase
	for i, m := range []int{9, 12, 13, 20, 23, 24, 33, 64, 128, 200, 255, 256, 35, 47} {
		cases = append(cases, gemmCase{tA: []blas.Transpose{blas.NoTrans, blas.Trans}[i%2], m: m,
			n: []int{31, 32, 65, 622, 512}[i%5], k: []int{9, 32, 385, 800, 64}[i%5],
			alpha: scalars[i%4], beta: scalars[(i+1)%4], padA: i % 3, padB: []int{0, 54, 3}[i%3], padC: i % 2})
	}
	cases = append(cases, gemmCase{tA: blas.NoTrans, m: 64, n: 128, k: 9216, alpha: 1, beta: 0})
	for _, tc := range cases {
		tc.tB = blas.NoTrans
		a, b, c := operands[float64](tc, r)
		for _, double := range []bool{false, true} {
			got, want := c.clone(), c.clone()
			for i, out := range []matrix[float64]{want, got} {
				inPlaceMaxM = []int{0, maxInPlaceRows}[i]
				if double {
					Implementation{}.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a.data, a.ld, b.data, b.ld, tc.beta, out.data, out.ld)
					continue
				}
				c32 := toF32(out.all)
				Implementation{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), toF32(a.all)[:len(a.data)], a.ld,
					toF32(b.all)[:len(b.data)], b.ld, float32(tc.beta), c32[:len(out.data)], out.ld)
				for j, v := range c32 {
					out.all[j] = float64(v)
				}
			}
			for j := range want.all {
				if math.Float64bits(want.all[j]) != math.Float64bits(got.all[j]) {
					t.Fatalf("%v double=%t: element %d in place %v, packed %v", tc, double, j, got.all[j], want.all[j])
				}
			}
		}
	}
}
