package ops

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDenseOpsDoNotMerge: two dense ops on the same input and weight that
// differ only in name are two nodes (the name is in the hash:
// docs/GORGONIA.md#identical-nodes-merge), and ops that differ only in
// batch, bias, input gradient or dtype hash apart.
func TestDenseOpsDoNotMerge(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 3), G.WithName("x"))
	w := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("w"))
	ya, err := Dense(x, w, nil, DenseConfig{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	yb, err := Dense(x, w, nil, DenseConfig{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if ya == yb {
		t.Error("two dense ops merged into one node")
	}
	hashesApart(t,
		newDenseOp[float32](newDenseShapes("a", 4, 3, 2, true, false)),
		newDenseOp[float32](newDenseShapes("b", 4, 3, 2, true, false)),
		newDenseOp[float32](newDenseShapes("a", 5, 3, 2, true, false)),
		newDenseOp[float32](newDenseShapes("a", 4, 3, 2, false, false)),
		newDenseOp[float32](newDenseShapes("a", 4, 3, 2, true, true)),
		newDenseOp[float64](newDenseShapes("a", 4, 3, 2, true, false)))
}

// TestConstructorsCheckShapes: inputs that do not fit an op are errors when
// the graph is built, not panics in a kernel.
func TestConstructorsCheckShapes(t *testing.T) {
	g := G.NewGraph()
	node := func(name string, dt tensor.Dtype, shape ...int) *G.Node {
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name))
	}
	x2, x4 := node("x2", tensor.Float32, 4, 3), node("x4", tensor.Float32, 2, 3, 5, 5)
	cases := []struct {
		what string
		err  error
	}{
		{"dense weight", second(Dense(x2, node("w", tensor.Float32, 4, 2), nil, DenseConfig{}))},
		{"dense bias", second(Dense(x2, node("w32", tensor.Float32, 3, 2), node("b", tensor.Float32, 2), DenseConfig{}))},
		{"dense dtype", second(Dense(node("xi", tensor.Int, 4, 3), node("wi", tensor.Int, 3, 2), nil, DenseConfig{}))},
		{"dropout mask", second(Dropout(x2, node("m", tensor.Float32, 3, 4), DropoutConfig{P: 0.5}))},
		{"dropout rate", second(Dropout(x2, node("m43", tensor.Float32, 4, 3), DropoutConfig{P: 1}))},
		{"xent shapes", second(SoftmaxCrossEntropy(x2, node("y", tensor.Float32, 4, 2)))},
		{"conv channels", second(Conv2D(x4, node("cw", tensor.Float32, 8, 2, 3, 3), nil, Conv2DConfig{}))},
		{"conv kernel", second(Conv2D(x4, node("cw6", tensor.Float32, 8, 3, 6, 6), nil, Conv2DConfig{}))},
		{"pool padding", second(MaxPool2D(x4, PoolConfig{Kernel: [2]int{2, 2}, Pad: [2]int{2, 0}}))},
		{"pool rank", second(AvgPool2D(x2, PoolConfig{Kernel: [2]int{2, 2}}))},
		{"batch norm statistics", second(BatchNorm(x4, node("g", tensor.Float32, 3), node("bb", tensor.Float32, 3),
			BatchNormConfig{Momentum: 0.1, Eps: 1e-5}))},
	}
	for _, c := range cases {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), "ops.") {
			t.Errorf("%s: error %v, want one from ops", c.what, c.err)
		}
	}
}

func second(_ *G.Node, err error) error { return err }
