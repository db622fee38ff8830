package blas

import (
	"sync"
	"unsafe"
)

// float is the element type of the GEMMs this package implements.
type float interface{ float32 | float64 }

// microKernel computes one mr×nr tile of C:
//
//	C[i][j] = alpha * Σ_p A(i, p) * b[p*NR+j] + beta * C[i][j]   for i < mr, j < nr
//
// where C[i][j] is c[i*ldc+j], b is a packed B micro-panel (k rows of NR
// values, zero past the matrix's last column) and A(i, p) is a[p*lda+i] for
// the cols variant of a tile (a packed A micro-panel when lda = MR, or a
// transposed A read in place) and a[i*lda+p] for the rows variant (A read in
// place). A kernel reads all MR rows of A, so outside a packed panel it is
// only called with mr = MR; rows past mr are computed and thrown away.
// If beta is zero, C is not read, so NaNs in it do not propagate (reference
// BLAS semantics).
type microKernel[T float] func(k int, a *T, lda int, b, c *T, ldc, mr, nr int, alpha, beta T)

// smallKernel computes C[i][j] = alpha * Σ_p A(i, p) * b[p*ldb+j] + beta *
// C[i][j] for every row i of a GEMM of a few rows (its height is fixed) and
// j < nr, reading B in place. A(i, p) is a[p*lda+i] (cols) or a[i*lda+p]
// (rows), as for microKernel, and the sums are microKernel's to the bit.
type smallKernel[T float] func(k int, a *T, lda int, b *T, ldb int, c *T, ldc, nr int, alpha, beta T)

// smallTile is the small-M kernel of one height in both variants, for any
// width up to nr, and, if fullNR is not 0, a wider one for whole tiles of
// fullNR columns only, which reads B in longer runs.
type smallTile[T float] struct {
	mr, nr             int
	cols, rows         smallKernel[T]
	fullNR             int
	fullCols, fullRows smallKernel[T]
}

// tile is the micro-kernel for tiles of mr×NR, in both variants.
type tile[T float] struct {
	mr         int
	cols, rows microKernel[T]
}

// kernel is the micro-kernels of one width with the cache blocking that
// suits them.
type kernel[T float] struct {
	name string
	// tiles has one or two heights, tallest first; a tall one should be
	// 1.5 times a short one (12 and 8, 6 and 4), see panelPlan.
	tiles []tile[T]
	nr    int
	// kc and nc size the packed B block (kc×nc), which is meant to stay in
	// L2 while an MR×kc A panel stays in L1. nc is a multiple of nr.
	kc, nc int
	// small, if not empty, holds the small-M kernels by height (small[m-1]
	// for m rows): a GEMM of at most len(small) rows with B not transposed
	// runs on them, B read in place (gemmSmall).
	small []smallTile[T]
	// tall, if not empty, holds small-M kernels of the tiles' heights,
	// tallest first, for GEMMs whose op(B) is better read in place than
	// packed (gemmInPlace).
	tall []smallTile[T]

	workspaces sync.Pool // of *workspace[T] sized for this kernel
	jobs       sync.Pool // of *gemmJob[T]
	smallJobs  sync.Pool // of *smallJob[T]
	packed     sync.Pool // of *[]T, op(B) packed for all parts of a gemmJob
}

// mr is the tallest tile height.
func (ks *kernel[T]) mr() int { return ks.tiles[0].mr }

// panelPlan splits m rows into na panels of the tall tile height followed by
// nb of the short one so that the fewest rows are computed and thrown away:
// with heights 12 and 8, m = 64 is 12+12+12+12+8+8 and m = 128 is
// 10×12+8, where 12-row panels alone would compute 72 and 132 rows.
// The last panel holds at least one row.
func (ks *kernel[T]) panelPlan(m int) (na, nb int) {
	h0 := ks.tiles[0].mr
	na = ceilDiv(m, h0)
	if len(ks.tiles) == 1 {
		return na, 0
	}
	h1 := ks.tiles[1].mr
	best := na*h0 - m
	for b := 1; b <= 2 && b*h1 < m+h1; b++ {
		a := ceilDiv(max(0, m-b*h1), h0)
		if waste := a*h0 + b*h1 - m; waste < h1 && waste < best {
			na, nb, best = a, b, waste
		}
	}
	return na, nb
}

// kernelSet is the pair of kernels used together for Sgemm and Dgemm.
type kernelSet struct {
	name string
	s    *kernel[float32]
	d    *kernel[float64]
}

var (
	// kernelSets lists the kernel sets this CPU can run, fastest first.
	kernelSets = availableKernelSets()
	// kernels is the set in use: the fastest, unless a test forces another.
	kernels = kernelSets[0]
)

// workspace holds the packing buffers of one goroutine's share of a GEMM.
type workspace[T float] struct {
	a []T // one packed A micro-panel: kc columns of MR values
	b []T // one packed B block: kc rows of nc values, in NR-wide micro-panels
}

// cacheLine is the alignment of the packed buffers, so that each vector load
// of a packed B row touches one line.
const cacheLine = 64

func (ks *kernel[T]) getWorkspace() *workspace[T] {
	if ws, ok := ks.workspaces.Get().(*workspace[T]); ok {
		return ws
	}
	na, nb := ks.mr()*ks.kc, ks.kc*ks.nc
	buf := alignedSlice[T](nb + na)
	return &workspace[T]{b: buf[:nb:nb], a: buf[nb:]}
}

func (ks *kernel[T]) putWorkspace(ws *workspace[T]) { ks.workspaces.Put(ws) }

// getPacked returns a buffer of at least n elements for a shared packed
// op(B), to be put back into ks.packed. Its length is its capacity, so that
// a buffer grown once serves every smaller GEMM after it.
func (ks *kernel[T]) getPacked(n int) *[]T {
	p, _ := ks.packed.Get().(*[]T)
	if p == nil {
		p = new([]T)
	}
	if len(*p) < n {
		*p = alignedSlice[T](n)
	}
	return p
}

// alignedSlice returns a zeroed slice of n elements starting on a cache line.
func alignedSlice[T float](n int) []T {
	size := int(unsafe.Sizeof(T(0)))
	buf := make([]T, n+cacheLine/size)
	off := 0
	if rem := int(uintptr(unsafe.Pointer(&buf[0])) % cacheLine); rem != 0 {
		off = (cacheLine - rem) / size
	}
	return buf[off : off+n : off+n]
}

// mergeTile stores alpha*t + beta*C into the mr×nr corner of C, t being an
// ldt-wide tile that a kernel computed with alpha = 1 and beta = 0. Kernels
// whose registers cannot be stored partially use it for edge tiles.
func mergeTile[T float](t []T, ldt int, c *T, ldc, mr, nr int, alpha, beta T) {
	for i := 0; i < mr; i++ {
		row := unsafe.Slice((*T)(unsafe.Add(unsafe.Pointer(c), uintptr(i*ldc)*unsafe.Sizeof(*c))), nr)
		src := t[i*ldt : i*ldt+nr]
		if beta == 0 {
			for j, v := range src {
				row[j] = alpha * v
			}
			continue
		}
		for j, v := range src {
			row[j] = alpha*v + beta*row[j]
		}
	}
}
