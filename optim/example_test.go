package optim_test

import (
	"fmt"

	"github.com/tapestry-ml/tapestry/optim"
	"gorgonia.org/tensor"
)

// One SGD step, w −= lr·grad, on a two-element parameter.
func Example() {
	w := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))
	dw := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0.5, -1})) // as the tape machine fills it
	params := []optim.Param{{Name: "w", Value: w, Grad: dw}}

	opt, err := optim.New(optim.Config{Name: "sgd"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := opt.Step(params, 0.1); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(w.Data(), dw.Data(), opt.Steps())
	// Output: [0.95 2.1] [0 0] 1
}
