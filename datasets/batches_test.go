package datasets_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/datasets"
)

func pcg(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// values returns n examples of size values, example i's values
// i*100, i*100+1, ...: an example is known by its first value.
func values(n, size int) []float32 {
	x := make([]float32, n*size)
	for i := range x {
		x[i] = float32(i/size*100 + i%size)
	}
	return x
}

// labelled returns n examples of shape [2, 3] with label i%7.
func labelled(t testing.TB, n int) *datasets.Dataset {
	t.Helper()
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 7
	}
	d, err := datasets.New(values(n, 6), []int{2, 3}, labels)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func batches(t testing.TB, d *datasets.Dataset, size int, dropLast bool) *datasets.Batches {
	t.Helper()
	b, err := d.Batches(size, dropLast)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pass fills every batch of b, checks that each example's input rows and
// label belong together, and returns the examples seen in order.
func pass(t *testing.T, b *datasets.Batches, size int) []int {
	t.Helper()
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, size*6)}, Labels: make([]int, size)}
	var seen []int
	for i := range b.Len() {
		n, err := b.Fill(i, batch)
		if err != nil {
			t.Fatal(err)
		}
		if n != b.Size(i) {
			t.Fatalf("Fill(%d) = %d, Size = %d", i, n, b.Size(i))
		}
		for j := range n {
			row := batch.Inputs[0][j*6 : (j+1)*6]
			e := int(row[0]) / 100
			if !slices.Equal(row, values(e+1, 6)[e*6:]) {
				t.Fatalf("batch %d row %d = %v, not one example's values", i, j, row)
			}
			if batch.Labels[j] != e%7 {
				t.Fatalf("batch %d row %d: example %d has label %d, want %d", i, j, e, batch.Labels[j], e%7)
			}
			seen = append(seen, e)
		}
	}
	return seen
}

func TestBatchesCoverEachExampleOncePerPass(t *testing.T) {
	const n, size = 23, 5 // a partial last batch of 3
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
			b := batches(t, labelled(t, n), size, tc.dropLast)
			if b.Len() != tc.batches {
				t.Fatalf("Len = %d, want %d", b.Len(), tc.batches)
			}
			if last := b.Size(b.Len() - 1); tc.dropLast && last != size || !tc.dropLast && last != 3 {
				t.Fatalf("last batch has %d examples", last)
			}
			var orders [][]int
			for range 3 {
				b.Shuffle(tc.rng)
				seen := pass(t, b, size)
				if len(seen) != tc.seen {
					t.Fatalf("saw %d examples, want %d", len(seen), tc.seen)
				}
				if tc.dropLast {
					continue // the dropped examples differ from pass to pass
				}
				if sorted := slices.Sorted(slices.Values(seen)); !isRange(sorted, n) {
					t.Fatalf("examples seen: %v, want each of 0..%d once", sorted, n-1)
				}
				orders = append(orders, seen)
			}
			if tc.rng == nil && !isRange(orders[0], n) {
				t.Fatalf("without a generator the order is %v, want the dataset's own", orders[0])
			}
			if tc.rng != nil && !tc.dropLast && slices.Equal(orders[0], orders[1]) {
				t.Fatal("two shuffled passes in the same order")
			}
		})
	}
}

func isRange(s []int, n int) bool {
	if len(s) != n {
		return false
	}
	for i, v := range s {
		if v != i {
			return false
		}
	}
	return true
}

func TestShuffleSameSeedSameOrder(t *testing.T) {
	a, b := batches(t, labelled(t, 50), 8, false), batches(t, labelled(t, 50), 8, false)
	ra, rb := pcg(7), pcg(7)
	for range 3 {
		a.Shuffle(ra)
		b.Shuffle(rb)
		if oa, ob := pass(t, a, 8), pass(t, b, 8); !slices.Equal(oa, ob) {
			t.Fatalf("same seed, different orders:\n%v\n%v", oa, ob)
		}
	}
}

// A pass resumed from a saved generator state must see the same order, even
// on a Batches that has drawn other orders before (or none).
func TestShuffleOrderDependsOnlyOnTheGeneratorState(t *testing.T) {
	src := rand.NewPCG(3, 4)
	rng := rand.New(src)
	b := batches(t, labelled(t, 40), 6, false)
	b.Shuffle(rng)
	pass(t, b, 6)
	state, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b.Shuffle(rng)
	want := pass(t, b, 6)

	restored := &rand.PCG{}
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	fresh := batches(t, labelled(t, 40), 6, false)
	fresh.Shuffle(pcg(99)) // a different previous pass must not matter
	fresh.Shuffle(rand.New(restored))
	if got := pass(t, fresh, 6); !slices.Equal(got, want) {
		t.Fatalf("restored state gives order\n%v, want\n%v", got, want)
	}
}

func TestFillSeveralInputsAndTargets(t *testing.T) {
	const n = 7
	targets := &datasets.Array{Data: values(n, 2), Shape: []int{2}}
	d, err := datasets.NewMulti([]datasets.Array{{Data: values(n, 3), Shape: []int{3}}, {Data: values(n, 4), Shape: []int{2, 2}}}, nil, targets)
	if err != nil {
		t.Fatal(err)
	}
	b := batches(t, d, 4, false)
	b.Shuffle(pcg(5))
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 4*3), make([]float32, 4*4)}, Targets: make([]float32, 4*2)}
	seen := 0
	for i := range b.Len() {
		n, err := b.Fill(i, batch)
		if err != nil {
			t.Fatal(err)
		}
		for j := range n {
			e := int(batch.Inputs[0][j*3]) / 100
			if got := batch.Inputs[1][j*4 : (j+1)*4]; !slices.Equal(got, values(e+1, 4)[e*4:]) {
				t.Fatalf("input 1 of example %d = %v", e, got)
			}
			if got := batch.Targets[j*2 : (j+1)*2]; !slices.Equal(got, values(e+1, 2)[e*2:]) {
				t.Fatalf("targets of example %d = %v", e, got)
			}
			seen++
		}
	}
	if seen != n {
		t.Fatalf("saw %d examples, want %d", seen, n)
	}
}

