package mnist

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// torchvision's MNIST normalization, transforms.Normalize((0.1307,), (0.3081,)).
const (
	torchMean = 0.1307
	torchStd  = 0.3081
)

func pcg(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// epochOrder fills every batch and returns the example indices seen, found
// from the first pixel: testPixels gives image i the first pixel 7*i mod 256,
// distinct for i < 256.
func epochOrder(t *testing.T, b *Batches, n int) []int {
	t.Helper()
	first := map[float32]int{}
	for i := range n {
		first[float32((float64(byte(7*i))/255-torchMean)/torchStd)] = i
	}
	x := make([]float32, b.size*784)
	var seen []int
	for i := range b.Len() {
		k := b.Fill(i, x, nil, nil)
		if k != b.Size(i) {
			t.Fatalf("Fill(%d) = %d, Size = %d", i, k, b.Size(i))
		}
		for j := range k {
			seen = append(seen, first[x[j*784]])
		}
	}
	return seen
}

func TestBatchesCoverEachExampleOnce(t *testing.T) {
	const n = 23 // not a multiple of the batch size 5: a partial last batch
	d := testDataset(n)
	for _, tc := range []struct {
		name     string
		rng      *rand.Rand
		dropLast bool
		batches  int
		seen     int
	}{
		{"ordered", nil, false, 5, 23},
		{"shuffled", pcg(1), false, 5, 23},
		{"shuffled-droplast", pcg(1), true, 4, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBatches(d, 5, tc.dropLast)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() != tc.batches {
				t.Fatalf("Len = %d, want %d", b.Len(), tc.batches)
			}
			for epoch := range 3 {
				b.Shuffle(tc.rng)
				seen := epochOrder(t, b, n)
				if len(seen) != tc.seen {
					t.Fatalf("epoch %d: saw %d examples, want %d", epoch, len(seen), tc.seen)
				}
				sorted := slices.Sorted(slices.Values(seen))
				if len(slices.Compact(slices.Clone(sorted))) != tc.seen {
					t.Fatalf("epoch %d: an example came twice: %v", epoch, seen)
				}
				if tc.rng == nil && !slices.Equal(seen, sorted) {
					t.Errorf("nil rng: order %v, want 0..%d", seen, n-1)
				}
				if tc.rng != nil && slices.IsSorted(seen) {
					t.Errorf("epoch %d: shuffled order is sorted", epoch)
				}
			}
		})
	}
}

func TestBatchesSeed(t *testing.T) {
	const n = 23
	d := testDataset(n)
	orders := func(seed uint64) [][]int {
		b, err := NewBatches(d, 4, false)
		if err != nil {
			t.Fatal(err)
		}
		rng := pcg(seed)
		b.Shuffle(rng)
		e1 := epochOrder(t, b, n)
		b.Shuffle(rng)
		return [][]int{e1, epochOrder(t, b, n)}
	}
	a, again, other := orders(7), orders(7), orders(8)
	if !slices.Equal(a[0], again[0]) || !slices.Equal(a[1], again[1]) {
		t.Errorf("same seed, different orders: %v vs %v", a, again)
	}
	if slices.Equal(a[0], other[0]) {
		t.Errorf("seeds 7 and 8 give the same order %v", a[0])
	}
	if slices.Equal(a[0], a[1]) {
		t.Errorf("Shuffle kept the order %v", a[0])
	}
}

