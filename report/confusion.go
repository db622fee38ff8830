package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// maxClasses bounds the size of a confusion matrix. Beyond a few thousand
// classes a matrix is no longer a readable report, and the bound turns a
// mistaken class count into an error instead of a huge allocation.
const maxClasses = 4096

// Confusion is a confusion matrix: Counts[true][predicted] is the number of
// samples of class true that were predicted as class predicted.
//
// Make one with NewConfusion; a Confusion built by hand must have Classes
// rows of Classes non-negative counts. The metric methods panic on a class k
// outside [0, Classes), as a slice index would.
type Confusion struct {
	Classes int
	Counts  [][]int
}

// NewConfusion counts labels[i] (the true class) against predicted[i] for
// every sample. Both slices must have the same length and hold classes in
// [0, classes). No samples is valid: every count is zero.
func NewConfusion(classes int, labels, predicted []int) (*Confusion, error) {
	if classes < 1 || classes > maxClasses {
		return nil, errors.Errorf("confusion matrix: %d classes, want 1 to %d", classes, maxClasses)
	}
	if len(labels) != len(predicted) {
		return nil, errors.Errorf("confusion matrix: %d labels but %d predictions", len(labels), len(predicted))
	}
	c := &Confusion{Classes: classes, Counts: make([][]int, classes)}
	cells := make([]int, classes*classes) // one backing array: rows stay contiguous
	for k := range c.Counts {
		c.Counts[k] = cells[k*classes : (k+1)*classes : (k+1)*classes]
	}
	for i, t := range labels {
		p := predicted[i]
		if t < 0 || t >= classes {
			return nil, errors.Errorf("confusion matrix: labels[%d] = %d, outside classes [0, %d)", i, t, classes)
		}
		if p < 0 || p >= classes {
			return nil, errors.Errorf("confusion matrix: predicted[%d] = %d, outside classes [0, %d)", i, p, classes)
		}
		c.Counts[t][p]++
	}
	return c, nil
}

// Total returns the number of samples counted.
func (c *Confusion) Total() int {
	n := 0
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Correct returns the number of samples predicted as their true class (the
// diagonal).
func (c *Confusion) Correct() int {
	n := 0
	for k := range c.Classes {
		n += c.Counts[k][k]
	}
	return n
}

// Accuracy returns Correct/Total, or 0 when there are no samples.
func (c *Confusion) Accuracy() float64 {
	return ratio(c.Correct(), c.Total())
}

// Precision returns the fraction of the samples predicted as class k that
// truly are k. When nothing was predicted as k the ratio is 0/0, which is
// reported as 0 (scikit-learn's zero_division=0), so that tables and averages
// stay finite.
func (c *Confusion) Precision(k int) float64 {
	return ratio(c.Counts[k][k], c.predicted(k))
}

// Recall returns the fraction of the samples of class k that were predicted
// as k. A class with no samples has recall 0/0, reported as 0 like Precision.
func (c *Confusion) Recall(k int) float64 {
	return ratio(c.Counts[k][k], c.support(k))
}

// support returns the number of samples whose true class is k.
func (c *Confusion) support(k int) int {
	n := 0
	for _, v := range c.Counts[k] {
		n += v
	}
	return n
}

// predicted returns the number of samples predicted as class k.
func (c *Confusion) predicted(k int) int {
	n := 0
	for _, row := range c.Counts {
		n += row[k]
	}
	return n
}

// ratio returns a/b, defining 0/0 as 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Text returns a readable report: the overall accuracy, a table of precision,
// recall and support per class, and the matrix itself with true classes as
// rows and predicted classes as columns.
//
//	accuracy: 70.00% (7/10)
//
//	class  precision  recall  support
//	    0    100.00%  75.00%        4
//	...
//
//	true \ pred  0  1  2
//	          0  3  1  0
//	...
func (c *Confusion) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "accuracy: %s (%d/%d)\n\n", percent(c.Accuracy()), c.Correct(), c.Total())

	rows := [][]string{{"class", "precision", "recall", "support"}}
	for k := range c.Classes {
		rows = append(rows, []string{
			strconv.Itoa(k), percent(c.Precision(k)), percent(c.Recall(k)), strconv.Itoa(c.support(k)),
		})
	}
	writeTable(&b, rows, false)
	b.WriteByte('\n')

	header := []string{`true \ pred`}
	for k := range c.Classes {
		header = append(header, strconv.Itoa(k))
	}
	rows = [][]string{header}
	for t, counts := range c.Counts {
		row := []string{strconv.Itoa(t)}
		for _, v := range counts {
			row = append(row, strconv.Itoa(v))
		}
		rows = append(rows, row)
	}
	// One width for every predicted column, so the matrix reads as a square.
	writeTable(&b, rows, true)
	return b.String()
}

func percent(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// writeTable writes rows with every column right-aligned to its widest cell,
// columns separated by two spaces. When uniform is set, the columns after the
// first share one width.
func writeTable(b *strings.Builder, rows [][]string, uniform bool) {
	var width []int
	for _, row := range rows {
		for j, cell := range row {
			if j >= len(width) {
				width = append(width, 0)
			}
			width[j] = max(width[j], len(cell))
		}
	}
	if uniform && len(width) > 1 {
		w := 0
		for _, wj := range width[1:] {
			w = max(w, wj)
		}
		for j := 1; j < len(width); j++ {
			width[j] = w
		}
	}
	for _, row := range rows {
		for j, cell := range row {
			if j > 0 {
				b.WriteString("  ")
			}
			b.WriteString(strings.Repeat(" ", width[j]-len(cell)))
			b.WriteString(cell)
		}
		b.WriteByte('\n')
	}
}
