//go:build ignore

// gen writes gemm_amd64.s, the GEMM micro-kernels of package blas, and
// gemm_kernels_amd64.go, their Go declarations and tables.
//
// Each kernel computes one MR×NR tile of C from k columns of MR values of A
// and a packed B micro-panel (k rows of NR values), keeping the whole tile in
// vector registers (Goto and van de Geijn 2008, section 6; the BLIS
// micro-kernel of Van Zee and van de Geijn 2015):
//
//	for p in 0..k-1: acc[i][:] += A(i, p) * B[p][:]  (one broadcast, NV FMAs per row)
//	C[i][:nr] = alpha*acc[i][:nr] + beta*C[i][:nr]  for i < mr (C not read if beta == 0)
//
// A kernel comes in two variants that differ in where A(i, p) is:
//
//	name      A(i, p) at a[p*lda+i]: a packed micro-panel (lda = MR) or a
//	          transposed matrix read in place
//	nameRows  A(i, p) at a[i*lda+p]: a row-major matrix read in place
//
// The small-M kernels (AVX-512 only) compute all the rows of a GEMM of a few
// rows (m = 1 to 4) and read B in place, row p at b[p*ldb:], with masked
// loads that stop at the last column: for one row, packing B would cost more
// than the product (one multiply-add per element of B). Their sums are the
// packed kernels' to the bit: one fused multiply-add per p into each
// accumulator, in the order of p, and the same store.
//
// The generator is plain Go printing text because avo is not a dependency of
// the module. Run it with go generate in the blas folder.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
)

// kernel describes one generated micro-kernel.
type kernel struct {
	name   string
	double bool // float64 elements, else float32
	wide   bool // AVX-512 (Z registers, opmasks), else AVX2+FMA (Y registers)
	mr     int  // rows of the register tile
	nv     int  // vectors per row of the tile
	small  bool // a small-M kernel (emitSmall)
	// full marks a small-M kernel for whole tiles only (nr = NR): no
	// masks, and with one row its multiply-adds read B from memory.
	full bool
}

func (k kernel) size() int { // bytes per element
	if k.double {
		return 8
	}
	return 4
}

func (k kernel) typ() string {
	if k.double {
		return "float64"
	}
	return "float32"
}

func (k kernel) lanes() int { // elements per vector register
	bytes := 32
	if k.wide {
		bytes = 64
	}
	return bytes / k.size()
}

func (k kernel) nr() int { return k.nv * k.lanes() }

func (k kernel) reg(i int) string {
	if k.wide {
		return fmt.Sprintf("Z%d", i)
	}
	return fmt.Sprintf("Y%d", i)
}

func (k kernel) numRegs() int {
	if k.wide {
		return 32
	}
	return 16
}

func (k kernel) suffix() string {
	if k.double {
		return "PD"
	}
	return "PS"
}

func (k kernel) broadcast() string {
	if k.double {
		return "VBROADCASTSD"
	}
	return "VBROADCASTSS"
}

// unroll is how many k iterations one trip of the main loop does.
const unroll = 4

// Argument frame of func(k int, a *T, lda int, b, c *T, ldc, mr, nr int, alpha, beta T).
const (
	offK, offA, offLda, offB, offC, offLdc, offMr, offNr, offAlpha = 0, 8, 16, 24, 32, 40, 48, 56, 64
)

