package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

var dtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

// newParam makes a parameter of dtype dt and the given shape holding vals,
// with a zero gradient.
func newParam(dt tensor.Dtype, name string, shape []int, vals []float64) Param {
	v := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	setData(v, vals)
	return Param{Name: name, Value: v, Grad: tensor.New(tensor.Of(dt), tensor.WithShape(shape...))}
}

func setData(t *tensor.Dense, vals []float64) {
	if t.Dtype() == tensor.Float32 {
		d := t.Float32s()
		for i, x := range vals {
			d[i] = float32(x)
		}
		return
	}
	copy(t.Float64s(), vals)
}

func getData(t *tensor.Dense) []float64 {
	if t.Dtype() == tensor.Float32 {
		var out []float64
		for _, x := range t.Float32s() {
			out = append(out, float64(x))
		}
		return out
	}
	return append([]float64(nil), t.Float64s()...)
}

// tolerance is how far a result may be from the float64 reference: float64
// differs only in rounding order (~1e-16 per op); float32 has a unit
// roundoff of 6e-8 and a step is ~10 ops, so 2e-6 leaves room.
func tolerance(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 2e-6
	}
	return 1e-12
}

func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// stepCase is a hand-worked run: weights w0, one gradient per step, and the
// weights expected after each step.
type stepCase struct {
	name  string
	cfg   Config
	lr    float64
	w0    []float64
	grads [][]float64
	want  [][]float64
}

func runStepCases(t *testing.T, cases []stepCase) {
	t.Helper()
	for _, tc := range cases {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v", tc.name, dt), func(t *testing.T) {
				opt, err := New(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				p := newParam(dt, "w", []int{len(tc.w0)}, tc.w0)
				for s, g := range tc.grads {
					setData(p.Grad, g)
					if err := opt.Step([]Param{p}, tc.lr); err != nil {
						t.Fatal(err)
					}
					got := getData(p.Value)
					for i := range got {
						if !close(got[i], tc.want[s][i], tolerance(dt)) {
							t.Errorf("step %d: w[%d] = %.17g, want %.17g", s+1, i, got[i], tc.want[s][i])
						}
					}
					for i, x := range getData(p.Grad) {
						if x != 0 {
							t.Errorf("step %d: grad[%d] = %g after Step, want 0", s+1, i, x)
						}
					}
				}
				if got := opt.Steps(); got != int64(len(tc.grads)) {
					t.Errorf("Steps() = %d, want %d", got, len(tc.grads))
				}
			})
		}
	}
}

// mlpParams makes parameters shaped like a 784-512-512-10 MLP (669,706
// values), filled from rng, with gradients filled too.
func mlpParams(dt tensor.Dtype, rng *rand.Rand) []Param {
	shapes := []struct {
		name  string
		shape []int
	}{
		{"fc1.weight", []int{784, 512}}, {"fc1.bias", []int{512}},
		{"fc2.weight", []int{512, 512}}, {"fc2.bias", []int{512}},
		{"fc3.weight", []int{512, 10}}, {"fc3.bias", []int{10}},
	}
	var ps []Param
	for _, s := range shapes {
		n := tensor.Shape(s.shape).TotalSize()
		p := newParam(dt, s.name, s.shape, randVals(rng, n))
		setData(p.Grad, randVals(rng, n))
		ps = append(ps, p)
	}
	return ps
}

func randVals(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() * 0.1
	}
	return v
}

// smallParams is two parameters of the shapes a tiny dense layer has.
func smallParams(dt tensor.Dtype, rng *rand.Rand) []Param {
	w := newParam(dt, "fc1.weight", []int{3, 2}, randVals(rng, 6))
	b := newParam(dt, "fc1.bias", []int{2}, randVals(rng, 2))
	return []Param{w, b}
}

func fillGrads(ps []Param, rng *rand.Rand) {
	for _, p := range ps {
		setData(p.Grad, randVals(rng, len(getData(p.Grad))))
	}
}

