// Package optim implements tapestry's optimizers — SGD with momentum or
// Nesterov momentum, Adam, AdamW, RMSProp and Adadelta — with gradient
// clipping by global norm and per-epoch learning-rate schedules.
//
// The shortest use:
//
//	opt, err := optim.New(optim.Config{Name: "adam"})
//	params := []optim.Param{{Name: "fc1.weight", Value: w, Grad: dw}, ...}
//	// each batch: run the tape machine (it fills dw), then
//	err = opt.Step(params, opt.Config().LR)
//
// Optimizers update the parameter tensors in place from the gradient tensors
// that Gorgonia's tape machine binds, then zero the gradients, which Gorgonia
// would otherwise accumulate across runs
// (docs/GORGONIA.md#gradients-accumulate-across-runs). Gorgonia's own
// solvers are not used: their AdamW never changes the weights, WithBatchSize
// scales the gradients twice, and their state cannot be saved
// (docs/GORGONIA.md#adamw-never-changes-the-weights). Here an optimizer's
// state is named tensors (State) and a step count (Steps), so a checkpoint
// can save them and training can resume exactly.
//
// The update rules are PyTorch 1.13's, so results can be compared with it.
// Float32 parameters are updated in float32 arithmetic, float64 ones in
// float64; after its first Step an optimizer does not allocate. A Step on
// large parameters is split over GOMAXPROCS goroutines (the shared workers
// of internal/pool) in fixed spans of elements (parallel.go); the results
// are the same bits whatever the number of processors.
package optim
