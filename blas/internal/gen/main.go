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

// family is the kernels of one element type and instruction set: one per
// tile height, tallest first.
type family struct {
	prefix  string // "sgemmAVX512"
	double  bool
	wide    bool
	nv      int
	heights []int
}

func (f family) kernels() []kernel {
	var ks []kernel
	for _, h := range f.heights {
		ks = append(ks, kernel{name: fmt.Sprintf("%sM%d", f.prefix, h), double: f.double, wide: f.wide, mr: h, nv: f.nv})
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
