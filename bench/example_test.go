package bench_test

import (
	"fmt"

	"github.com/tapestry-ml/tapestry/bench"
	"github.com/tapestry-ml/tapestry/models"
)

// The arithmetic behind the GFLOP/s column: one training step of the
// default MLP at batch 128.
func ExampleFLOPs() {
	arch, _ := models.Preset("mlp")
	flops, skipped, _ := bench.FLOPs(arch, 128)
	fmt.Println(flops, len(skipped))
	// Output: 410779648 0
}
