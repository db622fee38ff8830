package train

import (
	"fmt"
	"math"
	"strings"

	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph"
)

// task is what a model's loss makes of its outputs, which decides its
// metrics.
type task int

const (
	// classify: one class per example from its scores (CrossEntropy);
	// metrics accuracy and, with Config.TopK, top-k accuracy.
	classify task = iota
	// binary: independent yes/no outputs from logits (a Classifier that
	// takes values, SigmoidCrossEntropy); metric accuracy over the outputs.
	binary
	// regress: values (MSE, MAE, Huber); metrics mse, mae and r2.
	regress
)

func taskOf(l graph.Loss) task {
	_, classifier := l.(graph.Classifier)
	switch {
	case l.Labels():
		return classify
	case classifier:
		return binary
	}
	return regress
}

// sums are the running sums an epoch's metrics are computed from, in
// float64. They are part of a Position, so that an epoch resumed in its
// middle comes out the same; seen, loss_sum and correct keep the names of
// the first checkpoint format.
type sums struct {
	Seen    int     `json:"seen"`     // examples
	LossSum float64 `json:"loss_sum"` // Σ batch mean loss × batch size
	Correct int     `json:"correct"`  // classify: top-1 right; binary: outputs right
	TopK    int     `json:"top_k,omitempty"`
	Values  int     `json:"values,omitempty"` // binary, regress: outputs compared
	SqErr   float64 `json:"sq_err,omitempty"`
	AbsErr  float64 `json:"abs_err,omitempty"`
	// Per output column, for R²: Σ y, Σ y², Σ (y − ŷ)².
	SumY   []float64 `json:"sum_y,omitempty"`
	SumY2  []float64 `json:"sum_y2,omitempty"`
	ColErr []float64 `json:"col_err,omitempty"`
}

// add counts a batch of n examples: the program's outputs (float32 or
// float64), the labels or targets the feed holds, and the batch's mean loss.
func (s *sums) add(k task, topK int, out *tensor.Dense, f *feed, n int, loss float64) {
	s.Seen += n
	s.LossSum += loss * float64(n)
	cols := f.out
	vals := out.Data()
	for r := 0; r < n; r++ {
		switch k {
		case classify:
			s.countClass(vals, r, cols, f.labels[r], topK)
		default:
			for c := 0; c < cols; c++ {
				yhat := at(vals, r*cols+c)
				y := float64(f.targets[r*cols+c])
				s.countValue(k, c, cols, yhat, y)
			}
		}
	}
}

// countClass counts one example of a classifier: is its label the largest
// score (the first of equal ones, as Argmax), and among the topK largest.
func (s *sums) countClass(vals any, r, cols, label, topK int) {
	best, mine := 0, at(vals, r*cols+label)
	above := 0 // scores that beat the label's
	for c := 0; c < cols; c++ {
		v := at(vals, r*cols+c)
		if v > at(vals, r*cols+best) {
			best = c
		}
		if v > mine || (v == mine && c < label) {
			above++
		}
	}
	if best == label {
		s.Correct++
	}
	if topK > 0 && above < topK {
		s.TopK++
	}
}

// countValue counts one output of a binary classifier or a regression.
func (s *sums) countValue(k task, c, cols int, yhat, y float64) {
	s.Values++
	if k == binary {
		if (yhat > 0) == (y >= 0.5) {
			s.Correct++
		}
		return
	}
	if s.SumY == nil {
		s.SumY, s.SumY2, s.ColErr = make([]float64, cols), make([]float64, cols), make([]float64, cols)
	}
	d := y - yhat
	s.SqErr += d * d
	s.AbsErr += math.Abs(d)
	s.SumY[c] += y
	s.SumY2[c] += y * y
	s.ColErr[c] += d * d
}

// at returns element i of a float32 or float64 slice as float64.
func at(vals any, i int) float64 {
	switch v := vals.(type) {
	case []float32:
		return float64(v[i])
	case []float64:
		return v[i]
	}
	return math.NaN()
}

// metrics returns the task's metrics from the sums, by name.
func (s *sums) metrics(k task, topK int) map[string]float64 {
	m := map[string]float64{}
	switch k {
	case classify:
		if s.Seen > 0 {
			m["accuracy"] = float64(s.Correct) / float64(s.Seen)
			if topK > 0 {
				m[fmt.Sprintf("top%d_accuracy", topK)] = float64(s.TopK) / float64(s.Seen)
			}
		}
	case binary:
		if s.Values > 0 {
			m["accuracy"] = float64(s.Correct) / float64(s.Values)
		}
	case regress:
		if s.Values > 0 {
			m["mse"] = s.SqErr / float64(s.Values)
			m["mae"] = s.AbsErr / float64(s.Values)
			m["r2"] = s.r2()
		}
	}
	return m
}

// r2 is the coefficient of determination 1 − Σ(y − ŷ)²/Σ(y − ȳ)² of each
// output column, averaged over the columns (scikit-learn's
// "uniform_average"). A column whose targets are all equal scores 1 if it
// is predicted exactly and 0 otherwise, as scikit-learn does.
func (s *sums) r2() float64 {
	n := float64(s.Seen)
	total := 0.0
	for c := range s.SumY {
		tot := s.SumY2[c] - s.SumY[c]*s.SumY[c]/n
		switch {
		case tot > 0:
			total += 1 - s.ColErr[c]/tot
		case s.ColErr[c] == 0:
			total++
		}
	}
	return total / float64(len(s.SumY))
}

// lossName names the monitor of a loss ("val_loss") and tells whether a
// metric is better when it is larger.
func higherIsBetter(metric string) bool {
	metric = strings.TrimPrefix(strings.TrimPrefix(metric, "val_"), "train_")
	return metric == "r2" || strings.HasSuffix(metric, "accuracy")
}
