// Package blas implements a BLAS for Gorgonia whose single and double
// precision matrix multiplies (Sgemm, Dgemm) run in pure Go and assembly,
// without cgo, 5 to 30 times faster than gonum's on the shapes of tapestry's
// models (see the benchmarks). Every other routine is gonum's.
//
// A Gorgonia program that does not use tapestry's ops installs it once at
// start-up:
//
//	prev := blas.Install() // gorgonia.Use(blas.Implementation{}): gorgonia and tensor
//	defer gorgonia.Use(prev)
//
// Package blas itself installs nothing at init, but tapestry's ops
// (graph/ops, so every program that builds a tapestry model) call Install
// when they load; Use("gonum") or gorgonia.Use afterwards chooses another.
//
// # Algorithm
//
// The GEMM is the layered algorithm of Goto and van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication", ACM TOMS 34(3), 2008, in the loop
// order of BLIS (Van Zee and van de Geijn, "BLIS: A Framework for Rapidly
// Instantiating BLAS Functionality", ACM TOMS 41(3), 2015). With op(A) m×k,
// op(B) k×n and C m×n, all row-major:
//
//	for jc in steps of nc over n:
//	  for pc in steps of kc over k:         rank-kc update; the first applies beta
//	    pack op(B)[pc:+kc, jc:+nc]          kc×nc block in NR-wide micro-panels (L2)
//	    for ic in row panels of MR over m:
//	      A panel op(A)[ic:+MR, pc:+kc]      read in place, or packed (L1)
//	      for jr in steps of NR over nc:
//	        micro-kernel: C[ic:+MR, jc+jr:+NR] = alpha·A panel·B micro-panel + beta·C
//
// Because C is row-major, the micro-kernel broadcasts elements of A and
// multiplies them with vectors of B, the transpose of BLIS's column-major
// kernels: so the A panel is the L1-resident operand and the packed B block
// the L2-resident one. A is read in place wherever its MR rows exist, with
// a stride for either transpose, which saves packing it; partial panels, and
// transposed A whose panel rows lie far apart (their stride would map them to
// a few cache sets), are packed. Blocks are evened out, so k = 400 is two
// updates of 200.
//
// The micro-kernels are Go assembly (gemm_amd64.s, written by
// internal/gen): with AVX-512 an MR×NR = 12×32 float32 tile (12×16 float64)
// is 24 zmm accumulators, and opmasks store the partial tiles at the right
// and bottom edges; with AVX2 and FMA, 6×16 (6×8) in 12 ymm registers. Each
// also has a tile 2/3 as tall, so that m = 64 is 4 panels of 12 and 2 of 8
// rather than 6 of 12 with 8 rows thrown away. The kernel set is chosen at
// run time from golang.org/x/sys/cpu; other CPUs and architectures use a
// portable 4×4 Go kernel. Packing a transposed float32 B, which is a
// transpose, goes 8×8 blocks at a time in AVX registers (pack_amd64.s).
//
// A product of at most 8 rows with B not transposed (a prediction: one
// example, or a few run together) takes another path: packing B would cost
// as much as the product, since each element of B is used m times. Small-M
// kernels (AVX-512, one per height 1 to 8, 64 or 32 columns wide; 256 for
// one row) compute all the rows and read B in place, row by row with masked
// loads that stop at the last column. Their sums are the packed kernels'
// to the bit, in the same blocks of k, so that a row of C is the same
// whatever m: a model predicts an example alike alone or in any batch. The
// product is memory-bound; above 2¹⁷ multiply-adds it is split along N, one
// part per processor, so that two cores together hold a layer's weights in
// their L2 caches.
//
// A product of up to 128 rows with B not transposed reads B in place too,
// with small-M kernels of the tiles' heights (12 and 8 rows, and one of
// exactly the rows left for the last panel): a product of m rows uses each
// element of B m times, and packing one costs about as much as 32
// multiply-adds (the rows of a convolution's GEMM, 32 or 64 output
// channels, gained 20–60% per product; from 256 rows on packing is as fast
// or faster).
// Its loops keep the packed path's blocks of k, with the row panels inside
// each tile of B so that the tile stays in cache from panel to panel, and
// its sums are the packed path's to the bit.
//
// Packed and GemmPacked multiply several left operands by one op(B) packed
// once, which a GEMM would pack at every call (a convolution's taps share
// the output gradient); the results are the same bits.
//
// A multiply large enough (m·n·k ≥ 2¹⁸ multiply-adds per goroutine) is split
// over GOMAXPROCS goroutines along M or N, whichever is larger, in whole
// tiles; each part owns a block of C. Split along N, each part packs its own
// columns of op(B); split along M, where every part needs all of op(B), it
// is packed once, shared out over the goroutines, and the parts then read
// it (up to 2²¹ elements; beyond, each part packs its own). The goroutines
// claim parts rather than being assigned them, and a split along M has up
// to 4 parts per goroutine, so that when another process holds a core the
// caller takes over the late worker's parts instead of waiting for it. The
// goroutines are the long-lived workers of internal/pool, which the rest of
// tapestry shares, and the packing buffers come from a sync.Pool, so a call
// allocates nothing in steady state.
//
// # Semantics
//
// Results match the reference BLAS up to rounding (the order of the sums
// differs): all transpose combinations (ConjTrans is Trans), alpha = 0 (A and
// B are not read; C = beta·C), beta = 0 (C is not read, so NaNs in it do not
// propagate), empty dimensions, and leading dimensions larger than the rows.
// Invalid arguments panic with gonum's messages.
package blas
