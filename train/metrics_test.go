package train

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// fakeFeed is the part of a feed the metrics read.
func fakeFeed(out int, labels []int, targets []float32) *feed {
	return &feed{out: out, labels: labels, targets: targets}
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestClassifierMetricsByHand: three examples of 4 classes, scores by row
//
//	[0.1 0.7 0.1 0.1] label 1: top-1 right
//	[0.5 0.2 0.3 0.0] label 2: second largest, in the top 2
//	[0.2 0.2 0.1 0.5] label 0: tied with class 1 for second; ties rank by
//	                           index, so class 0 is second: in the top 2
//
// accuracy 1/3, top-2 accuracy 3/3; the mean loss is the batch's mean loss.
func TestClassifierMetricsByHand(t *testing.T) {
	out := tensor.New(tensor.WithShape(3, 4), tensor.WithBacking([]float32{
		0.1, 0.7, 0.1, 0.1,
		0.5, 0.2, 0.3, 0,
		0.2, 0.2, 0.1, 0.5}))
	var s sums
	s.add(classify, 2, out, fakeFeed(4, []int{1, 2, 0}, nil), 3, 0.9)
	m := s.metrics(classify, 2)
	if !close(m["accuracy"], 1.0/3) || !close(m["top2_accuracy"], 1) || !close(s.LossSum/float64(s.Seen), 0.9) {
		t.Errorf("metrics %v, loss %v", m, s.LossSum/float64(s.Seen))
	}
}

// TestBinaryMetricsByHand: logits [2, −1, 0.5, −3] against targets
// [1, 1, 0, 0]: a logit above 0 means yes; right for the first and last,
// accuracy 2/4.
func TestBinaryMetricsByHand(t *testing.T) {
	out := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{2, -1, 0.5, -3}))
	var s sums
	s.add(binary, 0, out, fakeFeed(2, nil, []float32{1, 1, 0, 0}), 2, 0.3)
	if m := s.metrics(binary, 0); !close(m["accuracy"], 0.5) {
		t.Errorf("metrics %v", m)
	}
}

// TestRegressionMetricsByHand: predictions [1, 2, 4, 8] of targets
// [1, 3, 3, 6] in two batches: errors 0, −1, 1, 2, so MSE 6/4 and MAE 4/4;
// the targets' mean is 3.25 and Σ(y − ȳ)² = 5.0625 + 0.0625 + 0.0625 +
// 7.5625 = 12.75, so R² = 1 − 6/12.75.
func TestRegressionMetricsByHand(t *testing.T) {
	var s sums
	s.add(regress, 0, tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float32{1, 2})), fakeFeed(1, nil, []float32{1, 3}), 2, 0)
	s.add(regress, 0, tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float32{4, 8})), fakeFeed(1, nil, []float32{3, 6}), 2, 0)
	m := s.metrics(regress, 0)
	if !close(m["mse"], 1.5) || !close(m["mae"], 1) || !close(m["r2"], 1-6/12.75) {
		t.Errorf("metrics %v, want mse 1.5, mae 1, r2 %v", m, 1-6/12.75)
	}
	// Two outputs: R² is the mean of each column's.
	var two sums
	two.add(regress, 0, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0, 5, 2, 5})), fakeFeed(2, nil, []float32{0, 4, 2, 6}), 2, 0)
	// Column 0 is predicted exactly (R² 1); column 1: SSres 2, SStot 2 (R² 0).
	if m := two.metrics(regress, 0); !close(m["r2"], 0.5) {
		t.Errorf("two-column r2 %v, want 0.5", m["r2"])
	}
}