// emit writes the kernel, or its Rows variant if rows is set.
func (k kernel) emit(w *bufio.Writer, rows bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	sz, mr, nv := k.size(), k.mr, k.nv
	name := k.name
	if rows {
		name += "Rows"
	}
	offBeta := offAlpha + sz
	argSize := offBeta + sz
	acc := func(i, v int) string { return k.reg(i*nv + v) }
	bReg := func(v int) string { return k.reg(k.numRegs() - nv + v) }
	firstBcast := mr * nv
	nBcast := k.numRegs() - nv - firstBcast
	if nBcast < 1 {
		log.Fatalf("%s: %d×%d vectors leave no register for the broadcast", name, mr, nv)
	}
	bcast := func(i int) string { return k.reg(firstBcast + i%nBcast) }
	rowBytes := k.nr() * sz
	label := func(s string) string { return name + "_" + s }
	shift := map[int]int{4: 2, 8: 3}[sz]

	// SI = lda and DI = 3*lda in bytes, so that index (SI*1), (SI*2), (DI*1)
	// reach 1, 2 and 3 strides from a base register. In the Rows variant,
	// rows 4q..4q+3 hang off base register aBase[q]; otherwise the k
	// iterations of one unrolled trip hang off AX.
	aBase := []string{"R10", "R11", "R12"}
	index := []string{"", "(SI*1)", "(SI*2)", "(DI*1)"}
	if rows && (mr+3)/4 > len(aBase) {
		log.Fatalf("%s: %d rows need more base registers", name, mr)
	}

	typ := k.typ()
	p("// func %s(k int, a *%s, lda int, b, c *%s, ldc, mr, nr int, alpha, beta %s)", name, typ, typ, typ)
	if rows {
		p("// A(i, p) is a[i*lda+p]; all %d rows must exist, whatever mr.", mr)
	} else {
		p("// A(i, p) is a[p*lda+i]; all %d columns must exist, whatever mr.", mr)
	}
	if k.wide {
		p("// Requires AVX512F. Tile %d×%d; any mr <= %d, nr <= %d.", mr, k.nr(), mr, k.nr())
	} else {
		p("// Requires AVX2 and FMA. Tile %d×%d; any mr <= %d, nr must be %d.", mr, k.nr(), mr, k.nr())
	}
	p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, argSize)
	p("\tMOVQ k+%d(FP), CX", offK)
	p("\tMOVQ b+%d(FP), BX", offB)
	p("\tMOVQ c+%d(FP), R8", offC)
	p("\tMOVQ ldc+%d(FP), R9", offLdc)
	p("\tSHLQ $%d, R9", shift)
	p("\tMOVQ mr+%d(FP), DX", offMr)
	p("\tMOVQ lda+%d(FP), SI", offLda)
	p("\tSHLQ $%d, SI", shift)
	p("\tLEAQ (SI)(SI*2), DI")
	if rows {
		p("\tMOVQ a+%d(FP), R10", offA)
		for q := 1; q < (mr+3)/4; q++ {
			p("\tLEAQ (%s)(SI*4), %s", aBase[q-1], aBase[q])
		}
	} else {
		p("\tMOVQ a+%d(FP), AX", offA)
	}
	p("")
	p("\t// Zero the accumulators.")
	for i := 0; i < mr*nv; i++ {
		r := k.reg(i)
		if k.wide {
			p("\tVPXORD %s, %s, %s", r, r, r)
		} else {
			p("\tVXORPS %s, %s, %s", r, r, r)
		}
	}
	p("")
	p("\t// Ask for the C tile now so that it is in cache when the sums are done.")
	p("\tMOVQ R8, R13")
	for i := 0; i < mr; i++ {
		p("\tPREFETCHT0 (R13)")
		p("\tPREFETCHT0 %d(R13)", rowBytes-1)
		if i < mr-1 {
			p("\tADDQ R9, R13")
		}
	}
	p("")
	aAddr := func(u, i int) string {
		if rows {
			return fmt.Sprintf("%d(%s)%s", u*sz, aBase[i/4], index[i%4])
		}
		return fmt.Sprintf("%d(AX)%s", i*sz, index[u])
	}
	advance := func(n int) {
		if rows {
			for q := 0; q < (mr+3)/4; q++ {
				p("\tADDQ $%d, %s", n*sz, aBase[q])
			}
		} else if n == 1 {
			p("\tADDQ SI, AX")
		} else {
			p("\tLEAQ (AX)(SI*%d), AX", n)
		}
		p("\tADDQ $%d, BX", n*rowBytes)
	}
	step := func(u int) {
		for v := 0; v < nv; v++ {
			p("\tVMOVUP%s %d(BX), %s", k.suffix()[1:], u*rowBytes+v*k.lanes()*sz, bReg(v))
		}
		for i := 0; i < mr; i++ {
			b := bcast(u*mr + i)
			p("\t%s %s, %s", k.broadcast(), aAddr(u, i), b)
			for v := 0; v < nv; v++ {
				p("\tVFMADD231%s %s, %s, %s", k.suffix(), bReg(v), b, acc(i, v))
			}
		}
	}
	p(label("loop") + ":")
	p("\tCMPQ CX, $%d", unroll)
	p("\tJLT %s", label("tail"))
	for u := 0; u < unroll; u++ {
		step(u)
	}
	advance(unroll)
	p("\tSUBQ $%d, CX", unroll)
	p("\tJMP %s", label("loop"))
	p("")
	p(label("tail") + ":")
	p("\tTESTQ CX, CX")
	p("\tJEQ %s", label("store"))
	step(0)
	advance(1)
	p("\tDECQ CX")
	p("\tJMP %s", label("tail"))
	p("")
	p(label("store") + ":")
	alpha, beta := bReg(0), bReg(1)
	mov := "VMOVUP" + k.suffix()[1:]
	if k.wide {
		p("\t// Opmasks K1..K%d select the first nr columns.", nv)
		p("\tMOVQ nr+%d(FP), CX", offNr)
		p("\tMOVQ $1, R13")
		p("\tSHLQ CX, R13")
		p("\tDECQ R13")
		for v := 0; v < nv; v++ {
			if v > 0 {
				p("\tSHRQ $%d, R13", k.lanes())
			}
			p("\tKMOVW R13, K%d", v+1)
		}
	}
	p("\t%s alpha+%d(FP), %s", k.broadcast(), offAlpha, alpha)
	// beta == ±0 means C is write-only: shifting out the sign bit leaves zero.
	if k.double {
		p("\tMOVQ beta+%d(FP), R13", offBeta)
		p("\tSHLQ $1, R13")
	} else {
		p("\tMOVL beta+%d(FP), R13", offBeta)
		p("\tSHLL $1, R13")
	}
	p("\tJZ %s", label("nobeta"))
	p("\t%s beta+%d(FP), %s", k.broadcast(), offBeta, beta)
	store := func(withBeta bool) {
		for i := 0; i < mr; i++ {
			if i > 0 {
				p("\tCMPQ DX, $%d", i+1)
				p("\tJLT %s", label("done"))
				p("\tADDQ R9, R8")
			}
			for v := 0; v < nv; v++ {
				r := acc(i, v)
				off := v * k.lanes() * sz
				p("\tVMUL%s %s, %s, %s", k.suffix(), alpha, r, r)
				if k.wide {
					if withBeta {
						p("\tVFMADD231%s %d(R8), %s, K%d, %s", k.suffix(), off, beta, v+1, r)
					}
					p("\t%s %s, K%d, %d(R8)", mov, r, v+1, off)
				} else {
					if withBeta {
						p("\tVFMADD231%s %d(R8), %s, %s", k.suffix(), off, beta, r)
					}
					p("\t%s %s, %d(R8)", mov, r, off)
				}
			}
		}
		p("\tJMP %s", label("done"))
	}
	store(true)
	p("")
	p(label("nobeta") + ":")
	store(false)
	p("")
	p(label("done") + ":")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// Argument frame of the small-M kernels:
