package blas

import "unsafe"

// packA copies the mr×kc block of op(A) at (i0, p0) into dst as one A
// micro-panel: column p of the block is dst[p*MR : p*MR+MR], rows past mr
// zero. op(A) is A, or Aᵀ if trans, and A is stored row-major with stride lda.
func packA[T float](trans bool, a []T, lda, i0, p0, mr, kc, MR int, dst []T) {
	dst = dst[: kc*MR : kc*MR]
	if trans {
		// op(A)[i][p] = a[p*lda+i]: each column of the block is contiguous.
		for p := 0; p < kc; p++ {
			off := (p0+p)*lda + i0
			d := dst[p*MR : p*MR+MR]
			copy(d, a[off:off+mr])
			clear(d[mr:])
		}
		return
	}
	// op(A)[i][p] = a[i*lda+p]: read each row once, write it with stride MR,
	// four rows at a time.
	i := 0
	for ; i+4 <= mr; i += 4 {
		off := (i0+i)*lda + p0
		s0 := a[off : off+kc]
		s1 := a[off+lda : off+lda+kc]
		s2 := a[off+2*lda : off+2*lda+kc]
		s3 := a[off+3*lda : off+3*lda+kc]
		for p := range s0 {
			d := dst[p*MR+i : p*MR+i+4 : p*MR+i+4]
			d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; i < mr; i++ {
		off := (i0+i)*lda + p0
		src := a[off : off+kc]
		d := dst[i:]
		for p, v := range src {
			d[p*MR] = v
		}
	}
	if mr < MR {
		for p := 0; p < kc; p++ {
			clear(dst[p*MR+mr : p*MR+MR])
		}
	}
}

// packB copies the kc×nc block of op(B) at (p0, j0) into dst as NR-wide B
// micro-panels: micro-panel q holds columns q*NR..q*NR+NR-1 of the block,
// row p of it at dst[q*NR*kc+p*NR:], columns past nc zero.
// op(B) is B, or Bᵀ if trans, and B is stored row-major with stride ldb.
func packB[T float](trans bool, b []T, ldb, p0, j0, kc, nc, NR int, dst []T) {
	panels := (nc + NR - 1) / NR
	dst = dst[: panels*NR*kc : panels*NR*kc] // so that slicing checks against the end
	if trans {
		// op(B)[p][j] = b[j*ldb+p]: each column of the block is contiguous.
		for q := 0; q < panels; q++ {
			panel := dst[q*NR*kc : (q+1)*NR*kc]
			w := min(NR, nc-q*NR)
			jj := packBTrans8(b, ldb, j0+q*NR, p0, kc, w, NR, panel)
			// Four columns at a time, so that each write fills 4 adjacent
			// elements of a panel row instead of one.
			for ; jj+4 <= w; jj += 4 {
				off := (j0+q*NR+jj)*ldb + p0
				s0 := b[off : off+kc]
				s1 := b[off+ldb : off+ldb+kc]
				s2 := b[off+2*ldb : off+2*ldb+kc]
				s3 := b[off+3*ldb : off+3*ldb+kc]
				for p := range s0 {
					d := panel[p*NR+jj : p*NR+jj+4 : p*NR+jj+4]
					d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
				}
			}
			for ; jj < w; jj++ {
				off := (j0+q*NR+jj)*ldb + p0
				src := b[off : off+kc]
				d := panel[jj:]
				for p, v := range src {
					d[p*NR] = v
				}
			}
			if w < NR {
				for p := 0; p < kc; p++ {
					clear(panel[p*NR+w : p*NR+NR])
				}
			}
		}
		return
	}
	// op(B)[p][j] = b[p*ldb+j]: each row of the block is contiguous.
	full := nc / NR
	rowBytes := NR * int(unsafe.Sizeof(T(0)))
	for p := 0; p < kc; p++ {
		off := (p0+p)*ldb + j0
		row := b[off : off+nc : off+nc]
		q := 0
		// A fixed-size copy compiles to a few vector moves; copy would call
		// memmove for each 64 or 128 bytes, which costs more than the move.
		switch rowBytes {
		case 128:
			for ; q < full; q++ {
				d, s := dst[q*NR*kc+p*NR:][:NR], row[q*NR:][:NR]
				*(*[128]byte)(unsafe.Pointer(&d[0])) = *(*[128]byte)(unsafe.Pointer(&s[0]))
			}
		case 64:
			for ; q < full; q++ {
				d, s := dst[q*NR*kc+p*NR:][:NR], row[q*NR:][:NR]
				*(*[64]byte)(unsafe.Pointer(&d[0])) = *(*[64]byte)(unsafe.Pointer(&s[0]))
			}
		}
		// The last micro-panel, if partial (and all of them for other
		// widths): for a few columns, such as the 10 of an output layer,
		// memmove and memclr calls on every row cost more than moving the
		// elements one by one.
		for ; q < panels; q++ {
			d := dst[q*NR*kc+p*NR : q*NR*kc+p*NR+NR]
			switch rowBytes {
			case 128:
				*(*[128]byte)(unsafe.Pointer(&d[0])) = [128]byte{}
			case 64:
				*(*[64]byte)(unsafe.Pointer(&d[0])) = [64]byte{}
			default:
				clear(d)
			}
			for j, v := range row[q*NR : min(nc, q*NR+NR)] {
				d[j] = v
			}
		}
	}
}

// transposeStrip8, where the CPU has one (pack_amd64.go), writes blocks
// 8×8 blocks of float32 transposed: block k from src + 8k elements, rows
// srcStride bytes apart, to dst + 8k rows of dstStride bytes.
var transposeStrip8 func(dst *float32, dstStride uintptr, src *float32, srcStride uintptr, blocks int)

// packBTrans8 packs the columns of a panel of op(B) = Bᵀ eight at a time
// with transposeStrip8, for float32 where there is one, and returns how
// many columns it packed (a multiple of 8; 0 otherwise); packB packs the
// rest. Packed four columns at a time in Go, Bᵀ took 28% of the CPU time
// of the input gradient's GEMM of a 512×512 dense layer at batch 128; in
// 8×8 transposes, 7.6%.
func packBTrans8[T float](b []T, ldb, j, p0, kc, w, NR int, panel []T) int {
	var z T
	if transposeStrip8 == nil || unsafe.Sizeof(z) != 4 || kc < 8 || w < 8 {
		return 0
	}
	k8 := kc &^ 7
	jj := 0
	for ; jj+8 <= w; jj += 8 {
		off := (j+jj)*ldb + p0
		// The last element either side reads or writes, so that a bad
		// argument panics here as Go's own indexing would.
		_ = b[off+7*ldb+kc-1]
		_ = panel[(kc-1)*NR+jj+7]
		transposeStrip8((*float32)(unsafe.Pointer(&panel[jj])), uintptr(NR)*4,
			(*float32)(unsafe.Pointer(&b[off])), uintptr(ldb)*4, k8/8)
		for p := k8; p < kc; p++ {
			d := panel[p*NR+jj : p*NR+jj+8 : p*NR+jj+8]
			for c := range d {
				d[c] = b[off+c*ldb+p]
			}
		}
	}
	return jj
}
