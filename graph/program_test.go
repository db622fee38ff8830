package graph

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/tapestry-ml/tapestry/optim"
)

func smallArch() Arch {
	return Arch{Net: NewSequential(
		Dense{Name: "fc1", In: 6, Out: 8}, ReLU{}, Dropout{Name: "drop1", P: 0.5},
		Dense{Name: "fc2", In: 8, Out: 3}), InShape: []int{6}}
}

// fillRandom writes a random batch with one-hot targets of class
// (first input > 0) + (second input > 0), a learnable rule.
func fillRandom(rng *rand.Rand, x, y []float32, labels []int) {
	for i := range labels {
		row := x[i*6 : i*6+6]
		for j := range row {
			row[j] = float32(rng.NormFloat64())
		}
		c := 0
		if row[0] > 0 {
			c++
		}
		if row[1] > 0 {
			c++
		}
		labels[i] = c
		for j := 0; j < 3; j++ {
			y[i*3+j] = 0
		}
		y[i*3+c] = 1
	}
}

func trainSteps(t *testing.T, seed uint64, steps int) (losses []float64, m *Model) {
	t.Helper()
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New(optim.Config{Name: "adam"})
	p, err := m.Train(16, rand.New(rand.NewPCG(seed, 3)))
	if err != nil {
		t.Fatal(err)
	}
	data := rand.New(rand.NewPCG(seed, 2))
	labels := make([]int, 16)
	for i := 0; i < steps; i++ {
		fillRandom(data, p.X.Data().([]float32), p.Y.Data().([]float32), labels)
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		params, err := p.Params()
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(params, 0.01); err != nil {
			t.Fatal(err)
		}
		losses = append(losses, p.Loss())
	}
	return losses, m
}

func TestSameSeedSameLosses(t *testing.T) {
	a, _ := trainSteps(t, 42, 30)
	b, _ := trainSteps(t, 42, 30)
	c, _ := trainSteps(t, 43, 30)
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: loss %v vs %v with the same seed", i, a[i], b[i])
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave identical losses")
	}
	// Single losses are noisy (dropout, random batches): compare the
	// means of the first and last five steps.
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	if first, last := mean(a[:5]), mean(a[len(a)-5:]); !(last < first) {
		t.Errorf("loss did not fall: mean of the first 5 steps %v, of the last 5 %v", first, last)
	}
}

// TestProgramsShareParameters checks that parameters live outside any one
// graph (docs/DESIGN.md): an update made through the training program's
// parameters is seen by an inference program compiled before it, without
// copying.
func TestProgramsShareParameters(t *testing.T) {
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, -2, 3, -4, 5, -6}
	before, err := m.Probabilities(x)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, p := range before {
		sum += p
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Fatalf("probabilities sum to %v", sum)
	}
	// Change fc2.bias in the store: class 2 must become near certain.
	if err := m.Params.Set("fc2.bias", []float64{0, 0, 50}); err != nil {
		t.Fatal(err)
	}
	after, _ := m.Probabilities(x)
	if after[2] < 0.999 {
		t.Errorf("inference program did not see the update: %v → %v", before, after)
	}
}

