package graph_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/graph/ops"
	"github.com/tapestry-ml/tapestry/optim"
)

// The worked examples of docs/math.md: each prints what the guide quotes.

// One neuron, a = σ(w·x + b), with the squared error (a − t)² of one
// example: its gradient worked out by the chain rule beside the one
// tapestry builds symbolically (gorgonia.Grad over ops.Dense and the
// sigmoid) and hands an optimizer.
func Example_neuronGradient() {
	x := []float64{1, 2, -1}
	w := []float64{0.5, -0.25, 0.1}
	b, target := 0.2, 1.0

	// By hand: z = w·x + b, a = σ(z), L = (a − t)², and
	// ∂L/∂w_i = 2(a − t) · σ(z)(1 − σ(z)) · x_i, ∂L/∂b the same without x_i.
	z := b
	for i := range x {
		z += w[i] * x[i]
	}
	a := 1 / (1 + math.Exp(-z))
	dz := 2 * (a - target) * a * (1 - a)
	fmt.Printf("by hand:  z %.4f  a %.6f  loss %.6f\n", z, a, (a-target)*(a-target))
	fmt.Printf("by hand:  dL/dw [%.6f %.6f %.6f]  dL/db %.6f\n", dz*x[0], dz*x[1], dz*x[2], dz)

	// Tapestry: a Dense layer of one unit, a Sigmoid and the MSE loss, in
	// float64, with the weights set to w and b.
	arch := graph.Arch{
		Net:     graph.NewSequential(graph.Dense{Name: "n", In: 3, Out: 1}, graph.Sigmoid{}),
		InShape: []int{3},
		Loss:    graph.MSE{},
	}
	m, err := graph.NewModel(arch, graph.Float64, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Params.Set("n.weight", w); err != nil { // [In, Out] = [3, 1]
		log.Fatal(err)
	}
	if err := m.Params.Set("n.bias", []float64{b}); err != nil {
		log.Fatal(err)
	}
	p, err := m.Train(1, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	copy(p.X.Data().([]float64), x)
	p.Y.Data().([]float64)[0] = target
	if err := p.Run(); err != nil {
		log.Fatal(err)
	}
	params, err := p.Params()
	if err != nil {
		log.Fatal(err)
	}
	g := map[string][]float64{}
	for _, prm := range params {
		g[prm.Name] = graph.Float64s(prm.Grad)
	}
	dw, db := g["n.weight"], g["n.bias"]
	fmt.Printf("tapestry: a %.6f  loss %.6f\n", p.Output().Data().([]float64)[0], p.Loss())
	fmt.Printf("tapestry: dL/dw [%.6f %.6f %.6f]  dL/db %.6f\n", dw[0], dw[1], dw[2], db[0])
	// Output:
	// by hand:  z 0.1000  a 0.524979  loss 0.225645
	// by hand:  dL/dw [-0.236918 -0.473835 0.236918]  dL/db -0.236918
	// tapestry: a 0.524979  loss 0.225645
	// tapestry: dL/dw [-0.236918 -0.473835 0.236918]  dL/db -0.236918
}

// A 2-2-1 network — two inputs, two tanh units, one output whose sigmoid is
// the probability of "true" — learns XOR from its four examples: full-batch
// training with Adam, the loss (the mean sigmoid cross-entropy) printed as
// it falls, then the four predictions. The loss is not convex: from another
// initialization the same network stalls where one hidden unit is of no
// use and two examples are left at probability ½, a loss of (ln 2)/2.
func Example_xor() {
	m, losses := trainXOR(10)
	for step, l := range losses {
		if step%50 == 0 {
			fmt.Printf("step %3d  loss %.4f\n", step, l)
		}
	}
	probs, err := m.Probabilities([]float32{0, 0, 0, 1, 1, 0, 1, 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("P(true) for 00 01 10 11: %.2f\n", probs)

	m, losses = trainXOR(1)
	probs, err = m.Probabilities([]float32{0, 0, 0, 1, 1, 0, 1, 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("another seed: loss %.4f, (ln 2)/2 = %.4f, P(true) %.2f\n", losses[len(losses)-1], math.Ln2/2, probs)
	// Output:
	// step   0  loss 0.7404
	// step  50  loss 0.4406
	// step 100  loss 0.0674
	// step 150  loss 0.0200
	// step 200  loss 0.0117
	// step 250  loss 0.0080
	// step 300  loss 0.0059
	// step 350  loss 0.0046
	// step 400  loss 0.0038
	// P(true) for 00 01 10 11: [0.01 1.00 1.00 0.00]
	// another seed: loss 0.3475, (ln 2)/2 = 0.3466, P(true) [0.00 0.50 1.00 0.50]
}

// trainXOR trains the 2-2-1 network of Example_xor for 400 Adam steps from
// the initialization seed gives, and returns it with the loss of every
// step (401 values: before each step, and after the last).
func trainXOR(seed uint64) (*graph.Model, []float64) {
	arch := graph.Arch{
		Net: graph.NewSequential(
			graph.Dense{Name: "hidden", In: 2, Out: 2}, graph.Tanh{},
			graph.Dense{Name: "out", In: 2, Out: 1}),
		InShape: []int{2},
		Loss:    graph.SigmoidCrossEntropy{},
	}
	m, err := graph.NewModel(arch, graph.Float64, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		log.Fatal(err)
	}
	p, err := m.Train(4, rand.New(rand.NewPCG(seed, 2))) // no dropout: the rng draws nothing
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	copy(p.X.Data().([]float64), []float64{0, 0, 0, 1, 1, 0, 1, 1})
	copy(p.Y.Data().([]float64), []float64{0, 1, 1, 0})
	opt, err := optim.New(optim.Config{Name: "adam", LR: 0.05})
	if err != nil {
		log.Fatal(err)
	}
	var losses []float64
	for step := 0; step <= 400; step++ {
		if err := p.Run(); err != nil { // forward and backward
			log.Fatal(err)
		}
		losses = append(losses, p.Loss())
		if step == 400 {
			break
		}
		params, err := p.Params()
		if err != nil {
			log.Fatal(err)
		}
		if err := opt.Step(params, opt.Config().LR); err != nil {
			log.Fatal(err)
		}
	}
	return m, losses
}

// The softmax cross-entropy of logits ±1000, where exp overflows: computed
// naively the loss is NaN; ops.SoftmaxCrossEntropy subtracts each row's own
// maximum, so that no exponent is positive, and gets the exact loss and
// gradient, in float32 as in float64.
func Example_softmaxCrossEntropyExtremeLogits() {
	logits := []float64{1000, 0, -1000, -1000, 1000, 0} // two rows of three classes
	targets := []float64{1, 0, 0, 1, 0, 0}              // both rows are class 0

	// Naively: p = exp(z)/Σ exp(z), loss = −Σ y·log p, averaged over the rows.
	naive := 0.0
	for r := 0; r < 2; r++ {
		row, sum := logits[r*3:r*3+3], 0.0
		for _, v := range row {
			sum += math.Exp(v)
		}
		for c, v := range row {
			if targets[r*3+c] != 0 {
				naive -= targets[r*3+c] * math.Log(math.Exp(v)/sum)
			}
		}
	}
	fmt.Printf("naive: exp(1000) = %v, loss %v\n", math.Exp(1000), naive/2)

	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := G.NewGraph()
		mat := func(name string, v []float64) *G.Node {
			t := tensor.New(tensor.Of(dt), tensor.WithShape(2, 3))
			if err := graph.SetFloat64s(t, v); err != nil {
				log.Fatal(err)
			}
			return G.NewMatrix(g, dt, G.WithShape(2, 3), G.WithName(name), G.WithValue(t))
		}
		x, y := mat("logits", logits), mat("targets", targets)
		loss, err := ops.SoftmaxCrossEntropy(x, y)
		if err != nil {
			log.Fatal(err)
		}
		var lv G.Value
		G.Read(loss, &lv)
		if _, err := G.Grad(loss, x); err != nil {
			log.Fatal(err)
		}
		vm := G.NewTapeMachine(g, G.BindDualValues(x))
		if err := vm.RunAll(); err != nil {
			log.Fatal(err)
		}
		dx, err := x.Grad()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%v: loss %v, dL/dz %v\n", dt, lv, graph.Float64s(dx.(*tensor.Dense)))
		vm.Close()
	}
	// Output:
	// naive: exp(1000) = +Inf, loss NaN
	// float32: loss 1000, dL/dz [0 0 0 -0.5 0.5 0]
	// float64: loss 1000, dL/dz [0 0 0 -0.5 0.5 0]
}

// The error of a finite difference of f = exp at x = 1, whose derivative is
// e: the forward difference (f(x+h) − f(x))/h is off by about h·e/2, the
// central one (f(x+h) − f(x−h))/2h by about h²·e/6. In float32 the rounding
// of f, about ε·f/h with ε = 2⁻²⁴, swamps the truncation error long before
// h is small, which is why gradient checks run in float64. graph.CheckLayer
// then checks a layer's every gradient with central differences.
func Example_centralDifference() {
	const x = 1.0
	e := math.E
	for _, h := range []float64{1e-1, 1e-2, 1e-3, 1e-4} {
		fwd := (math.Exp(x+h) - math.Exp(x)) / h
		ctr := (math.Exp(x+h) - math.Exp(x-h)) / (2 * h)
		fmt.Printf("h %.0e  forward error %.1e  central error %.1e\n", h, math.Abs(fwd-e), math.Abs(ctr-e))
	}
	exp32 := func(v float32) float32 { return float32(math.Exp(float64(v))) }
	for _, h := range []float32{1e-2, 1e-3, 1e-4} {
		ctr := (exp32(x+h) - exp32(x-h)) / (2 * h)
		fmt.Printf("float32: h %.0e  central error %.1e\n", h, math.Abs(float64(ctr)-e))
	}
	res, err := graph.CheckLayer(graph.Tanh{}, []int{4}, 3, true, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("CheckLayer(Tanh): %d gradients checked, max error below 1e-8: %t\n", res.Checked, res.MaxRelErr < 1e-8)
	// Output:
	// h 1e-01  forward error 1.4e-01  central error 4.5e-03
	// h 1e-02  forward error 1.4e-02  central error 4.5e-05
	// h 1e-03  forward error 1.4e-03  central error 4.5e-07
	// h 1e-04  forward error 1.4e-04  central error 4.5e-09
	// float32: h 1e-02  central error 3.6e-05
	// float32: h 1e-03  central error 4.7e-05
	// float32: h 1e-04  central error 8.8e-04
	// CheckLayer(Tanh): 12 gradients checked, max error below 1e-8: true
}

// The variance argument of Glorot and He initialization, run through
// tapestry's layers: a stack of Dense(512 → 512) + ReLU layers on
// standard-normal inputs, the mean square of the activations printed after
// layers 1, 2, 5 and 10. He's Var(w) = 2/n keeps it near the input's 1,
// since each ReLU halves it and the weights double it back; Glorot's
// 2/(n_in + n_out) = 1/n only makes up for the weights, so each ReLU
// halves it, to about 2⁻¹⁰ after ten layers.
func Example_initVariance() {
	const n, batch = 512, 64
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, batch*n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for _, c := range []struct {
		name string
		init graph.Initializer
	}{{"He", graph.HeNormal{}}, {"Glorot", graph.GlorotNormal{}}} {
		fmt.Printf("%-6s", c.name)
		for _, depth := range []int{1, 2, 5, 10} {
			var layers []graph.Layer
			for k := range depth {
				layers = append(layers, graph.Dense{Name: fmt.Sprintf("fc%d", k+1), In: n, Out: n, WeightInit: c.init}, graph.ReLU{})
			}
			// The same seed draws the same first layers whatever the depth.
			m, err := graph.NewModel(graph.Arch{Net: graph.NewSequential(layers...), InShape: []int{n}, Loss: graph.MSE{}},
				graph.Float64, rand.New(rand.NewPCG(6, 6)))
			if err != nil {
				log.Fatal(err)
			}
			y, err := m.Predict(x)
			if err != nil {
				log.Fatal(err)
			}
			sq := 0.0
			for _, v := range y {
				sq += v * v
			}
			fmt.Printf("  layer %2d: %.3f", depth, sq/float64(len(y)))
		}
		fmt.Println()
	}
	// Output:
	// He      layer  1: 1.009  layer  2: 1.006  layer  5: 1.057  layer 10: 0.890
	// Glorot  layer  1: 0.505  layer  2: 0.251  layer  5: 0.033  layer 10: 0.001
}
