package datasets_test

import (
	"math"
	"slices"
	"testing"

	"github.com/tapestry-ml/tapestry/datasets"
)

func TestNewErrors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	in := func(data []float32, shape ...int) datasets.Array { return datasets.Array{Data: data, Shape: shape} }
	for _, tc := range []struct {
		name    string
		inputs  []datasets.Array
		labels  []int
		targets *datasets.Array
		want    string
	}{
		{"no inputs", nil, nil, nil, "dataset: no inputs"},
		{"no examples", []datasets.Array{in(nil, 3)}, nil, nil, "dataset: no examples"},
		{"part of an example", []datasets.Array{in(values(2, 3)[:5], 3)}, nil, nil,
			"input 0 holds 5 values, not a whole number of examples of shape [3] (3 values)"},
		{"zero dimension", []datasets.Array{in(values(2, 3), 3, 0)}, nil, nil, "input 0 has shape [3 0], want every dimension > 0"},
		{"inputs disagree", []datasets.Array{in(values(4, 3), 3), in(values(3, 2), 2)}, nil, nil,
			"input 1 holds 3 examples, input 0 holds 4"},
		{"labels disagree", []datasets.Array{in(values(4, 3), 3)}, []int{0, 1, 2}, nil, "3 labels for 4 examples"},
		{"negative label", []datasets.Array{in(values(4, 3), 3)}, []int{0, 1, -2, 0}, nil, "example 2 has label -2, want >= 0"},
		{"targets disagree", []datasets.Array{in(values(4, 3), 3)}, nil, &datasets.Array{Data: values(5, 1)}, "the targets hold 5 examples, the inputs 4"},
		{"NaN input", []datasets.Array{in(values(4, 3), 3), in(append(values(3, 2), nan, 0), 2)}, nil, nil,
			"input 1: example 3 has NaN at value 0"},
		{"infinite target", []datasets.Array{in(values(4, 3), 3)}, nil, &datasets.Array{Data: []float32{0, 0, 0, 0, 0, inf, 0, 0}, Shape: []int{2}},
			"targets: example 2 has -Inf at value 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := datasets.NewMulti(tc.inputs, tc.labels, tc.targets)
			if d != nil {
				t.Errorf("a dataset with the error")
			}
			wantError(t, err, tc.want)
		})
	}
}

func TestShapes(t *testing.T) {
	d, err := datasets.NewTargets(values(4, 6), []int{2, 3}, make([]float32, 4), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.InputShapes(); len(got) != 1 || !slices.Equal(got[0], []int{2, 3}) {
		t.Errorf("InputShapes = %v", got)
	}
	if got := d.TargetShape(); got == nil || len(got) != 0 {
		t.Errorf("TargetShape = %#v, want an empty shape (one value)", got)
	}
	if d.HasLabels() || !labelled(t, 3).HasLabels() || labelled(t, 3).TargetShape() != nil {
		t.Error("HasLabels or TargetShape wrong")
	}
	d.InputShapes()[0][0] = 9
	if d.InputShapes()[0][0] != 2 {
		t.Error("InputShapes shares the dataset's shape")
	}
}

// examples returns the examples of d in its order, found by their values.
func examples(t *testing.T, d *datasets.Dataset) []int {
	t.Helper()
	return pass(t, batches(t, d, d.Len(), false), d.Len())
}

func TestSplit(t *testing.T) {
	d := labelled(t, 20)
	for _, tc := range []struct {
		fraction   float64
		train, val int
	}{{0.25, 15, 5}, {0.01, 19, 1}, {0.5, 10, 10}, {0, 20, 0}} {
		train, val, err := d.Split(tc.fraction, pcg(1))
		if err != nil {
			t.Fatal(err)
		}
		if train.Len() != tc.train || tc.val == 0 && val != nil || tc.val > 0 && val.Len() != tc.val {
			t.Fatalf("Split(%v): %d and %v examples, want %d and %d", tc.fraction, train.Len(), val, tc.train, tc.val)
		}
		all := examples(t, train)
		if val != nil {
			all = append(all, examples(t, val)...)
		}
		if !isRange(slices.Sorted(slices.Values(all)), 20) {
			t.Fatalf("Split(%v): the parts hold %v, want each example once", tc.fraction, all)
		}
	}
	a, _, _ := d.Split(0.3, pcg(4))
	b, _, _ := d.Split(0.3, pcg(4))
	c, _, _ := d.Split(0.3, pcg(5))
	if !slices.Equal(examples(t, a), examples(t, b)) {
		t.Error("the same seed splits differently")
	}
	if slices.Equal(examples(t, a), examples(t, c)) {
		t.Error("two seeds split alike")
	}
}

func TestSplitErrors(t *testing.T) {
	d := labelled(t, 4)
	for _, tc := range []struct {
		fraction float64
		want     string
	}{{1, "want 0 <= fraction < 1"}, {-0.1, "want 0 <= fraction < 1"}, {math.NaN(), "want 0 <= fraction < 1"}, {0.9, "leaves none in the first part"}} {
		_, _, err := d.Split(tc.fraction, pcg(1))
		wantError(t, err, tc.want)
	}
	_, _, err := d.Split(0.5, nil)
	wantError(t, err, "without a generator")
}

func TestSubset(t *testing.T) {
	d := labelled(t, 10)
	s, err := d.Subset([]int{7, 2, 2, 9})
	if err != nil {
		t.Fatal(err)
	}
	if got := examples(t, s); !slices.Equal(got, []int{7, 2, 2, 9}) {
		t.Fatalf("subset holds %v", got)
	}
	ss, err := s.Subset([]int{3, 0})
	if err != nil {
		t.Fatal(err)
	}
	if got := examples(t, ss); !slices.Equal(got, []int{9, 7}) {
		t.Fatalf("subset of a subset holds %v, want positions of the subset", got)
	}
	_, err = s.Subset([]int{0, 4})
	wantError(t, err, "subset position 1 is example 4, want 0..3")
	_, err = s.Subset(nil)
	wantError(t, err, "empty subset")
}
