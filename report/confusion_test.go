package report

import (
	"math"
	"strings"
	"testing"
)

// fromCounts expands a square matrix of counts into per-sample labels and
// predictions and builds the Confusion from them, checking it holds the same
// counts: tests state the matrix they mean.
func fromCounts(t *testing.T, counts [][]int) *Confusion {
	t.Helper()
	var labels, predicted []int
	for k, row := range counts {
		for p, n := range row {
			for range n {
				labels = append(labels, k)
				predicted = append(predicted, p)
			}
		}
	}
	c, err := NewConfusion(len(counts), labels, predicted)
	if err != nil {
		t.Fatal(err)
	}
	for k := range counts {
		for p := range counts[k] {
			if c.Counts[k][p] != counts[k][p] {
				t.Fatalf("Counts = %v, want %v", c.Counts, counts)
			}
		}
	}
	return c
}

func TestConfusionMetrics(t *testing.T) {
	// Four classes, eight samples; class 2 is never predicted (precision
	// 0/0) and class 3 never occurs (recall 0/0).
	//
	//	true \ pred  0  1  2  3   support
	//	          0  3  1  0  0   4
	//	          1  0  2  0  0   2
	//	          2  0  1  0  1   2
	//	          3  0  0  0  0   0
	//	predicted    3  4  0  1   total 8, correct 3+2 = 5
	//
	// precision = diagonal / column: 3/3, 2/4, 0/0 → 0, 0/1
	// recall    = diagonal / row:    3/4, 2/2, 0/2, 0/0 → 0
	labels := []int{0, 0, 0, 0, 1, 1, 2, 2}
	predicted := []int{0, 1, 0, 0, 1, 1, 3, 1}
	c, err := NewConfusion(4, labels, predicted)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{3, 1, 0, 0}, {0, 2, 0, 0}, {0, 1, 0, 1}, {0, 0, 0, 0}}
	for i := range want {
		for j := range want[i] {
			if c.Counts[i][j] != want[i][j] {
				t.Fatalf("Counts = %v, want %v", c.Counts, want)
			}
		}
	}
	if c.Total() != 8 || c.Correct() != 5 {
		t.Errorf("Total, Correct = %d, %d; want 8, 5", c.Total(), c.Correct())
	}
	if got := c.Accuracy(); got != 5.0/8 {
		t.Errorf("Accuracy = %v, want %v", got, 5.0/8)
	}
	wantP := []float64{1, 0.5, 0, 0}
	wantR := []float64{0.75, 1, 0, 0}
	for k := range 4 {
		if got := c.Precision(k); got != wantP[k] {
			t.Errorf("Precision(%d) = %v, want %v", k, got, wantP[k])
		}
		if got := c.Recall(k); got != wantR[k] {
			t.Errorf("Recall(%d) = %v, want %v", k, got, wantR[k])
		}
	}
}

func TestConfusionEmpty(t *testing.T) {
	c, err := NewConfusion(3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total() != 0 || c.Correct() != 0 {
		t.Errorf("Total, Correct = %d, %d; want 0, 0", c.Total(), c.Correct())
	}
	for _, v := range []float64{c.Accuracy(), c.Precision(0), c.Recall(2)} {
		if v != 0 || math.IsNaN(v) {
			t.Errorf("metric of an empty matrix = %v, want 0 (0/0 is defined as 0)", v)
		}
	}
	if !strings.HasPrefix(c.Text(), "accuracy: 0.00% (0/0)\n") {
		t.Errorf("Text() starts %q", strings.SplitN(c.Text(), "\n", 2)[0])
	}
}

func TestNewConfusionErrors(t *testing.T) {
	for _, tc := range []struct {
		name              string
		classes           int
		labels, predicted []int
		want              string // part of the message
	}{
		{"no classes", 0, nil, nil, "0 classes"},
		{"negative classes", -3, nil, nil, "-3 classes"},
		{"too many classes", maxClasses + 1, nil, nil, "4097 classes"},
		{"length mismatch", 3, []int{0, 1}, []int{0}, "2 labels but 1 predictions"},
		{"label too big", 3, []int{0, 1, 3}, []int{0, 1, 2}, "labels[2] = 3, outside classes [0, 3)"},
		{"label negative", 3, []int{-1}, []int{0}, "labels[0] = -1"},
		{"prediction too big", 10, []int{0, 1}, []int{0, 10}, "predicted[1] = 10, outside classes [0, 10)"},
		{"prediction negative", 2, []int{1}, []int{-7}, "predicted[0] = -7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewConfusion(tc.classes, tc.labels, tc.predicted)
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestConfusionText(t *testing.T) {
	// Worked out by hand:
	//	total 52+50+110 = 212, correct 50+40+100 = 190: 89.62%
	//	precision 50/53 = 94.34%, 40/52 = 76.92%, 100/107 = 93.46%
	//	recall    50/52 = 96.15%, 40/50 = 80.00%, 100/110 = 90.91%
	// Counts of one to three digits check the right alignment.
	counts := [][]int{{50, 2, 0}, {3, 40, 7}, {0, 10, 100}}
	c := fromCounts(t, counts)
	want := []string{
		"accuracy: 89.62% (190/212)",
		"",
		"class  precision  recall  support",
		"    0     94.34%  96.15%       52",
		"    1     76.92%  80.00%       50",
		"    2     93.46%  90.91%      110",
		"",
		`true \ pred    0    1    2`,
		"          0   50    2    0",
		"          1    3   40    7",
		"          2    0   10  100",
	}
	got := strings.Split(strings.TrimSuffix(c.Text(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("Text() has %d lines, want %d:\n%s", len(got), len(want), c.Text())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}
}

func TestConfusionTextWideColumns(t *testing.T) {
	// 100% needs 7 characters, wider than the "recall" header; class 10
	// needs two digits: the columns must widen, not misalign.
	counts := make([][]int, 11)
	for k := range counts {
		counts[k] = make([]int, 11)
		counts[k][k] = 1
	}
	c := fromCounts(t, counts)
	// Lines: accuracy, blank, header (2), classes 0..10 (3..13), blank,
	// matrix header (15), rows 0..10 (16..26).
	lines := strings.Split(c.Text(), "\n")
	if want := "class  precision   recall  support"; lines[2] != want {
		t.Errorf("header %q, want %q", lines[2], want)
	}
	if want := "   10    100.00%  100.00%        1"; lines[13] != want {
		t.Errorf("class 10 row %q, want %q", lines[13], want)
	}
	if want := "         10   0   0   0   0   0   0   0   0   0   0   1"; lines[26] != want {
		t.Errorf("matrix row 10 %q, want %q", lines[26], want)
	}
}
