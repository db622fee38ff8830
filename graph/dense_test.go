package graph

import (
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// denseParams is a parameter store for layer with the given weight and
// bias values.
func denseParams(t *testing.T, dt tensor.Dtype, l Dense, w, b []float64) *Params {
	t.Helper()
	params := NewParams(dt)
	for _, spec := range l.Params() {
		if _, err := params.Add(spec, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
	}
	opTestSet(t, params, l.Name+".weight", w)
	if b != nil {
		opTestSet(t, params, l.Name+".bias", b)
	}
	return params
}

func TestDenseForwardByHand(t *testing.T) {
	// x = [[1, 2], [3, 4]], W = [[1, 0, −1], [2, 1, 0]]:
	// x·W = [[1+4, 2, −1], [3+8, 4, −3]] = [[5, 2, −1], [11, 4, −3]],
	// and the bias [0.5, −1, 2] is added to each row.
	x := []float64{1, 2, 3, 4}
	w := []float64{1, 0, -1, 2, 1, 0}
	cases := []struct {
		name  string
		layer Dense
		bias  []float64
		want  []float64
	}{
		{"bias", Dense{Name: "fc", In: 2, Out: 3}, []float64{0.5, -1, 2}, []float64{5.5, 1, 1, 11.5, 3, -1}},
		{"no-bias", Dense{Name: "fc", In: 2, Out: 3, NoBias: true}, nil, []float64{5, 2, -1, 11, 4, -3}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{Float32, Float64} {
			t.Run(c.name+"-"+dt.String(), func(t *testing.T) {
				params := denseParams(t, dt, c.layer, w, c.bias)
				got, shape := opTestForward(t, c.layer, params, []int{2, 2}, x, true)
				if !tensor.Shape(shape).Eq(tensor.Shape{2, 3}) {
					t.Fatalf("shape %v, want [2 3]", shape)
				}
				opTestClose(t, got, c.want, 0)
			})
		}
	}
}

// TestDenseBackwardByHand checks the three gradients of the layer above
// for the cost Σ y ⊙ R with R = [[1, 0, 0], [0, 0, 2]], so dy = R:
// dx = R·Wᵀ = [[1, 2], [−2, 0]], dW = xᵀ·R = [[1, 0, 6], [2, 0, 8]],
// dbias = the column sums of R = [1, 0, 2].
func TestDenseBackwardByHand(t *testing.T) {
	for _, dt := range []tensor.Dtype{Float32, Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			l := Dense{Name: "fc", In: 2, Out: 3}
			params := denseParams(t, dt, l, []float64{1, 0, -1, 2, 1, 0}, []float64{0.5, -1, 2})
			b := NewBuilder(params, 2, true)
			xt := tensor.New(tensor.Of(dt), tensor.WithShape(2, 2))
			opTestFill(t, xt, []float64{1, 2, 3, 4})
			xn := G.NewTensor(b.G, dt, 2, G.WithShape(2, 2), G.WithName("x"), G.WithValue(xt))
			y, err := l.Forward(b, xn)
			if err != nil {
				t.Fatal(err)
			}
			rt := tensor.New(tensor.Of(dt), tensor.WithShape(2, 3))
			opTestFill(t, rt, []float64{1, 0, 0, 0, 0, 2})
			r := G.NewTensor(b.G, dt, 2, G.WithShape(2, 3), G.WithName("R"), G.WithValue(rt))
			cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
			_, nodes := b.ParamNodes()
			wrt := append([]*G.Node{xn}, nodes...)
			if _, err := G.Grad(cost, wrt...); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(b.G, G.BindDualValues(wrt...))
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			for i, want := range [][]float64{{1, 2, -2, 0}, {1, 0, 6, 2, 0, 8}, {1, 0, 2}} {
				g, err := wrt[i].Grad()
				if err != nil {
					t.Fatal(err)
				}
				opTestClose(t, toFloat64s(g.(*tensor.Dense)), want, 0)
			}
		})
	}
}

// TestDenseShapesChecked: an input of the wrong width is an error when the
// graph is built, not a panic in the GEMM.
func TestDenseShapesChecked(t *testing.T) {
	l := Dense{Name: "fc", In: 3, Out: 2}
	params := denseParams(t, Float64, l, make([]float64, 6), make([]float64, 2))
	b := NewBuilder(params, 4, false)
	x, _ := b.Input("x", []int{5})
	if _, err := l.Forward(b, x); err == nil {
		t.Error("a [4 5] input to a 3→2 dense layer was accepted")
	}
}

// TestTrainingRunAllocatesNoTensor is the allocation promise of our ops:
// after the first run, a training run of Dense, ReLU, Dropout and the
// cross-entropy allocates no tensor. The smallest tensor of this network
// is a [64, 256] float32 hidden layer, 64 KiB; what Gorgonia's tape machine
// still allocates per run is a few KiB of bookkeeping (about 3.8 KiB per
// step for the 784-512-512-10 MLP). Before our ops, a run of that MLP
// allocated 7 MB.
func TestTrainingRunAllocatesNoTensor(t *testing.T) {
	arch := Arch{Net: NewSequential(
		Dense{Name: "fc1", In: 100, Out: 256}, ReLU{}, Dropout{Name: "drop1", P: 0.2},
		Dense{Name: "fc2", In: 256, Out: 10}), InShape: []int{100}}
	m, err := NewModel(arch, Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Train(64, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	y := p.Y.Float32s()
	for i := 0; i < 64; i++ {
		y[i*10+i%10] = 1
	}
	// Warm-up runs: package blas takes a packing workspace per part from a
	// sync.Pool, and whether a second part (and workspace) is needed
	// depends on whether a worker joins; after a GC the pool may need one
	// again. Over 100 runs one such 1 MiB workspace is 10 KiB a run, below
	// the bound; a tensor every run (64 KiB or more) is not.
	for range 5 {
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
	}
	const runs = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 16<<10 {
		t.Errorf("a training run allocates %d bytes, want less than 16 KiB (no tensor)", perRun)
	}
}
