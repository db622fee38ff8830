package mnist

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/datasets"
)

// torchvision's MNIST normalization, transforms.Normalize((0.1307,), (0.3081,)).
const (
	torchMean = 0.1307
	torchStd  = 0.3081
)

func pcg(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// fill is Fill with the batch's slices given one by one (nil for none).
func fill(t testing.TB, b *Batches, i int, x, y []float32, labels []int) int {
	n, err := b.Fill(i, &datasets.Batch{Inputs: [][]float32{x}, Targets: y, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

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
		k := fill(t, b, i, x, nil, nil)
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
	y32 := make([]float32, 4*10)
	labels := make([]int, 4)
	for i := range b.Len() {
		for k := range y32 { // stale values from an earlier batch must go
			y32[k] = 7
		}
		n := fill(t, b, i, x32, y32, labels)
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
				if y32[j*10+c] != float32(want) {
					t.Errorf("batch %d row %d: y[%d] = %v, want %v", i, j, c, y32[j*10+c], want)
				}
			}
			for k := range 784 {
				p := d.Images[e*784+k]
				want := (float64(p)/255 - torchMean) / torchStd
				if x32[j*784+k] != float32(want) {
					t.Fatalf("batch %d row %d pixel %d (%d): got %v, want %v", i, j, k, p, x32[j*784+k], want)
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
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 32*784)}, Targets: make([]float32, 32*10), Labels: make([]int, 32)}
	for name, f := range map[string]func(){
		"Fill":    func() { b.Fill(3, batch) }, // the partial last batch
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

func BenchmarkFill64(b *testing.B)  { benchFill(b, 64) }
func BenchmarkFill256(b *testing.B) { benchFill(b, 256) }

func benchFill(b *testing.B, size int) {
	d := testDataset(1000)
	bs, err := NewBatches(d, size, true)
	if err != nil {
		b.Fatal(err)
	}
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, size*784)}, Labels: make([]int, size)}
	b.SetBytes(int64(size * 784))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := bs.Fill(i%bs.Len(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFillRefusesShortSlices(t *testing.T) {
	b, err := NewBatches(testDataset(10), 4, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		batch datasets.Batch
		want  string
	}{
		{datasets.Batch{}, "one input"},
		{datasets.Batch{Inputs: [][]float32{make([]float32, 100)}}, "784"},
		{datasets.Batch{Inputs: [][]float32{make([]float32, 4*784)}, Labels: make([]int, 2)}, "2 labels"},
		{datasets.Batch{Inputs: [][]float32{make([]float32, 4*784)}, Targets: make([]float32, 4)}, "10 values"},
	} {
		if _, err := b.Fill(0, &c.batch); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.want, err, c.want)
		}
	}
	if _, err := b.Fill(9, &datasets.Batch{Inputs: [][]float32{make([]float32, 4*784)}}); err == nil {
		t.Error("batch 9 of 3 filled")
	}
}

// TestSizeOutOfRange: a batch index outside the pass has no examples, as
// in datasets.Batches, rather than a panic.
func TestSizeOutOfRange(t *testing.T) {
	d := &Dataset{Images: make([]byte, 10*784), Labels: make([]byte, 10)}
	b, err := NewBatches(d, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{-1, 3, 100} {
		if n := b.Size(i); n != 0 {
			t.Errorf("Size(%d) = %d, want 0", i, n)
		}
	}
	if b.Size(2) != 2 {
		t.Errorf("Size(2) = %d, want the partial 2", b.Size(2))
	}
}