// TestDropoutTrainVersusInfer checks that dropout is the identity in
// inference, and in training zeroes about P of the elements and scales the
// rest by 1/(1−P).
func TestDropoutTrainVersusInfer(t *testing.T) {
	arch := Arch{Net: NewSequential(Dropout{Name: "d", P: 0.25}), InShape: []int{1000}}
	m, err := NewModel(arch, Float64, nil)
	if err != nil {
		t.Fatal(err)
	}
	inf, _ := m.Infer(2)
	tr, err := m.Train(2, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Program{inf, tr} {
		x := p.X.Data().([]float64)
		for i := range x {
			x[i] = 1
		}
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range inf.Output().Data().([]float64) {
		if v != 1 {
			t.Fatalf("inference output[%d] = %v, want 1", i, v)
		}
	}
	zeros := 0
	for _, v := range tr.Output().Data().([]float64) {
		switch {
		case v == 0:
			zeros++
		case math.Abs(v-1/0.75) > 1e-12:
			t.Fatalf("kept element %v, want 1/(1-0.25)", v)
		}
	}
	// 2000 draws with p = .25: mean 500, std ≈ 19.4; ±100 is > 5 std.
	if zeros < 400 || zeros > 600 {
		t.Errorf("%d of 2000 dropped, want about 500", zeros)
	}
}

func TestArchValidate(t *testing.T) {
	bad := Arch{Net: NewSequential(Dense{Name: "fc1", In: 5, Out: 3}), InShape: []int{4}}
	if err := bad.Validate(); err == nil {
		t.Error("mismatched input accepted")
	}
	one := NewSequential(Dense{Name: "fc1", In: 4, Out: 1})
	for _, c := range []struct {
		name string
		arch Arch
		want string // "" for a valid architecture
	}{
		{"one class for cross-entropy", Arch{Net: one, InShape: []int{4}}, "at least 2 classes"},
		{"one output for MSE", Arch{Net: one, InShape: []int{4}, Loss: MSE{}}, ""},
		{"no input shape", Arch{Net: one}, "no input shape"},
		{"both InShape and Inputs", Arch{Net: one, InShape: []int{4}, Inputs: []Input{{Name: "a", Shape: []int{3}}}}, "give one"},
		{"two inputs, one-input network", Arch{Net: Dense{Name: "fc", In: 4, Out: 2},
			Inputs: []Input{{Name: "a", Shape: []int{4}}, {Name: "b", Shape: []int{4}}}}, "takes one"},
		{"a zero dimension", Arch{Net: one, InShape: []int{0}, Loss: MSE{}}, "dimension < 1"},
	} {
		err := c.arch.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestProgramGradientsMatchFiniteDifferences checks the gradients a training
// program hands the optimizer — the whole path: our ops, the fused loss, the
// skipped input gradient and reading gradients without dual values —
// against central differences of the program's own loss, in float64.
func TestProgramGradientsMatchFiniteDifferences(t *testing.T) {
	arch := Arch{Net: NewSequential(
		Dense{Name: "fc1", In: 6, Out: 5}, Tanh{},
		Dense{Name: "fc2", In: 5, Out: 3}), InShape: []int{6}}
	m, err := NewModel(arch, Float64, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Train(4, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	x, y := p.X.Data().([]float64), p.Y.Data().([]float64)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for r := 0; r < 4; r++ {
		y[r*3+r%3] = 1
	}
	// Two runs: the second's gradients must not include the first's.
	for range 2 {
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
	}
	params, err := p.Params()
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-6
	for _, prm := range params {
		grad := append([]float64(nil), prm.Grad.Data().([]float64)...)
		w := prm.Value.Data().([]float64)
		for i := range w {
			orig := w[i]
			w[i] = orig + h
			_ = p.Run()
			fp := p.Loss()
			w[i] = orig - h
			_ = p.Run()
			fm := p.Loss()
			w[i] = orig
			num := (fp - fm) / (2 * h)
			if math.Abs(num-grad[i]) > gradTol*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: gradient %v, finite difference %v", prm.Name, i, grad[i], num)
			}
		}
	}
}

// TestRunOnCallersGoroutine: a program runs its tape machine's loop on the
// calling goroutine (runTape), which gives RunAll's results and reports an
// op's error as RunAll does.
func TestRunOnCallersGoroutine(t *testing.T) {
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Infer(4)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release(p)
	if p.tape == nil {
		t.Fatal("the program does not run the tape machine's loop itself")
	}
	x := p.X.Float32s()
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	got := append([]float32(nil), p.Output().Float32s()...)
	if err := p.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	p.vm.Reset()
	for i, v := range p.Output().Float32s() {
		if v != got[i] {
			t.Fatalf("output %d: runTape %v, RunAll %v", i, got[i], v)
		}
	}
	// An input of the wrong shape makes the first op fail.
	if err := p.X.Reshape(4 * 6); err != nil {
		t.Fatal(err)
	}
	err = p.Run()
	if err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("Run with a reshaped input: error %v, want one about its shape", err)
	}
	if err := p.X.Reshape(4, 6); err != nil {
		t.Fatal(err)
	}
	if err := p.Run(); err != nil {
		t.Errorf("Run after the failed one: %v", err)
	}
}

// TestProgramsAreCollected checks that a program nobody holds is freed:
// Gorgonia sets a finalizer on its tape machine, which sits in a cycle of
// its own, and the runtime never collects a cycle with a finalizer in it.
func TestProgramsAreCollected(t *testing.T) {
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Train(16, rand.New(rand.NewPCG(1, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	g := weak.Make(p.g)
	p = nil
	for i := 0; i < 3 && g.Value() != nil; i++ {
		runtime.GC()
	}
	if g.Value() != nil {
		t.Fatal("a program's graph is still live after garbage collection: compiled programs leak")
	}
}

// TestNodeNamesNeverMerge names a model's input like the targets node ("y")
// and like its own parameter ("fc.weight"). Gorgonia merges nodes of the
// same name and shape (docs/GORGONIA.md#identical-nodes-merge): the input
// "y" became the targets (the loss of y = 3x + 1 was that of the identity),
// and the input "fc.weight" the weight (Predict(2) gave 5, not 7). With
// w = 3 and b = 1 the loss on (2, 7) must be 0 and the prediction 7.
func TestNodeNamesNeverMerge(t *testing.T) {
	for _, name := range []string{"x", "y", "fc.weight", "fc.bias", "drop.mask"} {
		arch := Arch{Net: Dense{Name: "fc", In: 1, Out: 1}, Inputs: []Input{{Name: name, Shape: []int{1}}}, Loss: MSE{}}
		m, err := NewModel(arch, Float32, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		m.Params.Get("fc.weight").Float32s()[0] = 3
		m.Params.Get("fc.bias").Float32s()[0] = 1
		out, err := m.Predict([]float32{2})
		if err != nil {
			t.Fatal(err)
		}
		if out[0] != 7 {
			t.Errorf("input %q: Predict(2) = %v, want 7", name, out[0])
		}
		p, err := m.Eval(1)
		if err != nil {
			t.Fatal(err)
		}
		p.X.Float32s()[0], p.Y.Float32s()[0] = 2, 7
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		if loss := p.Loss(); loss != 0 {
			t.Errorf("input %q: loss of (2, 7) = %v, want 0", name, loss)
		}
		m.Release(p)
	}
}

// TestNilPartsAreErrors: a nil layer in a Sequential or a Concat, and a
// Loss cleared after NewModel, were nil-pointer panics.
func TestNilPartsAreErrors(t *testing.T) {
	for _, c := range []struct {
		arch Arch
		want string
	}{
		{Arch{Net: NewSequential(Dense{Name: "fc", In: 2, Out: 2}, nil), InShape: []int{2}, Loss: MSE{}}, "layer 1 is nil"},
		{Arch{Net: Concat{Branches: []Layer{Identity{}, nil}}, InShape: []int{2}, Loss: MSE{}}, "concat: branch 1 is nil"},
		{Arch{Net: Merge{Branches: []Layer{nil, Identity{}}}, Inputs: []Input{{Name: "a", Shape: []int{2}}, {Name: "b", Shape: []int{2}}}, Loss: MSE{}}, "merge: branch 0 is nil"},
	} {
		if _, err := NewModel(c.arch, Float32, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewModel: %v, want an error saying %q", err, c.want)
		}
	}
	m, err := NewModel(Arch{Net: Dense{Name: "fc", In: 2, Out: 1}, InShape: []int{2}, Loss: MSE{}}, Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m.Arch.Loss = nil
	if _, err := m.Train(4, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), "Arch.Loss is nil") {
		t.Errorf("Train with no loss: %v", err)
	}
	if _, err := m.Eval(4); err == nil || !strings.Contains(err.Error(), "Arch.Loss is nil") {
		t.Errorf("Eval with no loss: %v", err)
	}
	if _, err := m.Predict([]float32{1, 2}); err != nil {
		t.Errorf("Predict needs no loss: %v", err)
	}
}

// TestPredictNothingSaysSo: no examples was "0 values is not a whole number
// of 6-value examples".
func TestPredictNothingSaysSo(t *testing.T) {
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Predict(nil); err == nil || !strings.Contains(err.Error(), "has no examples") {
		t.Errorf("Predict(nil): %v", err)
	}
}
