package train

import (
	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
)

// Evaluate runs the model's inference programs over every example of src
// exactly once (a last partial batch runs in a program of its own size) and
// returns the number classified correctly and the total. If pred is not nil,
// each example's predicted class is appended to it.
func Evaluate(m *graph.Model, src Source, pred *[]int) (correct, total int, err error) {
	nb := src.Len()
	if nb == 0 {
		return 0, 0, errors.New("evaluate: the source has no batches")
	}
	prog, err := m.Infer(src.Size(0))
	if err != nil {
		return 0, 0, err
	}
	x := prog.X.Data().([]float32)
	labels := make([]int, prog.Batch)
	guess := make([]int, prog.Batch)
	for i := 0; i < nb; i++ {
		n := src.Fill(i, x, nil, labels)
		run := prog
		if n != prog.Batch {
			if run, err = m.Infer(n); err != nil {
				return 0, 0, err
			}
			copy(run.X.Data().([]float32), x[:n*m.InSize()])
		}
		if err := run.Run(); err != nil {
			return 0, 0, errors.Wrapf(err, "evaluating batch %d", i)
		}
		graph.Argmax(run.Logits(), guess[:n])
		for j := 0; j < n; j++ {
			if guess[j] == labels[j] {
				correct++
			}
		}
		if pred != nil {
			*pred = append(*pred, guess[:n]...)
		}
		total += n
	}
	return correct, total, nil
}