// A model of one output trained on values (binary classification with a
// sigmoid loss) gets a labelled dataset's labels as targets.
func TestFillLabelsAsTargetsOfWidthOne(t *testing.T) {
	d, err := datasets.New(values(5, 2), []int{2}, []int{0, 1, 1, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	b := batches(t, d, 5, false)
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 10)}, Targets: make([]float32, 5)}
	if _, err := b.Fill(0, batch); err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 1, 1, 0, 1}; !slices.Equal(batch.Targets, want) {
		t.Fatalf("targets = %v, want %v", batch.Targets, want)
	}
	batch.Targets = make([]float32, 10)
	_, err = b.Fill(0, batch)
	wantError(t, err, "dataset has class labels, not targets")
}

func TestFillErrors(t *testing.T) {
	labels := batches(t, labelled(t, 10), 4, false)
	d, err := datasets.NewTargets(values(10, 6), []int{6}, values(10, 3), []int{3})
	if err != nil {
		t.Fatal(err)
	}
	floats := batches(t, d, 4, false)
	x := func(n int) [][]float32 { return [][]float32{make([]float32, n)} }
	for _, tc := range []struct {
		name  string
		b     *datasets.Batches
		i     int
		batch *datasets.Batch
		want  string
	}{
		{"negative index", labels, -1, &datasets.Batch{Inputs: x(24)}, "batch -1 out of range [0, 3)"},
		{"index past the end", labels, 3, &datasets.Batch{Inputs: x(24)}, "batch 3 out of range [0, 3)"},
		{"nil batch", labels, 0, nil, "nil batch"},
		{"no inputs", labels, 0, &datasets.Batch{}, "the dataset has 1 inputs, the batch 0"},
		{"two inputs", labels, 0, &datasets.Batch{Inputs: [][]float32{make([]float32, 24), make([]float32, 24)}}, "the batch 2"},
		{"input too short", labels, 0, &datasets.Batch{Inputs: x(18)}, "room for 3 examples, batch 0 has 4"},
		{"input of another shape", labels, 0, &datasets.Batch{Inputs: x(20)}, "20 values is not a whole number of examples of shape [2 3]"},
		{"nil input", labels, 0, &datasets.Batch{Inputs: [][]float32{nil}}, "room for 0 examples"},
		{"labels too short", labels, 0, &datasets.Batch{Inputs: x(24), Labels: make([]int, 3)}, "room for 3 labels in a batch of 4"},
		{"targets of another width", floats, 0, &datasets.Batch{Inputs: x(24), Targets: make([]float32, 8)}, "room for 8 target values in a batch of 4 examples of targets of shape [3]"},
		{"labels from float targets", floats, 0, &datasets.Batch{Inputs: x(24), Labels: make([]int, 4)}, "dataset has float targets of shape [3]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.b.Fill(tc.i, tc.batch)
			if n != 0 {
				t.Errorf("Fill returned %d examples with an error", n)
			}
			wantError(t, err, tc.want)
		})
	}
}

func TestFillWithoutLabelsOrTargets(t *testing.T) {
	d, err := datasets.New(values(4, 1), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := batches(t, d, 4, false)
	_, err = b.Fill(0, &datasets.Batch{Inputs: [][]float32{make([]float32, 4)}, Labels: make([]int, 4)})
	wantError(t, err, "takes class labels, the dataset has none")
	_, err = b.Fill(0, &datasets.Batch{Inputs: [][]float32{make([]float32, 4)}, Targets: make([]float32, 4)})
	wantError(t, err, "takes targets, the dataset has none")
	if n, err := b.Fill(0, &datasets.Batch{Inputs: [][]float32{make([]float32, 4)}}); n != 4 || err != nil {
		t.Fatalf("inputs only: Fill = %d, %v", n, err)
	}
}

func TestBatchesErrors(t *testing.T) {
	d := labelled(t, 5)
	_, err := d.Batches(0, false)
	wantError(t, err, "batch size 0")
	_, err = d.Batches(6, true)
	wantError(t, err, "exceeds the 5 examples")
	if b := batches(t, d, 6, false); b.Len() != 1 || b.Size(0) != 5 || b.Size(1) != 0 || b.Size(-1) != 0 {
		t.Fatalf("batch of 6 over 5 examples: Len %d, Size(0) %d", b.Len(), b.Size(0))
	}
}

func TestFillAndShuffleDoNotAllocate(t *testing.T) {
	b := batches(t, labelled(t, 100), 16, false)
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 16*6)}, Labels: make([]int, 16)}
	rng := pcg(1)
	for name, f := range map[string]func(){
		"Shuffle": func() { b.Shuffle(rng) },
		"Fill": func() {
			if _, err := b.Fill(3, batch); err != nil {
				t.Fatal(err)
			}
		},
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, a)
		}
	}
}

func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}
