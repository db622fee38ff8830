package graph

import (
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opFloat is the element type of our own ops' kernels.
type opFloat interface{ float32 | float64 }

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

// im2col writes the column matrix of one image x ([C, H, W]) into col
// ([C·KH·KW, OH·OW]): row (c·KH+i)·KW+j holds x[c, oh·SH−PH+i, ow·SW−PW+j]
// for every output position, or 0 where the window reaches into the padding.
// The row order matches a PyTorch weight [Out, C, KH, KW] read as
// [Out, C·KH·KW], so one GEMM W·col gives the output in NCHW order.
func im2col[T opFloat](g convGeom, x, col []T) {
	P := g.outPlane()
	row := 0
	for c := 0; c < g.C; c++ {
		plane := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				dst := col[row*P : (row+1)*P]
				row++
				// The outputs whose input column ow·SW−PW+j falls inside
				// [0, W): owLo ≤ ow < owHi.
				owLo, owHi := validRange(j-g.PW, g.SW, g.W, g.OW)
				for oh := 0; oh < g.OH; oh++ {
					d := dst[oh*g.OW : (oh+1)*g.OW]
					ih := oh*g.SH - g.PH + i
					if ih < 0 || ih >= g.H {
						clear(d)
						continue
					}
					src := plane[ih*g.W:]
					clear(d[:owLo])
					if g.SW == 1 {
						copy(d[owLo:owHi], src[owLo-g.PW+j:])
					} else {
						iw := owLo*g.SW - g.PW + j
						for ow := owLo; ow < owHi; ow++ {
							d[ow] = src[iw]
							iw += g.SW
						}
					}
					clear(d[owHi:])
				}
			}
		}
	}
}

// col2im adds the column matrix col back into one image dx ([C, H, W]),
// which it first zeroes: the adjoint of im2col, so each input element gets
// the sum over every window position that read it.
func col2im[T opFloat](g convGeom, col, dx []T) {
	clear(dx)
	P := g.outPlane()
	row := 0
	for c := 0; c < g.C; c++ {
		plane := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				src := col[row*P : (row+1)*P]
				row++
				owLo, owHi := validRange(j-g.PW, g.SW, g.W, g.OW)
				for oh := 0; oh < g.OH; oh++ {
					ih := oh*g.SH - g.PH + i
					if ih < 0 || ih >= g.H {
						continue
					}
					s := src[oh*g.OW : (oh+1)*g.OW]
					d := plane[ih*g.W:]
					iw := owLo*g.SW - g.PW + j
					if g.SW == 1 {
						s = s[owLo:owHi]
						d = d[iw : iw+len(s)]
						for k, v := range s {
							d[k] += v
						}
						continue
					}
					for ow := owLo; ow < owHi; ow++ {
						d[iw] += s[ow]
						iw += g.SW
					}
				}
			}
		}
	}
}

// validRange returns the outputs lo ≤ o < hi, o < n, for which
// o·stride + off lies in [0, size).
func validRange(off, stride, size, n int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if size-off > 0 {
		hi = (size - off + stride - 1) / stride
	}
	hi = min(hi, n)
	lo = min(lo, hi)
	return lo, hi
}

// gemmFunc computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, as
// blas.Float32.Sgemm and blas.Float64.Dgemm do.
type gemmFunc[T opFloat] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// gemmFor returns the GEMM for T. It looks the BLAS up through
// gorgonia.WhichBLAS at every call, so that a faster BLAS installed with
// gorgonia.Use after the op was built is the one used.
func gemmFor[T opFloat]() gemmFunc[T] {
	var z T
	switch any(z).(type) {
	case float32:
		return any(gemmFunc[float32](sgemm)).(gemmFunc[T])
	default:
		return any(gemmFunc[float64](dgemm)).(gemmFunc[T])
	}
}

func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	G.WhichBLAS().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	G.WhichBLAS().Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// opDtype returns the tensor dtype of T.
func opDtype[T opFloat]() tensor.Dtype {
	var z T
	if _, ok := any(z).(float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}
