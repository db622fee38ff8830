package blas

import (
	"runtime"
	"unsafe"

	"github.com/tapestry-ml/tapestry/internal/pool"
)

// minWorkPerGoroutine is the fewest multiply-adds worth handing to another
// goroutine: about 5 µs at 100 GFLOP/s, several times what waking a parked
// worker costs.
const minWorkPerGoroutine = 1 << 18

// maxTransSpan is the most bytes that the rows of a transposed A panel may
// span for the micro-kernel to read it in place. Each k iteration reads one
// of those rows, so their stride decides which cache sets they land in: with
// lda = 2048 floats, 384 rows of 8 KiB stride share a few sets of L1 and L2
// and evict one another, and packing is faster.
const maxTransSpan = 1 << 20

// maxSharedB is the most elements of op(B), padded to whole micro-panels,
// that a GEMM split along M packs once for all its parts rather than once
// per part: 8 MiB of float32, so that 1024² is shared and 2048² is not.
const maxSharedB = 1 << 21

// partsPerGoroutine is how many parts a GEMM split along M with a shared
// op(B) is cut into per goroutine, work permitting.
const partsPerGoroutine = 4

// gemm computes C = alpha*op(A)*op(B) + beta*C with the arguments already
// checked, m and n positive, and not the no-op case of beta = 1 with
// alpha = 0 or k = 0.
func gemm[T float](ks *kernel[T], aTrans, bTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if alpha == 0 || k == 0 {
		// A and B are not read (reference BLAS).
		scale(m, n, beta, c, ldc)
		return
	}

	if m <= len(ks.small) && !bTrans && smallM {
		gemmSmall(ks, aTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}

	tilesM := (m + ks.mr() - 1) / ks.mr()
	tilesN := (n + ks.nr - 1) / ks.nr
	work := float64(m) * float64(n) * float64(k) // as an int it could overflow
	parts := int(min(float64(runtime.GOMAXPROCS(0)), max(1, work/minWorkPerGoroutine)))
	// Each goroutine packs the whole of the operand along the dimension it
	// does not split, so split the larger of m and n, where the duplicated
	// packing is the smaller operand; but split the other one if the larger
	// has too few tiles to go round.
	splitM := m >= n
	if splitM && tilesM < parts && tilesN > tilesM {
		splitM = false
	} else if !splitM && tilesN < parts && tilesM > tilesN {
		splitM = true
	}
	tiles := tilesN
	if splitM {
		tiles = tilesM
	}
	parts = min(parts, tiles)
	// B read in place needs no packing, shared or not.
	inPlace := !bTrans && len(ks.tall) > 0 && readInPlace(m, n, k)
	// Split along M, every part multiplies by all of op(B): pack it once,
	// shared out over the goroutines, rather than once per part.
	sharedB := splitM && tilesN*ks.nr*k <= maxSharedB && !inPlace
	if parts > 1 && sharedB {
		// More parts than goroutines cost nothing more to pack, and let
		// the caller take over the parts of a worker that starts late
		// because another process holds its core.
		parts = int(min(float64(tiles), float64(parts*partsPerGoroutine), max(1, work/minWorkPerGoroutine)))
	}

	if parts == 1 {
		if inPlace {
			gemmInPlace(ks, aTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
		ws := ks.getWorkspace()
		gemmSerial(ks, ws, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
		ks.putWorkspace(ws)
		return
	}

	j, _ := ks.jobs.Get().(*gemmJob[T])
	if j == nil {
		j = new(gemmJob[T])
	}
	j.gemmArgs = gemmArgs[T]{
		ks: ks, aTrans: aTrans, bTrans: bTrans, splitM: splitM, inPlace: inPlace,
		m: m, n: n, k: k, tiles: tiles, parts: parts,
		alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
	}
	var bp *[]T
	var bws *workspace[T]
	if sharedB {
		bws, bp = j.packShared(min(parts, tilesN), tilesN*ks.nr*k)
	}
	j.run.Run(j, parts)
	if bp != nil {
		ks.packed.Put(bp)
	}
	if bws != nil {
		ks.putWorkspace(bws)
	}
	// No worker touches the job once Run has returned (a late one finds
	// its pass closed), so it can go back to the pool at once.
	j.gemmArgs = gemmArgs[T]{} // drop the references to the caller's slices
	ks.jobs.Put(j)
}

// smallM turns the small-M path on, and smallFull its whole-tile kernels;
// tests turn them off to compare.
var smallM, smallFull = true, true

// minSmallSplit is the fewest multiply-adds of a small-M GEMM worth
// splitting over the cores: 2¹⁷, half a megabyte of float32 B, a few
// microseconds from L2. Each part then reads its own columns of B, so that
// two cores together hold a layer's weights in their L2 caches (which one
// core's cannot: the default MLP's are 2.7 MB) and read them from there.
const minSmallSplit = 1 << 17

// gemmSmall computes a GEMM of m ≤ len(ks.small) rows with B not
// transposed, reading A and B in place: packing B would cost as much as
// the product, for one row uses each element of B once. The multiply is
// memory-bound. It is split along N into one part per processor, in whole
// tiles, when it is big enough (minSmallSplit); otherwise it stays on the
// caller's goroutine.
//
// It keeps gemmSerial's blocks of k (the first applies beta, the others
// add to C), so that with the small-M kernels' sums being the packed ones
// to the bit, a row of C comes out the same whatever m: a model's
// prediction for an example does not depend on the batch it is in.
func gemmSmall[T float](ks *kernel[T], aTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	tiles := ceilDiv(n, ks.small[m-1].nr)
	work := float64(m) * float64(n) * float64(k)
	parts := int(min(float64(runtime.GOMAXPROCS(0)), float64(tiles), work/minSmallSplit))
	args := smallArgs[T]{ks: ks, aTrans: aTrans, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc}
	if parts <= 1 {
		args.cols(0, n)
		return
	}
	j, _ := ks.smallJobs.Get().(*smallJob[T])
	if j == nil {
		j = new(smallJob[T])
	}
	j.smallArgs, j.tiles, j.parts = args, tiles, parts
	j.run.Run(j, parts)
	j.smallArgs = smallArgs[T]{} // drop the references to the caller's slices
	ks.smallJobs.Put(j)
}

// smallArgs are the arguments of a small-M GEMM.
type smallArgs[T float] struct {
	ks            *kernel[T]
	aTrans        bool
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
}

// cols computes the columns [lo, hi) of C: whole tiles of the wide
// kernel, if the height has one, then the rest with the narrow one.
func (s *smallArgs[T]) cols(lo, hi int) {
	ks := s.ks
	st := &ks.small[s.m-1]
	narrow, full := st.rows, st.fullRows
	if s.aTrans {
		narrow, full = st.cols, st.fullCols
	}
	kc := ceilDiv(s.k, ceilDiv(s.k, ks.kc))
	for jr := lo; jr < hi; {
		fn, nr := narrow, min(st.nr, hi-jr)
		if st.fullNR > 0 && hi-jr >= st.fullNR && smallFull {
			fn, nr = full, st.fullNR
		}
		for pc := 0; pc < s.k; pc += kc {
			bet := s.beta
			if pc > 0 {
				bet = 1
			}
			ap := &s.a[pc]
			if s.aTrans {
				ap = &s.a[pc*s.lda]
			}
			fn(min(kc, s.k-pc), ap, s.lda, &s.b[pc*s.ldb+jr], s.ldb, &s.c[jr], s.ldc, nr, s.alpha, bet)
		}
		jr += nr
	}
}

// smallJob is a small-M GEMM split along N into parts of whole tiles.
type smallJob[T float] struct {
	smallArgs[T]
	tiles, parts int
	run          pool.Runner
}

// RunPart computes the columns of part k.
func (j *smallJob[T]) RunPart(part int) {
	NR := j.ks.small[j.m-1].nr
	j.cols(min(j.n, part*j.tiles/j.parts*NR), min(j.n, (part+1)*j.tiles/j.parts*NR))
}

// inPlaceMaxM is the most rows of a GEMM whose op(B) (not transposed) is
// read in place rather than packed, at most maxInPlaceRows; 0 turns the
// path off (tests compare).
var inPlaceMaxM = maxInPlaceRows

// maxInPlaceRows: measured side by side (one core, then two), reading B in
// place gained 0.98–1.8× at 128 rows or fewer, 0.86–1.2× at 256 and lost
// at 512 and over (784×512×128: 0.93).
const maxInPlaceRows = 128

// readInPlace says whether a GEMM of m×n×k reads its op(B) in place.
func readInPlace(m, n, k int) bool { return m <= min(inPlaceMaxM, maxInPlaceRows) }

// gemmInPlace is gemmSerial with B (not transposed) read in place by the
// tall small-M kernels, for products whose B costs as much to pack as to
// use: a GEMM of m rows uses each element of B m times, and packing one
// costs about as much as 32 multiply-adds. The loops are gemmSerial's
// without nc (B is not copied into an L2 block) and with the row panels
// inside the tiles of B, so that the kc×NR tile of B each panel reads is in
// cache for the next; the panels are those of panelPlan, 12 and 8 rows
// tall, except that the last is the small-M kernel of exactly the rows
// left, so that no panel is partial. The sums are gemmSerial's to the bit: the same blocks
// of k, and kernels whose sums are the packed ones'.
func gemmInPlace[T float](ks *kernel[T], aTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	kc := ceilDiv(k, ceilDiv(k, ks.kc))
	NR := ks.tall[0].nr
	var buf [maxPanels]int
	heights := inPlacePanels(ks, m, &buf)
	for pc := 0; pc < k; pc += kc {
		kcur := min(kc, k-pc)
		bet := beta
		if pc > 0 {
			bet = 1
		}
		for jr := 0; jr < n; jr += NR {
			nr := min(NR, n-jr)
			bt := &b[pc*ldb+jr]
			ic := 0
			for _, h := range heights {
				st := &ks.small[min(h, len(ks.small))-1]
				switch h {
				case ks.tall[0].mr:
					st = &ks.tall[0]
				case ks.tall[1].mr:
					st = &ks.tall[1]
				}
				var fn smallKernel[T]
				var ap *T
				if aTrans {
					fn, ap = st.cols, &a[pc*lda+ic]
				} else {
					fn, ap = st.rows, &a[ic*lda+pc]
				}
				fn(kcur, ap, lda, bt, ldb, &c[ic*ldc+jr], ldc, nr, alpha, bet)
				ic += h
			}
		}
	}
}

// maxPanels bounds the row panels of gemmInPlace: maxInPlaceRows rows in
// panels of at least 8, and one more for an exact last one.
const maxPanels = maxInPlaceRows/8 + 2

// inPlacePanels writes into hs the heights of gemmInPlace's row panels for
// m rows: panelPlan's 12s and 8s, the last cut to the rows left, and cut
// into an 8 and the rest if that is still more than 8 (small-M kernels go
// up to 8 rows), and returns them.
func inPlacePanels[T float](ks *kernel[T], m int, hs *[maxPanels]int) []int {
	tall, short := ks.panelPlan(m)
	n, rows := 0, 0
	for t := 0; t < tall+short; t++ {
		h := ks.tall[0].mr
		if t >= tall {
			h = ks.tall[1].mr
		}
		h = min(h, m-rows)
		if h > len(ks.small) && h < ks.tall[0].mr {
			hs[n] = ks.tall[1].mr
			n, rows, h = n+1, rows+ks.tall[1].mr, h-ks.tall[1].mr
		}
		hs[n] = h
		n, rows = n+1, rows+h
	}
	return hs[:n]
}

// gemmJob is one GEMM split into parts along M or N; each part owns a
// disjoint block of C, so the parts need no synchronisation. run shares the
// parts out over the calling goroutine and the workers of internal/pool,
// which claim them rather than being assigned them, so that a worker late
// to start (its core busy with another process) leaves its parts to the
// caller instead of making it wait.
type gemmJob[T float] struct {
	gemmArgs[T]
	run pool.Runner
}

// packShared packs all of op(B), size elements, in packParts parts, for
// the parts of the multiply to share. With op(B) packed already, no part
// uses its workspace's B block, so one serves for the shared op(B) if big
// enough; it usually is, and a workspace is likelier than a bigger buffer
// to be in the pool already. The caller gives back the workspace or the
// buffer used, whichever is not nil, once the multiply is done.
func (j *gemmJob[T]) packShared(packParts, size int) (*workspace[T], *[]T) {
	ks := j.ks
	bws := ks.getWorkspace()
	var bp *[]T
	if size <= len(bws.b) {
		j.bp = bws.b[:size]
	} else {
		ks.putWorkspace(bws)
		bws, bp = nil, ks.getPacked(size)
		j.bp = (*bp)[:size]
	}
	j.packParts = packParts
	j.run.Run((*packJob[T])(j), packParts)
	return bws, bp
}

// packJob is the first phase of a gemmJob with a shared op(B): packing its
// micro-panels, shared out in runs of whole panels.
type packJob[T float] gemmJob[T]

// RunPart packs part of packParts of op(B).
func (p *packJob[T]) RunPart(part int) {
	NR := p.ks.nr
	panels := (p.n + NR - 1) / NR
	q0, q1 := part*panels/p.packParts, (part+1)*panels/p.packParts
	if q0 >= q1 {
		return
	}
	// Panel q over the whole of k starts at q*NR*k, the layout that packB
	// gives a block of kc = k.
	j0 := q0 * NR
	packB(p.bTrans, p.b, p.ldb, 0, j0, p.k, min(p.n, q1*NR)-j0, NR, p.bp[j0*p.k:])
}

type gemmArgs[T float] struct {
	ks                              *kernel[T]
	aTrans, bTrans, splitM, inPlace bool
	m, n, k, tiles, parts           int
	packParts                       int // of the packing of a shared op(B)
	alpha, beta                     T
	a, b, c                         []T
	lda, ldb, ldc                   int
	// bp, if not nil, is all of op(B) packed in NR-wide micro-panels of k
	// rows, which the parts share.
	bp []T
}

// RunPart multiplies part of parts.
func (j *gemmJob[T]) RunPart(part int) {
	unit := j.ks.nr
	size := j.n
	if j.splitM {
		unit, size = j.ks.mr(), j.m
	}
	lo := min(size, part*j.tiles/j.parts*unit)
	hi := min(size, (part+1)*j.tiles/j.parts*unit)
	if lo >= hi {
		return
	}
	a, b, c := j.a, j.b, j.c
	m, n := j.m, j.n
	if j.splitM {
		m = hi - lo
		if j.aTrans {
			a = a[lo:]
		} else {
			a = a[lo*j.lda:]
		}
		c = c[lo*j.ldc:]
	} else {
		n = hi - lo
		if j.bTrans {
			b = b[lo*j.ldb:]
		} else {
			b = b[lo:]
		}
		c = c[lo:]
	}
	if j.inPlace {
		gemmInPlace(j.ks, j.aTrans, m, n, j.k, j.alpha, a, j.lda, b, j.ldb, j.beta, c, j.ldc)
		return
	}
	ws := j.ks.getWorkspace()
	gemmSerial(j.ks, ws, j.aTrans, j.bTrans, m, n, j.k, j.alpha, a, j.lda, b, j.ldb, j.beta, c, j.ldc, j.bp)
	j.ks.putWorkspace(ws)
}

// gemmSerial is the blocked algorithm of Goto and van de Geijn (2008) with
// the loop order of BLIS, transposed because C is row-major here: the
// broadcast operand of the micro-kernel is A, so the L1-resident micro-panel
// is A's and the L2-resident block is B's.
//
//	for jc in steps of nc:             (B block columns)
//	  for pc in steps of kc:           (rank-kc update)
//	    pack op(B)[pc:pc+kc, jc:jc+nc] → L2
//	    for ic in row panels of MR (tall, then short ones):
//	      A panel op(A)[ic:ic+MR, pc:pc+kc], in place or packed → L1
//	      for jr in steps of NR: micro-kernel on C[ic:ic+MR, jc+jr:jc+jr+NR]
//
// The first rank-kc update applies beta, the following ones add to C.
// If bp is not nil, it is op(B) already packed in micro-panels of all k
// rows (see packJob), and B is not read.
func gemmSerial[T float](ks *kernel[T], ws *workspace[T], aTrans, bTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, bp []T) {
	NR := ks.nr
	transSpan := maxTransSpan / int(unsafe.Sizeof(T(0)))
	// Even blocks: k = 400 is two updates of 200, not 384 and 16.
	kc := ceilDiv(k, ceilDiv(k, ks.kc))
	nc := ceilDiv(ceilDiv(n, ceilDiv(n, ks.nc)), NR) * NR
	tall, short := ks.panelPlan(m)
	for jc := 0; jc < n; jc += nc {
		ncur := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			// Micro-panel jr/NR of the block is at bpan[jr*bstep].
			bpan, bstep := ws.b, kcur
			if bp != nil {
				bpan, bstep = bp[jc*k+pc*NR:], k
			} else {
				packB(bTrans, b, ldb, pc, jc, kcur, ncur, NR, ws.b)
			}
			bet := beta
			if pc > 0 {
				bet = 1
			}
			ic := 0
			for t := 0; t < tall+short; t++ {
				tl := &ks.tiles[0]
				if t >= tall {
					tl = &ks.tiles[1]
				}
				mr := min(tl.mr, m-ic)
				crow := ic*ldc + jc
				// A full panel is read in place, but a partial one, whose
				// missing rows the kernel would read, is packed with zeros,
				// and so is a transposed one that spans much memory.
				fn, ap, ld := tl.cols, &ws.a[0], tl.mr
				switch {
				case mr == tl.mr && !aTrans:
					fn, ap, ld = tl.rows, &a[ic*lda+pc], lda
				case mr == tl.mr && kcur*lda <= transSpan:
					ap, ld = &a[pc*lda+ic], lda
				default:
					packA(aTrans, a, lda, ic, pc, mr, kcur, tl.mr, ws.a)
				}
				for jr := 0; jr < ncur; jr += NR {
					nr := min(NR, ncur-jr)
					fn(kcur, ap, ld, &bpan[jr*bstep], &c[crow+jr], ldc, mr, nr, alpha, bet)
				}
				ic += tl.mr
			}
		}
	}
}

// scale sets C = beta*C; with beta = 0 C is overwritten with zeros, NaNs too.
func scale[T float](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
