// Package bench implements tapestry's training-speed harness: it times
// training steps of named workloads on real MNIST batches with their real
// optimizers, and optionally the PyTorch peer (bench/peers/torch_mnist.py)
// on the same workload, side by side.
//
// The shortest use:
//
//	results, err := bench.Run(ctx, bench.Config{Workloads: []string{"mlp"}, Repeat: 5}, os.Stdout)
//	fmt.Println(results[0].SamplesPerSec)
//
// Every figure is a median over Repeat independent measurements (a fresh
// model, warm-up steps, then Steps timed steps), never one run.
package bench
