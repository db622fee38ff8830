package optim

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"gorgonia.org/tensor"
)

// bigParams are large enough for the parallel path: 200·200 + 333 +
// 2·spanSize+5 = 105,874 elements is more than parallelMin (65,536) and
// 6 spans; the sizes leave tails that are neither whole spans nor multiples
// of the 8 lanes of adamAVX.
func bigParams(dt tensor.Dtype, rng *rand.Rand) []Param {
	return []Param{
		newParam(dt, "a.weight", []int{200, 200}, randVals(rng, 200*200)),
		newParam(dt, "a.bias", []int{333}, randVals(rng, 333)),
		newParam(dt, "b.weight", []int{2*spanSize + 5}, randVals(rng, 2*spanSize+5)),
	}
}

// digest is a hash of the bits of every weight, gradient and state tensor:
// snapshot's job, for tensors too large to print.
func digest(ps []Param, opt Optimizer) uint64 {
	h := fnv.New64a()
	add := func(t *tensor.Dense) {
		for _, v := range getData(t) {
			_ = binary.Write(h, binary.LittleEndian, math.Float64bits(v))
		}
	}
	for _, p := range ps {
		add(p.Value)
		add(p.Grad)
	}
	for _, nt := range opt.State() {
		add(nt.T)
	}
	return h.Sum64()
}

// withProcs runs f with GOMAXPROCS set to n.
func withProcs(n int, f func()) {
	prev := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(prev)
	f()
}

// TestParallelStepMatchesSerial checks that splitting a Step over
// processors changes no bit: three steps of every optimizer, with and
// without clipping, on one processor (every span on the caller) and on four
// (spans on the workers too) give identical weights and state.
func TestParallelStepMatchesSerial(t *testing.T) {
	for _, name := range Names {
		for _, dt := range dtypes {
			for _, clip := range []float64{0, 0.5} {
				run := func(procs int) uint64 {
					rng := rand.New(rand.NewPCG(21, 22))
					ps := bigParams(dt, rng)
					opt, _ := New(Config{Name: name, ClipNorm: clip})
					withProcs(procs, func() {
						for range 3 {
							fillGrads(ps, rng)
							if err := opt.Step(ps, 0.01); err != nil {
								t.Fatal(err)
							}
						}
					})
					return digest(ps, opt)
				}
				if serial, parallel := run(1), run(4); serial != parallel {
					t.Errorf("%s %v clip %v: 4 processors gave other numbers than 1", name, dt, clip)
				}
			}
		}
	}
}

// TestAdamAVXMatchesScalar checks the vector kernel against the scalar one,
// bit for bit, on every length up to 40 (whole vectors and tails) and on
// values that exercise weight decay and clipping factors other than 1.
func TestAdamAVXMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	k := makeAdamCoef[float32](0.7, 0.01, 0.999, 0.9, 0.999, 1e-3/(1-0.9), 1/math.Sqrt(1-0.999), 1e-8)
	for n := range 41 {
		var ref, got [4][]float32
		for j := range ref {
			ref[j] = make([]float32, n)
			for i := range ref[j] {
				ref[j][i] = float32(rng.NormFloat64())
			}
		}
		for i := range ref[3] { // v ≥ 0
			ref[3][i] = float32(math.Abs(float64(ref[3][i])))
		}
		for j := range got {
			got[j] = append([]float32(nil), ref[j]...)
		}
		adamKernel(ref[0], ref[1], ref[2], ref[3], &k)
		adamKernel32(got[0], got[1], got[2], got[3], &k)
		for j, what := range []string{"w", "grad", "m", "v"} {
			for i := range ref[j] {
				if math.Float32bits(ref[j][i]) != math.Float32bits(got[j][i]) {
					t.Fatalf("n=%d: %s[%d] = %v, scalar kernel gives %v", n, what, i, got[j][i], ref[j][i])
				}
			}
		}
	}
}

// TestParallelStepDoesNotAllocate is TestStepDoesNotAllocate on the
// parallel path.
func TestParallelStepDoesNotAllocate(t *testing.T) {
	withProcs(2, func() {
		for _, name := range []string{"adam", "sgd", "adadelta"} {
			for _, clip := range []float64{0, 1e-3} {
				ps := bigParams(tensor.Float32, rand.New(rand.NewPCG(9, 10)))
				opt, _ := New(Config{Name: name, ClipNorm: clip})
				if err := opt.Step(ps, 0.01); err != nil {
					t.Fatal(err)
				}
				allocs := testing.AllocsPerRun(20, func() {
					setGradsNoAlloc(ps)
					if err := opt.Step(ps, 0.01); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("%s clip %v: %v allocations per Step, want 0", name, clip, allocs)
				}
			}
		}
	})
}

// TestParallelNonFinite puts a NaN or an infinity at places the parallel
// checks cut differently (first element, the last of a span, the last
// element, an odd tail) of large gradients: the Step must refuse, name the
// parameter and change nothing, with clipping off (the exponent check) and
// on (the norm).
func TestParallelNonFinite(t *testing.T) {
	cases := []struct {
		param, at int
		v         float64
	}{
		{0, 0, math.NaN()},
		{0, spanSize - 1, math.Inf(1)},
		{0, 200*200 - 1, math.Inf(-1)},
		{1, 332, math.NaN()},
		{2, 2 * spanSize, math.Inf(-1)},
		{2, 2*spanSize + 4, math.Inf(1)},
	}
	for _, dt := range dtypes {
		for _, clip := range []float64{0, 1} {
			for _, c := range cases {
				withProcs(2, func() {
					rng := rand.New(rand.NewPCG(7, 8))
					ps := bigParams(dt, rng)
					opt, _ := New(Config{Name: "adam", ClipNorm: clip})
					fillGrads(ps, rng)
					if err := opt.Step(ps, 0.01); err != nil {
						t.Fatal(err)
					}
					fillGrads(ps, rng)
					setAt(ps[c.param].Grad, c.at, c.v)
					before := digest(ps, opt)
					err := opt.Step(ps, 0.01)
					want := `"` + ps[c.param].Name + `"`
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("%v clip %v: %v at %v: err = %v, want one naming %s", dt, clip, c.v, c.at, err, want)
					}
					if digest(ps, opt) != before {
						t.Errorf("%v clip %v: %v at %v: a refused Step changed something", dt, clip, c.v, c.at)
					}
				})
			}
		}
	}
}