// TestShuffleDependsOnlyOnRNGState: an epoch's order is a function of the
// rng's state alone, so restoring a saved PCG state (as a resumed run does)
// restores the order, whatever orders came before.
func TestShuffleDependsOnlyOnRNGState(t *testing.T) {
	const n = 23
	d := testDataset(n)
	src := rand.NewPCG(5, 6)
	b, err := NewBatches(d, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(src)
	b.Shuffle(rng)
	b.Shuffle(rng)
	state, _ := src.MarshalBinary()
	b.Shuffle(rng)
	want := epochOrder(t, b, n)

	src2 := rand.NewPCG(0, 0)
	b2, _ := NewBatches(d, 4, false)
	if err := src2.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	b2.Shuffle(rand.New(src2))
	if got := epochOrder(t, b2, n); !slices.Equal(got, want) {
		t.Errorf("restored state gives order %v, want %v", got, want)
	}
}

func TestFillValues(t *testing.T) {
	d := testDataset(10)
	b, err := NewBatches(d, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	x32 := make([]float32, 4*784)
	x64 := make([]float64, 4*784)
	y32 := make([]float32, 4*10)
	y64 := make([]float64, 4*10)
	labels := make([]int, 4)
	labels64 := make([]int, 4)
	for i := range b.Len() {
		for k := range y32 { // stale values from an earlier batch must go
			y32[k], y64[k] = 7, 7
		}
		n := b.Fill(i, x32, y32, labels)
		if n64 := b.Fill64(i, x64, y64, labels64); n64 != n || !slices.Equal(labels, labels64) {
			t.Fatalf("Fill64 disagrees with Fill: %d %v vs %d %v", n64, labels64, n, labels)
		}
		for j := range n {
			e := int(b.order[i*4+j])
			if labels[j] != e%10 {
				t.Errorf("batch %d row %d: label %d, want %d", i, j, labels[j], e%10)
			}
			for c := range 10 {
				want := 0.0
				if c == e%10 {
					want = 1
				}
				if y32[j*10+c] != float32(want) || y64[j*10+c] != want {
					t.Errorf("batch %d row %d: y[%d] = %v / %v, want %v", i, j, c, y32[j*10+c], y64[j*10+c], want)
				}
			}
			for k := range 784 {
				p := d.Images[e*784+k]
				want := (float64(p)/255 - torchMean) / torchStd
				if x64[j*784+k] != want || x32[j*784+k] != float32(want) {
					t.Fatalf("batch %d row %d pixel %d (%d): got %v / %v, want %v", i, j, k, p, x32[j*784+k], x64[j*784+k], want)
				}
			}
		}
	}
}

func TestFillAndShuffleDoNotAllocate(t *testing.T) {
	d := testDataset(100)
	b, err := NewBatches(d, 32, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := pcg(1)
	x, y, labels := make([]float32, 32*784), make([]float32, 32*10), make([]int, 32)
	x64, y64 := make([]float64, 32*784), make([]float64, 32*10)
	for name, f := range map[string]func(){
		"Fill":    func() { b.Fill(3, x, y, labels) }, // the partial last batch
		"Fill64":  func() { b.Fill64(0, x64, y64, labels) },
		"Shuffle": func() { b.Shuffle(rng) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, a)
		}
	}
}

func TestNewBatchesBad(t *testing.T) {
	d := testDataset(5)
	for _, tc := range []struct {
		name     string
		d        *Dataset
		size     int
		dropLast bool
	}{
		{"nil", nil, 1, false},
		{"empty", &Dataset{}, 1, false},
		{"size-0", d, 0, false},
		{"size-negative", d, -3, false},
		{"droplast-too-big", d, 6, true},
		{"images-labels-disagree", &Dataset{Images: make([]byte, 784), Labels: []byte{1, 2}}, 1, false},
	} {
		if _, err := NewBatches(tc.d, tc.size, tc.dropLast); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// Without dropLast, a batch larger than the data is one partial batch.
	b, err := NewBatches(d, 6, false)
	if err != nil || b.Len() != 1 || b.Size(0) != 5 {
		t.Errorf("size 6 of 5: got %v, %v", b, err)
	}
}

func BenchmarkFill64x32(b *testing.B)  { benchFill(b, 64, false) }
func BenchmarkFill64x64(b *testing.B)  { benchFill(b, 64, true) }
func BenchmarkFill256x32(b *testing.B) { benchFill(b, 256, false) }

func benchFill(b *testing.B, size int, f64 bool) {
	d := testDataset(1000)
	bs, err := NewBatches(d, size, true)
	if err != nil {
		b.Fatal(err)
	}
	x, y, labels := make([]float32, size*784), make([]float32, size*10), make([]int, size)
	x64, y64 := make([]float64, size*784), make([]float64, size*10)
	b.SetBytes(int64(size * 784))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if f64 {
			bs.Fill64(i%bs.Len(), x64, y64, labels)
		} else {
			bs.Fill(i%bs.Len(), x, y, labels)
		}
	}
}
