package train_test

import (
	"math/rand/v2"

	"github.com/tapestry-ml/tapestry/datasets"
)

// randomSource is one batch of standard normal inputs with random labels,
// repeated: what a benchmark or a test of the trainer's mechanics needs.
type randomSource struct {
	x, y   []float32
	labels []int
}

func newRandomSource(rng *rand.Rand, batch, in, classes int) *randomSource {
	s := &randomSource{x: make([]float32, batch*in), y: make([]float32, batch*classes), labels: make([]int, batch)}
	for i := range s.x {
		s.x[i] = float32(rng.NormFloat64())
	}
	for i := range s.labels {
		s.labels[i] = rng.IntN(classes)
		s.y[i*classes+s.labels[i]] = 1
	}
	return s
}

func (s *randomSource) Len() int           { return 1 }
func (s *randomSource) Size(int) int       { return len(s.labels) }
func (s *randomSource) Shuffle(*rand.Rand) {}
func (s *randomSource) Fill(_ int, b *datasets.Batch) (int, error) {
	copy(b.Inputs[0], s.x)
	if b.Targets != nil {
		copy(b.Targets, s.y)
	}
	if b.Labels != nil {
		copy(b.Labels, s.labels)
	}
	return len(s.labels), nil
}

// ruleSource is n examples of 6 standard normal inputs whose class is
// (x0 > 0) + (x1 > 0): a rule a small network learns in a few epochs.
type ruleSource struct {
	x      []float32
	labels []int
	order  []int
	batch  int
	drop   bool // drop a last partial batch
}

func newRuleSource(seed uint64, n, batch int, dropLast bool) *ruleSource {
	rng := rand.New(rand.NewPCG(seed, 99))
	s := &ruleSource{x: make([]float32, n*6), labels: make([]int, n), order: make([]int, n), batch: batch, drop: dropLast}
	for i := range n {
		row := s.x[i*6 : i*6+6]
		for j := range row {
			row[j] = float32(rng.NormFloat64())
		}
		if row[0] > 0 {
			s.labels[i]++
		}
		if row[1] > 0 {
			s.labels[i]++
		}
		s.order[i] = i
	}
	return s
}

func (s *ruleSource) Len() int {
	if s.drop {
		return len(s.labels) / s.batch
	}
	return (len(s.labels) + s.batch - 1) / s.batch
}

func (s *ruleSource) Size(i int) int { return min(s.batch, len(s.labels)-i*s.batch) }

func (s *ruleSource) Shuffle(rng *rand.Rand) {
	for i := range s.order {
		s.order[i] = i
	}
	rng.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
}

func (s *ruleSource) Fill(i int, b *datasets.Batch) (int, error) {
	n := s.Size(i)
	for k, e := range s.order[i*s.batch : i*s.batch+n] {
		copy(b.Inputs[0][k*6:k*6+6], s.x[e*6:e*6+6])
		if b.Targets != nil {
			row := b.Targets[k*3 : k*3+3]
			clear(row)
			row[s.labels[e]] = 1
		}
		if b.Labels != nil {
			b.Labels[k] = s.labels[e]
		}
	}
	return n, nil
}

// lineSource is n examples of 3 inputs with the value y = 2·x0 − x1 + 0.5
// (a regression), or with Binary set the label (y > 0.5) as a 0/1 target.
type lineSource struct {
	x, y   []float32
	batch  int
	binary bool
	order  []int
}

func newLineSource(seed uint64, n, batch int, binary bool) *lineSource {
	rng := rand.New(rand.NewPCG(seed, 77))
	s := &lineSource{x: make([]float32, n*3), y: make([]float32, n), batch: batch, binary: binary, order: make([]int, n)}
	for i := range n {
		for j := range 3 {
			s.x[i*3+j] = float32(rng.NormFloat64())
		}
		s.y[i] = 2*s.x[i*3] - s.x[i*3+1] + 0.5
		if binary {
			s.y[i] = 0
			if 2*s.x[i*3]-s.x[i*3+1] > 0.5 {
				s.y[i] = 1
			}
		}
		s.order[i] = i
	}
	return s
}

func (s *lineSource) Len() int       { return (len(s.y) + s.batch - 1) / s.batch }
func (s *lineSource) Size(i int) int { return min(s.batch, len(s.y)-i*s.batch) }
func (s *lineSource) Shuffle(rng *rand.Rand) {
	for i := range s.order {
		s.order[i] = i
	}
	rng.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
}

func (s *lineSource) Fill(i int, b *datasets.Batch) (int, error) {
	n := s.Size(i)
	for k, e := range s.order[i*s.batch : i*s.batch+n] {
		copy(b.Inputs[0][k*3:k*3+3], s.x[e*3:e*3+3])
		b.Targets[k] = s.y[e]
	}
	return n, nil
}

// funcSource wraps a source, letting a test change what Fill writes.
type funcSource struct {
	datasets.Source
	fill func(i int, b *datasets.Batch) (int, error)
}

func (s funcSource) Fill(i int, b *datasets.Batch) (int, error) { return s.fill(i, b) }