func setAt(t *tensor.Dense, i int, v float64) {
	if t.Dtype() == tensor.Float32 {
		t.Float32s()[i] = float32(v)
	} else {
		t.Float64s()[i] = v
	}
}

// TestAllFinite checks the exponent-bit tests against math.IsInf/IsNaN at
// every position of short slices, starting at even and odd elements (the
// float32 check reads pairs from an 8-byte boundary), and on the extreme
// finite values: the largest, the smallest subnormal, −0. Longer slices
// reach finite32's vector loops (64 and 16 elements a trip).
func TestAllFinite(t *testing.T) {
	for _, n := range []int{16, 17, 63, 64, 65, 130, 200} {
		for _, at := range []int{-1, 0, n / 2, n - 1} {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(i) - 100.5
				}
				if at >= 0 {
					x[at] = bad
				}
				if got := finite32(x); got != (at < 0) {
					t.Errorf("finite32 of %d elements, %v at %d: %v", n, bad, at, got)
				}
			}
		}
	}
	extremes := []float64{math.MaxFloat32, -math.MaxFloat32, 1e-45, -0.0, 0}
	if !allFinite32(f32s(extremes)) || !finite32(f32s(extremes)) {
		t.Error("allFinite32 or finite32 refused finite extremes")
	}
	if !allFinite64(append(extremes, math.MaxFloat64, -math.MaxFloat64, 5e-324)) {
		t.Error("allFinite64 refused finite extremes")
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for n := 1; n <= 11; n++ {
			for i := range n {
				x := make([]float64, n+1)
				for j := range x {
					x[j] = float64(j) - 3.5
				}
				x[1+i] = bad
				for _, start := range []int{0, 1} { // x[1:] starts at an odd element
					want := start > 1+i || !(math.IsNaN(x[1+i]) || math.IsInf(x[1+i], 0))
					if got := allFinite64(x[start:]); got != want {
						t.Errorf("allFinite64(%v) = %v", x[start:], got)
					}
					if got := allFinite32(f32s(x)[start:]); got != want {
						t.Errorf("allFinite32(%v) = %v", x[start:], got)
					}
					if got := finite32(f32s(x)[start:]); got != want {
						t.Errorf("finite32(%v) = %v", x[start:], got)
					}
				}
			}
		}
	}
}

func f32s(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// countSpans records how many times each span was run.
type countSpans struct{ runs []atomic.Int32 }

func (c *countSpans) runSpan(k int, _ span) { c.runs[k].Add(1) }

// TestPassRunsEachSpanOnce runs one pass many times on several processors:
// every span must run exactly once per pass, whoever runs it, and late
// workers must not run spans of a later pass (run it with -race).
func TestPassRunsEachSpanOnce(t *testing.T) {
	lay := []layout{{size: 5 * spanSize}, {size: 3}, {size: 2*spanSize + 1}}
	var p pass
	p.init(makeSpans(lay))
	if len(p.spans) != 9 {
		t.Fatalf("%d spans, want 5 + 1 + 3", len(p.spans))
	}
	withProcs(4, func() {
		for r := range 500 {
			c := &countSpans{runs: make([]atomic.Int32, len(p.spans))}
			p.run(c)
			for k := range c.runs {
				if n := c.runs[k].Load(); n != 1 {
					t.Fatalf("pass %d: span %d ran %d times", r, k, n)
				}
			}
		}
	})
}

// TestGlobalNormLarge checks the span-by-span sum of squares against a
// plain float64 sum on a tensor of several spans. The tolerance is a few
// float64 roundings of a sum of 300,000 positive terms.
func TestGlobalNormLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := randVals(rng, 300000)
	want := 0.0
	for _, v := range vals {
		want += float64(float32(v)) * float64(float32(v))
	}
	want = math.Sqrt(want)
	got := GlobalNorm(gradsOf(tensor.Float32, vals))
	if math.Abs(got-want) > 1e-12*want {
		t.Errorf("GlobalNorm = %v, want %v", got, want)
	}
}