func cloneParams(ps []Param) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param{Name: p.Name, Value: p.Value.Clone().(*tensor.Dense), Grad: p.Grad.Clone().(*tensor.Dense)}
	}
	return out
}

func TestGradientsZeroAfterStep(t *testing.T) {
	for _, name := range Names {
		for _, dt := range dtypes {
			rng := rand.New(rand.NewPCG(1, 2))
			ps := smallParams(dt, rng)
			fillGrads(ps, rng)
			opt, err := New(Config{Name: name, ClipNorm: 0.1})
			if err != nil {
				t.Fatal(err)
			}
			before := getData(ps[0].Value)
			if err := opt.Step(ps, opt.Config().LR); err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				for i, x := range getData(p.Grad) {
					if x != 0 {
						t.Errorf("%s %v: %s grad[%d] = %g after Step, want 0", name, dt, p.Name, i, x)
					}
				}
			}
			if fmt.Sprint(before) == fmt.Sprint(getData(ps[0].Value)) {
				t.Errorf("%s %v: Step did not change the weights", name, dt)
			}
		}
	}
}

func TestStateNamesAndShapes(t *testing.T) {
	slots := map[string][]string{
		"sgd": nil, "momentum": {"buf"}, "nesterov": {"buf"}, "adam": {"m", "v"}, "adamw": {"m", "v"},
		"rmsprop": {"v"}, "adadelta": {"v", "u"},
	}
	for _, name := range Names {
		for _, dt := range dtypes {
			ps := smallParams(dt, rand.New(rand.NewPCG(1, 2)))
			opt, err := New(Config{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if err := opt.Init(ps); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, p := range ps {
				for _, s := range slots[name] {
					want = append(want, name+"."+s+"/"+p.Name)
				}
			}
			st := opt.State()
			var got []string
			for i, nt := range st {
				got = append(got, nt.Name)
				p := ps[i/len(slots[name])]
				if !nt.T.Shape().Eq(p.Value.Shape()) || nt.T.Dtype() != dt {
					t.Errorf("%s: %s is %v %v, want %v %v", name, nt.Name, nt.T.Shape(), nt.T.Dtype(), p.Value.Shape(), dt)
				}
				for _, x := range getData(nt.T) {
					if x != 0 {
						t.Errorf("%s: %s not zero after Init", name, nt.Name)
						break
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s %v: State names %q, want %q", name, dt, got, want)
			}
		}
	}
}

// TestStateRoundTrip saves an optimizer's state after a few steps, loads it
// into a new optimizer the way a checkpoint loader would, and checks both
// take the same next step, bit for bit.
func TestStateRoundTrip(t *testing.T) {
	for _, name := range Names {
		for _, dt := range dtypes {
			t.Run(fmt.Sprintf("%s/%v", name, dt), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(3, 4))
				cfg := Config{Name: name, ClipNorm: 1}
				a, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				psA := smallParams(dt, rng)
				for range 3 {
					fillGrads(psA, rng)
					if err := a.Step(psA, 0.01); err != nil {
						t.Fatal(err)
					}
				}
				// What a checkpoint holds: config as JSON, weights, state, steps.
				js, err := json.Marshal(a.Config())
				if err != nil {
					t.Fatal(err)
				}
				saved := map[string][]float64{}
				for _, nt := range a.State() {
					saved[nt.Name] = getData(nt.T)
				}
				steps := a.Steps()

				var cfgB Config
				if err := json.Unmarshal(js, &cfgB); err != nil {
					t.Fatal(err)
				}
				b, err := New(cfgB)
				if err != nil {
					t.Fatal(err)
				}
				psB := cloneParams(psA)
				if err := b.Init(psB); err != nil {
					t.Fatal(err)
				}
				for _, nt := range b.State() {
					v, ok := saved[nt.Name]
					if !ok {
						t.Fatalf("state %s missing from the saved state", nt.Name)
					}
					setData(nt.T, v)
				}
				b.SetSteps(steps)
				if b.Config() != a.Config() {
					t.Errorf("config after JSON round trip %+v, want %+v", b.Config(), a.Config())
				}

				fillGrads(psA, rng)
				for i := range psB {
					setData(psB[i].Grad, getData(psA[i].Grad))
				}
				if err := a.Step(psA, 0.01); err != nil {
					t.Fatal(err)
				}
				if err := b.Step(psB, 0.01); err != nil {
					t.Fatal(err)
				}
				for i := range psA {
					if wa, wb := getData(psA[i].Value), getData(psB[i].Value); fmt.Sprint(wa) != fmt.Sprint(wb) {
						t.Errorf("%s after resume: %v, want %v", psA[i].Name, wb, wa)
					}
				}
				sa, sb := a.State(), b.State()
				for i := range sa {
					if fmt.Sprint(getData(sa[i].T)) != fmt.Sprint(getData(sb[i].T)) {
						t.Errorf("%s differs after resume", sa[i].Name)
					}
				}
				if a.Steps() != 4 || b.Steps() != 4 {
					t.Errorf("Steps = %d, %d; want 4, 4", a.Steps(), b.Steps())
				}
			})
		}
	}
}

// TestResumeWithoutStateDiffers shows the round-trip test can fail: a fresh
// optimizer, without the saved state, takes a different step.
func TestResumeWithoutStateDiffers(t *testing.T) {
	for _, name := range []string{"momentum", "nesterov", "adam", "adamw", "rmsprop", "adadelta"} {
		rng := rand.New(rand.NewPCG(5, 6))
		a, _ := New(Config{Name: name})
		b, _ := New(Config{Name: name})
		psA := smallParams(tensor.Float64, rng)
		for range 3 {
			fillGrads(psA, rng)
			if err := a.Step(psA, 0.01); err != nil {
				t.Fatal(err)
			}
		}
		psB := cloneParams(psA)
		fillGrads(psA, rng)
		for i := range psB {
			setData(psB[i].Grad, getData(psA[i].Grad))
		}
		_ = a.Step(psA, 0.01)
		_ = b.Step(psB, 0.01)
		if fmt.Sprint(getData(psA[0].Value)) == fmt.Sprint(getData(psB[0].Value)) {
			t.Errorf("%s: a fresh optimizer stepped like one with 3 steps of state", name)
		}
	}
}

func TestNonFiniteGradient(t *testing.T) {
	bad := []struct {
		what string
		v    float64
	}{{"NaN", math.NaN()}, {"+Inf", math.Inf(1)}, {"-Inf", math.Inf(-1)}}
	for _, name := range Names {
		for _, dt := range dtypes {
			for _, b := range bad {
				rng := rand.New(rand.NewPCG(7, 8))
				ps := smallParams(dt, rng)
				opt, _ := New(Config{Name: name, ClipNorm: 1})
				fillGrads(ps, rng)
				if err := opt.Step(ps, 0.01); err != nil { // some state to protect
					t.Fatal(err)
				}
				fillGrads(ps, rng)
				g := getData(ps[1].Grad)
				g[1] = b.v
				setData(ps[1].Grad, g)
				before := snapshot(ps, opt)

				err := opt.Step(ps, 0.01)
				if err == nil || !strings.Contains(err.Error(), `"fc1.bias"`) {
					t.Errorf("%s %v %s: err = %v, want one naming \"fc1.bias\"", name, dt, b.what, err)
				}
				if after := snapshot(ps, opt); after != before {
					t.Errorf("%s %v %s: a refused Step changed something:\n%s\nwant\n%s", name, dt, b.what, after, before)
				}
				if opt.Steps() != 1 {
					t.Errorf("%s: Steps = %d after a refused Step, want 1", name, opt.Steps())
				}
			}
		}
	}
}

// snapshot prints everything a refused Step must leave alone.
func snapshot(ps []Param, opt Optimizer) string {
	var sb strings.Builder
	for _, p := range ps {
		fmt.Fprintln(&sb, p.Name, getData(p.Value), getData(p.Grad))
	}
	for _, nt := range opt.State() {
		fmt.Fprintln(&sb, nt.Name, getData(nt.T))
	}
	return sb.String()
}

func TestStepAndInitErrors(t *testing.T) {
	f32 := func(name string, shape ...int) Param {
		return newParam(tensor.Float32, name, shape, make([]float64, tensor.Shape(shape).TotalSize()))
	}
	f64 := func(name string, shape ...int) Param {
		return newParam(tensor.Float64, name, shape, make([]float64, tensor.Shape(shape).TotalSize()))
	}
	w, b := f32("fc1.weight", 3, 2), f32("fc1.bias", 2)
	mixed := Param{Name: "x", Value: f32("x", 2).Value, Grad: f64("x", 2).Grad}
	ints := Param{Name: "ints", Value: tensor.New(tensor.WithBacking([]int{1, 2})), Grad: tensor.New(tensor.WithBacking([]int{1, 2}))}
	view, _ := w.Value.Slice(tensor.S(0))
	cases := []struct {
		name   string
		init   []Param // nil: no Init before Step
		step   []Param
		lr     float64
		errHas string
	}{
		{"negative lr", nil, []Param{w}, -0.1, "learning rate -0.1"},
		{"NaN lr", nil, []Param{w}, math.NaN(), "learning rate NaN"},
		{"nil grad", nil, []Param{{Name: "fc1.weight", Value: w.Value}}, 0.1, `"fc1.weight"): nil gradient`},
		{"no name", nil, []Param{{Value: w.Value, Grad: w.Grad}}, 0.1, "no name"},
		{"same tensor", nil, []Param{{Name: "a", Value: w.Value, Grad: w.Value}}, 0.1, "same tensor"},
		{"shape", nil, []Param{{Name: "a", Value: w.Value, Grad: f32("g", 6).Grad}}, 0.1, "gradient shape (6) differs from value shape (3, 2)"},
		{"dtype mix", nil, []Param{mixed}, 0.1, "gradient dtype float64 differs"},
		{"int dtype", nil, []Param{ints}, 0.1, "dtype int; want float32 or float64"},
		{"duplicate", nil, []Param{w, w}, 0.1, `name "fc1.weight" is used twice`},
		{"view", nil, []Param{{Name: "v", Value: view.(*tensor.Dense), Grad: f32("g", 2).Grad}}, 0.1, "a view"},
		{"count", []Param{w, b}, []Param{w}, 0.1, "1 parameters, but Init saw 2"},
		{"order", []Param{w, b}, []Param{b, w}, 0.1, `parameter 0 ("fc1.bias"): Init saw "fc1.weight"`},
		{"size", []Param{w, b}, []Param{w, f32("fc1.bias", 3)}, 0.1, "3 elements (gradient 3), but Init saw 2"},
		{"dtype change", []Param{w, b}, []Param{w, f64("fc1.bias", 2)}, 0.1, "dtype float64 (gradient float64), but Init saw float32"},
	}
	for _, tc := range cases {
		opt, _ := New(Config{Name: "adam"})
		if tc.init != nil {
			if err := opt.Init(tc.init); err != nil {
				t.Fatalf("%s: Init: %v", tc.name, err)
			}
		}
		err := opt.Step(tc.step, tc.lr)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.errHas)
		}
	}
}

