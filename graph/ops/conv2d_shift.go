package ops

import (
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	tblas "github.com/tapestry-ml/tapestry/blas"
)

// The shifted-window form of a stride-1, unpadded convolution needs no
// im2col. Index the output by m = oh·W + ow, a "wide" output of W columns per
// row of which the last KW−1 are not real outputs: then for the tap (i, j) of
// the kernel, the input element under output m is x[c, i·W + j + m], so the
// tap's view of the image is the image itself shifted by i·W + j, a matrix
// [C, L] with rows H·W apart (L = (OH−1)·W + OW wide outputs reach the last
// real one). The convolution is a sum of KH·KW GEMMs over these views, each
// with the tap's [Out, C] slice of the weight:
//
//	y_wide    = Σ_t w_t · x_t           (forward)
//	dw_t      = dy_wide · x_tᵀ          (weight gradient)
//	dx_t     += w_tᵀ · dy_wide          (input gradient: x_t's view of dx)
//
// where dy_wide holds zeros in the columns that are not real outputs. It
// reads each image in place, where im2col writes KH·KW copies of it: for
// cnn.Default's conv2 (32→64, 3×3 on 26×26) the 9 GEMMs took 210 µs an image
// against 300–420 µs for im2col and one GEMM (blas.Install, one core).

// shiftMinChannels is the fewest input channels for the shifted-window
// form: each of its GEMMs sums over the C channels only, and with few (C = 1
// for cnn.Default's conv1) KH·KW thin GEMMs cost more than im2col and one.
const shiftMinChannels = 8

// shiftable reports whether the shifted-window form applies: stride 1, no
// padding, a kernel larger than 1×1 (a 1×1 kernel needs no im2col), and at
// least shiftMinChannels input channels.
func (g convGeom) shiftable() bool {
	return g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0 && g.KH*g.KW > 1 && g.C >= shiftMinChannels
}

// wideLen is L, the number of wide outputs up to the last real one.
func (g convGeom) wideLen() int { return (g.OH-1)*g.W + g.OW }

// tapOffset is how far tap t = i·KW + j shifts the image.
func (g convGeom) tapOffset(t int) int { return (t/g.KW)*g.W + t%g.KW }

// tapWeights copies w [Out, C, KH, KW] into wt [KH·KW, Out, C], so that each
// tap's weights are a row-major matrix.
func tapWeights[T Float](g convGeom, out int, w, wt []T) {
	taps := g.KH * g.KW
	for o := range out {
		for c := range g.C {
			src := w[(o*g.C+c)*taps : (o*g.C+c+1)*taps]
			for t, v := range src {
				wt[(t*out+o)*g.C+c] = v
			}
		}
	}
}

// widen writes the output gradient of one image, dy [Out, OH, OW], into
// wide [Out, L] at the wide positions of the real outputs. The other
// positions are never written, so a buffer made zeroed keeps them zero.
func widen[T Float](g convGeom, out int, dy, wide []T) {
	L, P := g.wideLen(), g.outPlane()
	for o := range out {
		for oh := range g.OH {
			copy(wide[o*L+oh*g.W:o*L+oh*g.W+g.OW], dy[o*P+oh*g.OW:o*P+(oh+1)*g.OW])
		}
	}
}

// shiftForward computes one image's output y [Out, OH, OW] from x [C, H, W]
// and the tap weights, through wide [Out, L], adding bias if it is not nil.
func shiftForward[T Float](gemm gemmFunc[T], g convGeom, out int, wt, x, bias, wide, y []T) {
	L, HW, C := g.wideLen(), g.H*g.W, g.C
	for t := range g.KH * g.KW {
		var beta T
		if t > 0 {
			beta = 1
		}
		gemm(blas.NoTrans, blas.NoTrans, out, L, C, 1, wt[t*out*C:(t+1)*out*C], C, x[g.tapOffset(t):], HW, beta, wide, L)
	}
	P := g.outPlane()
	for o := range out {
		var v T
		if bias != nil {
			v = bias[o]
		}
		for oh := range g.OH {
			src := wide[o*L+oh*g.W : o*L+oh*g.W+g.OW]
			dst := y[o*P+oh*g.OW : o*P+(oh+1)*g.OW]
			for i, s := range src {
				dst[i] = s + v
			}
		}
	}
}

