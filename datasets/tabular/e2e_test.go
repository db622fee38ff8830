package tabular

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tapestry-ml/tapestry/datasets"
)

// features returns the features of d, in d's order.
func features(t *testing.T, d *datasets.Dataset) []float32 {
	t.Helper()
	b, err := d.Batches(d.Len(), false)
	if err != nil {
		t.Fatal(err)
	}
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, d.Len()*d.InputShapes()[0][0])}}
	if _, err := b.Fill(0, batch); err != nil {
		t.Fatal(err)
	}
	return batch.Inputs[0]
}

// The batches of an encoded table hold, row for row, what EncodeRow gives
// for the row and its label, whatever the shuffle.
func TestEncodedBatchesFeedTheRows(t *testing.T) {
	tab := read(t, "id,colour,size,y\n1,red,1,cat\n2,blue,3,dog\n3,red,5,dog\n4,green,7,cat\n5,blue,9,cat\n6,red,11,dog\n7,green,13,cat\n")
	train, test, err := SplitRows(tab.Len(), 2.0/7, rand.New(rand.NewPCG(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 5 || len(test) != 2 {
		t.Fatalf("split %v and %v", train, test)
	}
	e := fit(t, tab, all(tab), Config{Target: "y", Ignore: []string{"id"}})
	d, err := e.Encode(tab, train)
	if err != nil {
		t.Fatal(err)
	}
	rowOf := map[float32]int{} // rows known by their size, feature 3
	for r := range tab.Len() {
		x, err := e.EncodeRow(tab.Fields(r))
		if err != nil {
			t.Fatal(err)
		}
		rowOf[x[3]] = r
	}
	b, err := d.Batches(2, false)
	if err != nil {
		t.Fatal(err)
	}
	b.Shuffle(rand.New(rand.NewPCG(2, 0)))
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 2*e.Width())}, Labels: make([]int, 2)}
	seen := map[int]bool{}
	for i := range b.Len() {
		n, err := b.Fill(i, batch)
		if err != nil {
			t.Fatal(err)
		}
		for j := range n {
			x := batch.Inputs[0][j*e.Width() : (j+1)*e.Width()]
			r, ok := rowOf[x[3]]
			want, _ := e.EncodeRow(tab.Fields(r))
			if !ok || !slices.Equal(x, want) || !slices.Contains(train, r) {
				t.Fatalf("batch %d row %d: features %v, not a training row's", i, j, x)
			}
			if class, err := e.Class(batch.Labels[j]); err != nil || class != tab.Cell(r, 3) {
				t.Fatalf("row %d has class %q, the batch label %d (%q, %v)", r, tab.Cell(r, 3), batch.Labels[j], class, err)
			}
			seen[r] = true
		}
	}
	if len(seen) != len(train) {
		t.Fatalf("%d rows seen, want the %d training rows", len(seen), len(train))
	}
}

// A two-class target feeds a one-output model trained on values (a sigmoid
// loss) as 0/1 targets.
func TestBinaryTargetFeedsOneOutput(t *testing.T) {
	tab := read(t, "x,sick\n1,no\n2,yes\n3,yes\n")
	e := fit(t, tab, all(tab), Config{Target: "sick"})
	d, err := e.Encode(tab, all(tab))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Batches(3, false)
	if err != nil {
		t.Fatal(err)
	}
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 3)}, Targets: make([]float32, 3)}
	if _, err := b.Fill(0, batch); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(batch.Targets, []float32{0, 1, 1}) {
		t.Fatalf("targets %v, want [0 1 1]", batch.Targets)
	}
}

func TestRegressionTargetsAreStandardized(t *testing.T) {
	tab := read(t, "x,y\n1,10\n2,20\n3,30\n4,40\n")
	e := fit(t, tab, []int{0, 1}, Config{Target: "y", Task: Regress})
	d, err := e.Encode(tab, []int{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.TargetShape(); !slices.Equal(got, []int{1}) {
		t.Fatalf("target shape %v", got)
	}
	b, err := d.Batches(2, false)
	if err != nil {
		t.Fatal(err)
	}
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, 2)}, Targets: make([]float32, 2)}
	if _, err := b.Fill(0, batch); err != nil {
		t.Fatal(err)
	}
	// Training rows 10 and 20: mean 15, std 5.
	if !slices.Equal(batch.Targets, []float32{3, 5}) || !slices.Equal(batch.Inputs[0], []float32{3, 5}) {
		t.Fatalf("targets %v, features %v; want [3 5] both", batch.Targets, batch.Inputs[0])
	}
	if v, err := e.Value(float64(batch.Targets[1])); v != 40 || err != nil {
		t.Fatalf("Value = %v, %v; want 40", v, err)
	}
}