// TestStepDoesNotAllocate checks the per-step promise: after the first Step,
// no heap allocation, for every optimizer, dtype, and with clipping on.
func TestStepDoesNotAllocate(t *testing.T) {
	for _, name := range Names {
		for _, dt := range dtypes {
			rng := rand.New(rand.NewPCG(9, 10))
			ps := smallParams(dt, rng)
			opt, _ := New(Config{Name: name, ClipNorm: 1e-3}) // tiny, so clipping scales
			if err := opt.Step(ps, 0.01); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(100, func() {
				setGradsNoAlloc(ps)
				if err := opt.Step(ps, 0.01); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s %v: %v allocations per Step, want 0", name, dt, allocs)
			}
		}
	}
}

// setGradsNoAlloc gives every gradient nonzero values without allocating,
// so the measured Steps do real work.
func setGradsNoAlloc(ps []Param) {
	for _, p := range ps {
		if p.Grad.Dtype() == tensor.Float32 {
			for i := range p.Grad.Float32s() {
				p.Grad.Float32s()[i] = float32(i%5) - 2
			}
		} else {
			for i := range p.Grad.Float64s() {
				p.Grad.Float64s()[i] = float64(i%5) - 2
			}
		}
	}
}

func TestSetStepsNegativePanics(t *testing.T) {
	opt, _ := New(Config{Name: "adam"})
	defer func() {
		if recover() == nil {
			t.Error("SetSteps(-1) did not panic")
		}
	}()
	opt.SetSteps(-1)
}

func benchStep(b *testing.B, name string, dt tensor.Dtype, clip float64) {
	ps := mlpParams(dt, rand.New(rand.NewPCG(1, 1)))
	opt, err := New(Config{Name: name, ClipNorm: clip})
	if err != nil {
		b.Fatal(err)
	}
	if err := opt.Init(ps); err != nil {
		b.Fatal(err)
	}
	// Step zeroes the gradients; refilling them untimed keeps the values
	// realistic (zero gradients would decay the moments into subnormals,
	// which are slow and not what training sees).
	saved := make([][]float64, len(ps))
	for i, p := range ps {
		saved[i] = getData(p.Grad)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i, p := range ps {
			setData(p.Grad, saved[i])
		}
		b.StartTimer()
		if err := opt.Step(ps, 1e-3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSGD_MLP(b *testing.B)         { benchStep(b, "sgd", tensor.Float32, 0) }
func BenchmarkMomentum_MLP(b *testing.B)    { benchStep(b, "momentum", tensor.Float32, 0) }
func BenchmarkNesterov_MLP(b *testing.B)    { benchStep(b, "nesterov", tensor.Float32, 0) }
func BenchmarkAdam_MLP(b *testing.B)        { benchStep(b, "adam", tensor.Float32, 0) }
func BenchmarkAdamClip_MLP(b *testing.B)    { benchStep(b, "adam", tensor.Float32, 1) }
func BenchmarkAdamW_MLP(b *testing.B)       { benchStep(b, "adamw", tensor.Float32, 0) }
func BenchmarkRMSProp_MLP(b *testing.B)     { benchStep(b, "rmsprop", tensor.Float32, 0) }
func BenchmarkAdadelta_MLP(b *testing.B)    { benchStep(b, "adadelta", tensor.Float32, 0) }
func BenchmarkAdam_MLPFloat64(b *testing.B) { benchStep(b, "adam", tensor.Float64, 0) }
func BenchmarkGlobalNorm_MLP(b *testing.B)  { benchNorm(b, tensor.Float32) }

func benchNorm(b *testing.B, dt tensor.Dtype) {
	ps := mlpParams(dt, rand.New(rand.NewPCG(1, 1)))
	b.ReportAllocs()
	for b.Loop() {
		GlobalNorm(ps)
	}
}

// TestInitResets: Init starts over, with zero state and step count 0, so a
// loader's copy into fresh tensors is the only state there is.
func TestInitResets(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ps := smallParams(tensor.Float32, rng)
	opt, _ := New(Config{Name: "adam"})
	fillGrads(ps, rng)
	if err := opt.Step(ps, 0.01); err != nil {
		t.Fatal(err)
	}
	if err := opt.Init(ps); err != nil {
		t.Fatal(err)
	}
	if opt.Steps() != 0 {
		t.Errorf("Steps after Init = %d, want 0", opt.Steps())
	}
	for _, nt := range opt.State() {
		if GlobalNorm([]Param{{Grad: nt.T}}) != 0 {
			t.Errorf("%s not zero after Init", nt.Name)
		}
	}
}