// func(k int, a *T, lda int, b *T, ldb int, c *T, ldc, nr int, alpha, beta T).
const (
	soffK, soffA, soffLda, soffB, soffLdb, soffC, soffLdc, soffNr, soffAlpha = 0, 8, 16, 24, 32, 40, 48, 56, 64
)

// emitSmall writes a small-M kernel of exactly k.mr rows, which reads B in
// place, or its Rows variant if rows is set.
func (k kernel) emitSmall(w *bufio.Writer, rows bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if !k.wide || k.mr > 12 {
		log.Fatalf("%s: small-M kernels are AVX-512 with at most 12 rows", k.name)
	}
	sz, mr, nv := k.size(), k.mr, k.nv
	name := k.name
	if rows {
		name += "Rows"
	}
	offBeta := soffAlpha + sz
	argSize := offBeta + sz
	acc := func(i, v int) string { return k.reg(i*nv + v) }
	bReg := func(v int) string { return k.reg(k.numRegs() - nv + v) }
	firstBcast := mr * nv
	nBcast := k.numRegs() - nv - firstBcast
	if k.full && mr == 1 {
		// B is not loaded into registers (step): the broadcasts take them.
		nBcast = k.numRegs() - firstBcast - 2
		bReg = func(v int) string { return k.reg(k.numRegs() - 2 + v) }
	}
	if nBcast < 1 {
		log.Fatalf("%s: %d×%d vectors leave no register for the broadcast", name, mr, nv)
	}
	bcast := func(i int) string { return k.reg(firstBcast + i%nBcast) }
	vecBytes := k.lanes() * sz
	label := func(s string) string { return name + "_" + s }
	shift := map[int]int{4: 2, 8: 3}[sz]
	// SI = lda, DI = 3*lda, DX = ldb and R12 = 3*ldb in bytes: index
	// (SI*1), (SI*2), (DI*1) reach 1 to 3 strides of A from a base
	// register, and (DX*1), (DX*2), (R12*1) 1 to 3 rows of B from BX. (R14
	// and R15 are left alone: Go keeps g and the GOT pointer there.)
	index := []string{"", "(SI*1)", "(SI*2)", "(DI*1)"}
	bIndex := []string{"", "(DX*1)", "(DX*2)", "(R12*1)"}

	typ := k.typ()
	p("// func %s(k int, a *%s, lda int, b *%s, ldb int, c *%s, ldc, nr int, alpha, beta %s)", name, typ, typ, typ, typ)
	if rows {
		p("// A(i, p) is a[i*lda+p]; B(p, j) is b[p*ldb+j], read in place.")
	} else {
		p("// A(i, p) is a[p*lda+i]; B(p, j) is b[p*ldb+j], read in place.")
	}
	if k.full {
		p("// Requires AVX512F. All %d rows; nr must be %d.", mr, k.nr())
	} else {
		p("// Requires AVX512F and BMI2. All %d rows; any nr <= %d.", mr, k.nr())
	}
	p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, argSize)
	p("\tMOVQ k+%d(FP), CX", soffK)
	p("\tMOVQ b+%d(FP), BX", soffB)
	p("\tMOVQ c+%d(FP), R8", soffC)
	p("\tMOVQ ldc+%d(FP), R9", soffLdc)
	p("\tSHLQ $%d, R9", shift)
	p("\tMOVQ lda+%d(FP), SI", soffLda)
	p("\tSHLQ $%d, SI", shift)
	p("\tLEAQ (SI)(SI*2), DI")
	aReg := "AX"
	if rows {
		aReg = "R10"
	}
	p("\tMOVQ a+%d(FP), %s", soffA, aReg)
	p("")
	if !k.full {
		p("\t// Opmasks K1..K%d select the first nr columns, for the loads of B (which", nv)
		p("\t// must not read past the matrix) and the stores of C. BZHI keeps all")
		p("\t// 64 bits for nr = 64, where a shift of 1 would wrap.")
		p("\tMOVQ nr+%d(FP), R11", soffNr)
		p("\tMOVQ $-1, R12")
		p("\tBZHIQ R11, R12, R13")
		for v := 0; v < nv; v++ {
			if v > 0 {
				p("\tSHRQ $%d, R13", k.lanes())
			}
			p("\tKMOVW R13, K%d", v+1)
		}
	}
	p("\tMOVQ ldb+%d(FP), DX", soffLdb)
	p("\tSHLQ $%d, DX", shift)
	p("\tLEAQ (DX)(DX*2), R12")
	p("")
	p("\t// Zero the accumulators.")
	for i := 0; i < mr*nv; i++ {
		r := k.reg(i)
		p("\tVPXORD %s, %s, %s", r, r, r)
	}
	p("")
	// Rows 4q..4q+3 of the Rows variant hang off aBase[q]. (R13 made the
	// masks; they are in K1..K4 now.)
	aBase := []string{"R10", "R11", "R13"}
	for q := 1; rows && q < (mr+3)/4; q++ {
		p("\tLEAQ (%s)(SI*4), %s", aBase[q-1], aBase[q])
	}
	aAddr := func(u, i int) string {
		if rows {
			return fmt.Sprintf("%d(%s)%s", u*sz, aBase[i/4], index[i%4])
		}
		return fmt.Sprintf("%d(AX)%s", i*sz, index[u])
	}
	advance := func(n int) {
		switch {
		case rows:
			for q := 0; q < (mr+3)/4; q++ {
				p("\tADDQ $%d, %s", n*sz, aBase[q])
			}
		case n == 1:
			p("\tADDQ SI, AX")
		default:
			p("\tLEAQ (AX)(SI*%d), AX", n)
		}
		if n == 1 {
			p("\tADDQ DX, BX")
		} else {
			p("\tLEAQ (BX)(DX*%d), BX", n)
		}
	}
	bAddr := func(u, v int) string { return fmt.Sprintf("%d(BX)%s", v*vecBytes, bIndex[u]) }
	step := func(u int) {
		if k.full && mr == 1 {
			// One row: each vector of B is used once, straight from memory.
			b := bcast(u)
			p("\t%s %s, %s", k.broadcast(), aAddr(u, 0), b)
			for v := 0; v < nv; v++ {
				p("\tVFMADD231%s %s, %s, %s", k.suffix(), bAddr(u, v), b, acc(0, v))
			}
			return
		}
		for v := 0; v < nv; v++ {
			if k.full {
				p("\tVMOVUP%s %s, %s", k.suffix()[1:], bAddr(u, v), bReg(v))
			} else {
				p("\tVMOVUP%s.Z %s, K%d, %s", k.suffix()[1:], bAddr(u, v), v+1, bReg(v))
			}
		}
		for i := 0; i < mr; i++ {
			b := bcast(u*mr + i)
			p("\t%s %s, %s", k.broadcast(), aAddr(u, i), b)
			for v := 0; v < nv; v++ {
				p("\tVFMADD231%s %s, %s, %s", k.suffix(), bReg(v), b, acc(i, v))
			}
		}
	}
	p(label("loop") + ":")
	p("\tCMPQ CX, $%d", unroll)
	p("\tJLT %s", label("tail"))
	for u := 0; u < unroll; u++ {
		step(u)
	}
	advance(unroll)
	p("\tSUBQ $%d, CX", unroll)
	p("\tJMP %s", label("loop"))
	p("")
	p(label("tail") + ":")
	p("\tTESTQ CX, CX")
	p("\tJEQ %s", label("store"))
	step(0)
	advance(1)
	p("\tDECQ CX")
	p("\tJMP %s", label("tail"))
	p("")
	// The store of the packed kernels, every row of the tile being real.
	p(label("store") + ":")
	alpha, beta := bReg(0), bReg(1)
	mov := "VMOVUP" + k.suffix()[1:]
	p("\t%s alpha+%d(FP), %s", k.broadcast(), soffAlpha, alpha)
	if k.double {
		p("\tMOVQ beta+%d(FP), R13", offBeta)
		p("\tSHLQ $1, R13")
	} else {
		p("\tMOVL beta+%d(FP), R13", offBeta)
		p("\tSHLL $1, R13")
	}
	p("\tJZ %s", label("nobeta"))
	p("\t%s beta+%d(FP), %s", k.broadcast(), offBeta, beta)
	store := func(withBeta bool) {
		for i := 0; i < mr; i++ {
			if i > 0 {
				p("\tADDQ R9, R8")
			}
			for v := 0; v < nv; v++ {
				r := acc(i, v)
				off := v * vecBytes
				p("\tVMUL%s %s, %s, %s", k.suffix(), alpha, r, r)
				switch {
				case k.full && withBeta:
					p("\tVFMADD231%s %d(R8), %s, %s", k.suffix(), off, beta, r)
				case withBeta:
					p("\tVFMADD231%s %d(R8), %s, K%d, %s", k.suffix(), off, beta, v+1, r)
				}
				if k.full {
					p("\t%s %s, %d(R8)", mov, r, off)
				} else {
					p("\t%s %s, K%d, %d(R8)", mov, r, v+1, off)
				}
			}
		}
		p("\tJMP %s", label("done"))
	}
	store(true)
	p("")
	p(label("nobeta") + ":")
	store(false)
	p("")
	p(label("done") + ":")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// smallHeights are the heights of the small-M kernels, smallNV the widths
