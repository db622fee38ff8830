package ops_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph/ops"
)

// A two-class classifier of three features built from the ops, with its
// gradient: the loss of two examples, and dloss/dw.
func Example() {
	g := G.NewGraph()
	mat := func(name string, r, c int, v ...float64) *G.Node {
		t := tensor.New(tensor.WithShape(r, c), tensor.WithBacking(v))
		return G.NewMatrix(g, tensor.Float64, G.WithShape(r, c), G.WithName(name), G.WithValue(t))
	}
	x := mat("x", 2, 3, 1, 2, 3, -1, 0, 1)
	w := mat("w", 3, 2, 0.5, -0.5, 0.25, 0, -1, 1)
	y := mat("y", 2, 2, 1, 0, 0, 1)
	h, err := ops.Dense(x, w, nil, ops.DenseConfig{Name: "fc", NoInputGrad: true})
	if err != nil {
		panic(err)
	}
	if h, err = ops.ReLU(h); err != nil {
		panic(err)
	}
	loss, err := ops.SoftmaxCrossEntropy(h, y)
	if err != nil {
		panic(err)
	}
	var lv G.Value
	G.Read(loss, &lv)
	if _, err := G.Grad(loss, w); err != nil {
		panic(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(w))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	dw, _ := w.Grad()
	fmt.Printf("loss %.4f\ndw %.4f\n", lv, dw.Data())
	// The ReLU zeroes the first logit of both examples, so the first
	// column of w gets no gradient.

	// Output:
	// loss 1.3902
	// dw [0.0000 0.5533 0.0000 0.9241 0.0000 1.2950]
}
