//go:build !amd64

package ops

// hasAVX512 is false off amd64: the Go loops run.
const hasAVX512 = false

func reluForwardVec32(y, x []float32)       { reluForward32(y, x) }
func reluBackwardVec32(dx, x, dy []float32) { reluBackward32(dx, x, dy) }
func mul32(dst, a, b []float32)             { mulInto(dst, a, b) }

func maxPool2x2Float[T Float](g convGeom, x, y []T, arg []int32) { maxPool2x2(g, x, y, arg) }