// (in vectors) of those narrower than 4, and fullNV the width of the
// kernels for whole tiles, by height: wider tiles read B in longer runs per
// row of B. Heights 1 to 8 serve GEMMs of that many rows; 12 and 8 are the
// tiles of taller GEMMs that read B in place (gemmInPlace), the packed
// kernels' tiles.
var (
	smallHeights = []int{1, 2, 3, 4, 5, 6, 7, 8, 12}
	smallNV      = map[int]int{5: 2, 6: 2, 7: 2, 8: 2, 12: 2}
	fullNV       = map[int]int{1: 16, 2: 8}
)

// fullKernel returns the whole-tile kernel of height h of a small family,
// if it has one.
func (f family) fullKernel(h int) (kernel, bool) {
	nv, ok := f.fullNV[h]
	return kernel{name: fmt.Sprintf("%sM%dFull", f.prefix, h), double: f.double, wide: f.wide, mr: h, nv: nv, small: true, full: true}, ok
}

// family is the kernels of one element type and instruction set: one per
// tile height, tallest first.
type family struct {
	prefix  string // "sgemmAVX512"
	double  bool
	wide    bool
	nv      int
	heights []int
	// small marks the small-M kernels, which read B in place; their heights
	// are 1 to 8 and the driver picks the one that is m. smallNV gives the
	// width of each height in vectors (nv if absent), fullNV the heights
	// that also have a wider kernel for whole tiles, and its width.
	small   bool
	smallNV map[int]int
	fullNV  map[int]int
}

