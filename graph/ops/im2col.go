package ops

// im2col writes the column matrix of one image x ([C, H, W]) into col
// ([C·KH·KW, OH·OW]): row (c·KH+i)·KW+j holds x[c, oh·SH−PH+i, ow·SW−PW+j]
// for every output position, or 0 where the window reaches into the padding.
// The row order matches a PyTorch weight [Out, C, KH, KW] read as
// [Out, C·KH·KW], so one GEMM W·col gives the output in NCHW order.
func im2col[T Float](g convGeom, x, col []T) {
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
func col2im[T Float](g convGeom, col, dx []T) {
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
