package ops

import "testing"

// TestCrossEntropyOpsHashApart: losses over different shapes or dtypes
// hash differently (docs/GORGONIA.md#identical-nodes-merge).
func TestCrossEntropyOpsHashApart(t *testing.T) {
	s := func(b, c int) xentShapes { return xentShapes{batch: b, classes: c, shape: []int{b, c}} }
	hashesApart(t, newXentOp[float32](s(4, 3)), newXentOp[float32](s(3, 4)), newXentOp[float64](s(4, 3)))
}