func (f family) kernels() []kernel {
	var ks []kernel
	for _, h := range f.heights {
		nv := f.nv
		if v, ok := f.smallNV[h]; ok {
			nv = v
		}
		ks = append(ks, kernel{name: fmt.Sprintf("%sM%d", f.prefix, h), double: f.double, wide: f.wide, mr: h, nv: nv, small: f.small})
	}
	return ks
}

// Tiles: 12 rows × 2 vectors use 24 of the 32 AVX-512 registers, 6 × 2 use
// 12 of the 16 AVX2 ones; the lower heights (8 and 4) let the driver cover
// m = 64 or 128 without computing rows that are thrown away.
var families = []family{
	{prefix: "sgemmAVX512", wide: true, nv: 2, heights: []int{12, 8}},
	{prefix: "dgemmAVX512", wide: true, double: true, nv: 2, heights: []int{12, 8}},
	{prefix: "sgemmAVX2", nv: 2, heights: []int{6, 4}},
	{prefix: "dgemmAVX2", double: true, nv: 2, heights: []int{6, 4}},
	// Small M: up to 4 rows × 4 vectors (64 float32 or 32 float64 columns)
	// or 8 rows × 2 vectors use at most 16 accumulators; one row has 4
	// independent sums, enough to keep the loads of B, not the
	// multiply-adds, the limit.
	{prefix: "sgemmAVX512Small", wide: true, nv: 4, heights: smallHeights, small: true, smallNV: smallNV, fullNV: fullNV},
	{prefix: "dgemmAVX512Small", wide: true, double: true, nv: 4, heights: smallHeights, small: true, smallNV: smallNV, fullNV: fullNV},
}

