// Package ops holds tapestry's own Gorgonia ops — Dense, ReLU, GELU, SiLU,
// Softplus, Dropout, SoftmaxCrossEntropy, PointLoss (MSE, MAE, Huber and
// sigmoid cross-entropy), Conv2D, MaxPool2D, AvgPool2D and BatchNorm — for
// building networks from Gorgonia nodes. They replace chains of Gorgonia's
// elementary ops that allocate their outputs at every run, and Gorgonia
// ops that are wrong or slow (docs/GORGONIA.md): each op here owns its
// output and scratch buffers and reuses them, so that a training step
// allocates no tensor; splits its work over the shared workers of
// internal/pool in parts fixed when the op is built, so that a sum is the
// same bits at every run; and builds its own backward ops.
//
// Package graph's layers are built on these ops; a layer of your own can
// use them the same way:
//
//	x := G.NewMatrix(g, G.Float32, G.WithShape(64, 784), G.WithName("x"))
//	w := G.NewMatrix(g, G.Float32, G.WithShape(784, 10), G.WithName("w"), G.WithInit(G.GlorotU(1)))
//	y := G.NewMatrix(g, G.Float32, G.WithShape(64, 10), G.WithName("y"))
//	logits, err := ops.Dense(x, w, nil, ops.DenseConfig{Name: "fc", NoInputGrad: true})
//	...
//	loss, err := ops.SoftmaxCrossEntropy(logits, y)
//	...
//	_, err = G.Grad(loss, w)
//
// The constructors take nodes and a small config of the op's own, check
// the shapes, and return the op's output node; the op types themselves are
// not exported. Base, Input and Output are, for writing an op of your own
// in the same way.
//
// The ops take float32 or float64 values. A program using them must not
// run one graph from two goroutines at once: the ops keep their outputs and
// the values of the run under way.
package ops
