package ops

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasAVX512 says whether the float32 elementwise kernels run sixteen
// elements at a time (elem_amd64.s). The Go loops do one element per
// iteration; on the CNN's 2.4 million conv outputs a step, ReLU forward and
// backward took 11% of its time in them.
var hasAVX512 = cpu.X86.HasAVX512F

//go:noescape
func reluForwardAVX512(n int, y, x *float32)

//go:noescape
func reluBackwardAVX512(n int, dx, x, dy *float32)

//go:noescape
func mulAVX512(n int, dst, a, b *float32)

// reluForwardVec32 and reluBackwardVec32 are reluForward32 and
// reluBackward32 (relu.go), 16 elements at a time where the CPU allows.
func reluForwardVec32(y, x []float32) {
	if hasAVX512 && len(x) > 0 {
		y = y[:len(x)]
		reluForwardAVX512(len(x), &y[0], &x[0])
		return
	}
	reluForward32(y, x)
}

func reluBackwardVec32(dx, x, dy []float32) {
	if hasAVX512 && len(x) > 0 {
		dx, dy = dx[:len(x)], dy[:len(x)]
		reluBackwardAVX512(len(x), &dx[0], &x[0], &dy[0])
		return
	}
	reluBackward32(dx, x, dy)
}

func mul32(dst, a, b []float32) {
	if hasAVX512 && len(dst) > 0 {
		a, b = a[:len(dst)], b[:len(dst)]
		mulAVX512(len(dst), &dst[0], &a[0], &b[0])
		return
	}
	mulInto(dst, a, b)
}

//go:noescape
func maxPool2x2RowAVX512(ow int, top *float32, w int, y *float32, arg *int32, base int32)

// maxPool2x2Float is maxPool2x2, a row of float32 outputs 16 at a time
// where the CPU allows.
func maxPool2x2Float[T Float](g convGeom, x, y []T, arg []int32) {
	var z T
	if _, ok := any(z).(float32); !ok || !hasAVX512 || g.OW == 0 {
		maxPool2x2(g, x, y, arg)
		return
	}
	x32, y32 := *(*[]float32)(unsafe.Pointer(&x)), *(*[]float32)(unsafe.Pointer(&y))
	for oh := 0; oh < g.OH; oh++ {
		i0 := 2 * oh * g.W
		r := x32[i0 : i0+g.W+2*g.OW] // both rows of the windows, checked
		yr := y32[oh*g.OW : (oh+1)*g.OW]
		ar := arg[oh*g.OW : (oh+1)*g.OW]
		maxPool2x2RowAVX512(g.OW, &r[0], g.W, &yr[0], &ar[0], int32(i0))
	}
}
