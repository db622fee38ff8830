package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// convGeom is the geometry of a 2-D convolution or pooling window sliding
// over one NCHW batch: B images of C channels of H×W, a KH×KW window moved by
// SH, SW over the input padded by PH, PW on each side, giving OH×OW outputs.
type convGeom struct {
	B, C, H, W     int
	KH, KW, SH, SW int
	PH, PW         int
	OH, OW         int
}

// newConvGeom fills OH and OW: H' = (H + 2·PH − KH)/SH + 1, as in PyTorch.
func newConvGeom(b, c, h, w int, kernel, stride, pad [2]int) convGeom {
	g := convGeom{B: b, C: c, H: h, W: w, KH: kernel[0], KW: kernel[1], SH: stride[0], SW: stride[1], PH: pad[0], PW: pad[1]}
	g.OH = (h+2*g.PH-g.KH)/g.SH + 1
	g.OW = (w+2*g.PW-g.KW)/g.SW + 1
	return g
}

// windowGeom checks that a kernel window moved by stride fits the input x
// [B, C, H, W] padded by pad, and returns the geometry.
func windowGeom(x tensor.Shape, kernel, stride, pad [2]int) (convGeom, error) {
	if x.Dims() != 4 {
		return convGeom{}, errors.Errorf("input %v is not [batch, C, H, W]", x)
	}
	for i := range 2 {
		if kernel[i] < 1 || stride[i] < 1 || pad[i] < 0 || x[2+i]+2*pad[i] < kernel[i] {
			return convGeom{}, errors.Errorf("a %d×%d window moved by %d×%d does not fit input %v padded by %d×%d",
				kernel[0], kernel[1], stride[0], stride[1], x, pad[0], pad[1])
		}
	}
	return newConvGeom(x[0], x[1], x[2], x[3], kernel, stride, pad), nil
}

// orDefault returns v, or def if v is zero: an unset stride.
func orDefault(v, def [2]int) [2]int {
	if v == [2]int{} {
		return def
	}
	return v
}

// inSize, outPlane and colRows are the sizes of one image, one output channel
// and the rows of one image's column matrix (C·KH·KW).
func (g convGeom) inSize() int   { return g.C * g.H * g.W }
func (g convGeom) outPlane() int { return g.OH * g.OW }
func (g convGeom) colRows() int  { return g.C * g.KH * g.KW }

// identity reports whether the column matrix of an image is the image itself
// (a 1×1 kernel, stride 1, no padding), so im2col can be skipped.
func (g convGeom) identity() bool {
	return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0
}

// window describes the sliding window for op descriptions: "k3×3 s1×1 p0×0".
func (g convGeom) window() string {
	return fmt.Sprintf("k%d×%d s%d×%d p%d×%d", g.KH, g.KW, g.SH, g.SW, g.PH, g.PW)
}

// poolWindow returns the rows [h0, h1) and columns [w0, w1) of the input that
// output (oh, ow) covers, clipped to the image.
func (g convGeom) poolWindow(oh, ow int) (h0, h1, w0, w1 int) {
	h0, w0 = oh*g.SH-g.PH, ow*g.SW-g.PW
	h1, w1 = min(h0+g.KH, g.H), min(w0+g.KW, g.W)
	return max(h0, 0), h1, max(w0, 0), w1
}