// shiftWeightGrad adds (beta = 1) or writes (beta = 0) one image's weight
// gradient into acc [KH·KW, Out, C] from x and its widened dy.
func shiftWeightGrad[T Float](gemm gemmFunc[T], g convGeom, out int, x, dyWide []T, beta T, acc []T) {
	L, HW, C := g.wideLen(), g.H*g.W, g.C
	for t := range g.KH * g.KW {
		gemm(blas.NoTrans, blas.Trans, out, C, L, 1, dyWide, L, x[g.tapOffset(t):], HW, beta, acc[t*out*C:(t+1)*out*C], C)
	}
}

// shiftInputGrad writes one image's input gradient dx [C, H, W] from the tap
// weights and its widened dy.
func shiftInputGrad[T Float](gemm gemmFunc[T], g convGeom, out int, wt, dyWide, dx []T) {
	clear(dx)
	L, HW, C := g.wideLen(), g.H*g.W, g.C
	for t := range g.KH * g.KW {
		gemm(blas.Trans, blas.NoTrans, C, L, out, 1, wt[t*out*C:(t+1)*out*C], C, dyWide, L, 1, dx[g.tapOffset(t):], HW)
	}
}

// With package blas installed, the backward GEMMs multiply by an operand
// packed once an image instead of once per tap: the weight gradient's
// op(B), x_tᵀ, is packed by every tap's GEMM (package blas reads a B that
// is not transposed in place, so the forward pass and the input gradient
// pack nothing), and with k = C or Out (32 and 64 in cnn.Default's conv2)
// packing cost about as much as the multiply-adds. The products are
// arranged so that the operand the taps share is op(B):
//
//	dw_tᵀ    = x_t · dy_wideᵀ           (weight gradient: dy_wideᵀ packed once an image)
//	dx_t    += w_tᵀ · dy_wide           (input gradient: dy_wide packed once an image)
//
// The transposed product multiplies the same pairs in the same order (over
// the wide outputs, in the same blocks), so every output has the bits of
// the unpacked form; gatherTaps reads dw_tᵀ transposed. (Measured at batch
// 64 on 2 cores with B read in place: the weight gradient 15 → 10 ms, the
// input gradient 9.9 → 9.4 ms; a packed forward pass, y_wideᵀ = Σ_t x_tᵀ ·
// w_tᵀ, gained nothing over reading x_t in place.)

// packedBLAS reports whether package blas is Gorgonia's BLAS, so that the
// packed forms apply (the unpacked ones serve any other BLAS, such as
// gonum's for comparisons). Tests set noPacked to compare the two forms.
func packedBLAS() bool {
	_, ok := G.WhichBLAS().(tblas.Implementation)
	return ok && !noPacked
}

var noPacked bool

// shiftWeightGradPacked is shiftWeightGrad into accT [KH·KW, C, Out] (each
// tap's dw_tᵀ), dy_wideᵀ packed into pk.
func shiftWeightGradPacked[T Float](g convGeom, out int, x, dyWide []T, beta T, pk *tblas.Packed[T], accT []T) {
	L, HW, C := g.wideLen(), g.H*g.W, g.C
	pk.Pack(true, L, out, dyWide, L)
	for t := range g.KH * g.KW {
		tblas.GemmPacked(blas.NoTrans, C, 1, x[g.tapOffset(t):], HW, pk, beta, accT[t*out*C:(t+1)*out*C], out)
	}
}

// shiftInputGradPacked is shiftInputGrad with dy_wide packed into pk.
func shiftInputGradPacked[T Float](g convGeom, out int, wt, dyWide []T, pk *tblas.Packed[T], dx []T) {
	clear(dx)
	L, HW, C := g.wideLen(), g.H*g.W, g.C
	pk.Pack(false, out, L, dyWide, L)
	for t := range g.KH * g.KW {
		tblas.GemmPacked(blas.Trans, C, 1, wt[t*out*C:(t+1)*out*C], C, pk, 1, dx[g.tapOffset(t):], HW)
	}
}