func main() {
	asmOut := flag.String("s", "gemm_amd64.s", "assembly file to write")
	goOut := flag.String("go", "gemm_kernels_amd64.go", "Go file to write")
	flag.Parse()
	write(*asmOut, func(w *bufio.Writer) {
		fmt.Fprintln(w, "// Code generated by go run internal/gen/main.go; DO NOT EDIT.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, `#include "textflag.h"`)
		fmt.Fprintln(w)
		for _, f := range families {
			for _, k := range f.kernels() {
				if k.small {
					k.emitSmall(w, false)
					k.emitSmall(w, true)
					if fk, ok := f.fullKernel(k.mr); ok {
						fk.emitSmall(w, false)
						fk.emitSmall(w, true)
					}
					continue
				}
				k.emit(w, false)
				k.emit(w, true)
			}
		}
	})
	write(*goOut, func(w *bufio.Writer) {
		p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
		p("// Code generated by go run internal/gen/main.go; DO NOT EDIT.")
		p("")
		p("package blas")
		for _, f := range families {
			ks := f.kernels()
			typ, nr := ks[0].typ(), ks[0].nr()
			if f.small {
				for _, k := range ks {
					names := []string{k.name, k.name + "Rows"}
					if fk, ok := f.fullKernel(k.mr); ok {
						names = append(names, fk.name, fk.name+"Rows")
					}
					for _, name := range names {
						p("")
						p("//go:noescape")
						p("func %s(k int, a *%s, lda int, b *%s, ldb int, c *%s, ldc, nr int, alpha, beta %s)", name, typ, typ, typ, typ)
					}
				}
				entry := func(k kernel) string {
					if fk, ok := f.fullKernel(k.mr); ok {
						return fmt.Sprintf("{mr: %d, nr: %d, cols: %s, rows: %sRows, fullNR: %d, fullCols: %s, fullRows: %sRows}", k.mr, k.nr(), k.name, k.name, fk.nr(), fk.name, fk.name)
					}
					return fmt.Sprintf("{mr: %d, nr: %d, cols: %s, rows: %sRows}", k.mr, k.nr(), k.name, k.name)
				}
				var byHeight, tall []kernel
				for _, k := range ks {
					if k.mr == len(byHeight)+1 {
						byHeight = append(byHeight, k)
					}
					if k.mr == 12 || k.mr == 8 {
						tall = append([]kernel{k}, tall...)
					}
				}
				p("")
				p("// %sTiles lists the %s kernels by height, 1 to %d rows.", f.prefix, f.prefix, len(byHeight))
				p("var %sTiles = []smallTile[%s]{", f.prefix, typ)
				for _, k := range byHeight {
					p("\t%s,", entry(k))
				}
				p("}")
				p("")
				p("// %sTallTiles are the %s kernels of the heights of the packed", f.prefix, f.prefix)
				p("// kernels' tiles, tallest first, for taller GEMMs that read B in place.")
				p("var %sTallTiles = []smallTile[%s]{", f.prefix, typ)
				for _, k := range tall {
					p("\t%s,", entry(k))
				}
				p("}")
				continue
			}
			p("")
			p("// %sNR is the tile width of the %s kernels.", f.prefix, f.prefix)
			p("const %sNR = %d", f.prefix, nr)
			for _, k := range ks {
				for _, name := range []string{k.name, k.name + "Rows"} {
					p("")
					p("//go:noescape")
					p("func %s(k int, a *%s, lda int, b, c *%s, ldc, mr, nr int, alpha, beta %s)", name, typ, typ, typ)
					if f.wide {
						continue
					}
					// Without opmasks, a tile narrower than NR goes through a
					// temporary; the direct call keeps it on the stack.
					p("")
					p("func %sEdge(k int, a *%s, lda int, b, c *%s, ldc, mr, nr int, alpha, beta %s) {", name, typ, typ, typ)
					p("\tif nr == %d {", nr)
					p("\t\t%s(k, a, lda, b, c, ldc, mr, nr, alpha, beta)", name)
					p("\t\treturn")
					p("\t}")
					p("\tvar t [%d]%s", k.mr*nr, typ)
					p("\t%s(k, a, lda, b, &t[0], %d, mr, %d, 1, 0)", name, nr, nr)
					p("\tmergeTile(t[:], %d, c, ldc, mr, nr, alpha, beta)", nr)
					p("}")
				}
			}
			p("")
			p("// %sTiles lists the %s kernels, tallest first.", f.prefix, f.prefix)
			p("var %sTiles = []tile[%s]{", f.prefix, typ)
			for _, k := range ks {
				edge := ""
				if !f.wide {
					edge = "Edge"
				}
				p("\t{mr: %d, cols: %s%s, rows: %sRows%s},", k.mr, k.name, edge, k.name, edge)
			}
			p("}")
		}
	})
}

func write(name string, body func(w *bufio.Writer)) {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	body(w)
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
