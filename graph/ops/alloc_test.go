package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestEveryOpDoesNotAllocate builds a small network of every op of the
// package, differentiates it, runs it once, then runs the Do of each of
// its ops (forward and backward) again on its inputs' values and counts
// allocations: after the first run an op allocates nothing.
func TestEveryOpDoesNotAllocate(t *testing.T) {
	dt := tensor.Float32
	rng := rand.New(rand.NewPCG(1, 2))
	g := G.NewGraph()
	val := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(randTensor(rng, dt, shape...)))
	}
	x := val("x", 4, 8, 6, 6)
	mean, variance := randTensor(rng, dt, 8), tensor.New(tensor.Of(dt), tensor.WithShape(8))
	setAll(variance, func(int) float64 { return 1 })
	h := mustNode(Conv2D(x, val("cw", 8, 8, 3, 3), val("cb", 8), Conv2DConfig{Name: "c"}))
	h = mustNode(BatchNorm(h, val("g", 8), val("b", 8), BatchNormConfig{Name: "bn", Training: true, Momentum: 0.1, Eps: 1e-5,
		RunningMean: mean, RunningVar: variance}))
	h = mustNode(ReLU(h))
	h = mustNode(MaxPool2D(h, PoolConfig{Kernel: [2]int{2, 2}}))
	h = mustNode(AvgPool2D(h, PoolConfig{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Pad: [2]int{1, 1}}))
	h = mustNode(G.Reshape(h, tensor.Shape{4, 8 * 3 * 3}))
	mask := val("mask", 4, 72)
	h = mustNode(Dropout(h, mask, DropoutConfig{Name: "d", P: 0.5}))
	h = mustNode(Dense(h, val("w", 72, 10), val("bias", 1, 10), DenseConfig{Name: "fc"}))
	loss := mustNode(SoftmaxCrossEntropy(h, val("y", 4, 10)))
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, n := range g.AllNodes() {
		op, ok := n.Op().(interface {
			G.Op
			CheckArity(int) error
		})
		if !ok {
			continue
		}
		// The inputs in order (ExprGraph.From lists a node's children).
		var in []G.Value
		for it := g.From(n.ID()); it.Next(); {
			in = append(in, it.Node().(*G.Node).Value())
		}
		run := func() {
			if _, err := op.Do(in...); err != nil {
				t.Fatalf("%v: %v", op, err)
			}
		}
		run()
		if a := testing.AllocsPerRun(5, run); a != 0 {
			t.Errorf("%v allocates %v times per run", op, a)
		}
		kinds[op.String()] = true
	}
	// 8 forward ops; 3 backward ops each for Conv2D, BatchNorm and Dense,
	// 2 for the loss and 1 for the others.
	if len(kinds) != 8+3*3+2+4 {
		t.Errorf("%d ops checked, want 23: %v", len(kinds), kinds)
	}
}

func mustNode(n *G.Node, err error) *G.Node {
	if err != nil {
		panic(err)
	}
	return n
}
