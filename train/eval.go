package train

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/report"
)

// LoadModel rebuilds the model a checkpoint holds, with its weights.
func LoadModel(path string) (*graph.Model, *checkpoint.Checkpoint, error) {
	ck, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	arch, err := models.FromConfig(ck.Kind, ck.Config)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "loading %s", path)
	}
	// The weights are overwritten by Restore; the seed only fills them first.
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, nil, errors.Wrapf(err, "loading %s", path)
	}
	if err := ck.Restore(m); err != nil {
		return nil, nil, errors.Wrapf(err, "loading %s", path)
	}
	return m, ck, nil
}

// Eval evaluates the checkpoint at path on the 10,000 MNIST test images and
// writes a report to stdout: accuracy, per-class precision and recall, and
// the confusion matrix; the heatmap goes to confusion.png in o.Out (or the
// checkpoint's folder). The last line is FormatAccuracy's.
func Eval(ctx context.Context, path string, o Options, stdout, stderr io.Writer) (*report.Confusion, error) {
	useBLAS(o.BLAS)
	m, _, err := LoadModel(path)
	if err != nil {
		return nil, err
	}
	dir, err := dataDir(ctx, o, stderr)
	if err != nil {
		return nil, err
	}
	test, err := mnist.Load(dir, "t10k")
	if err != nil {
		return nil, err
	}
	b, err := mnist.NewBatches(test, 1000, nil, false)
	if err != nil {
		return nil, err
	}
	if o.ExportTorch != "" {
		if err := checkpoint.ExportTorch(m, o.ExportTorch); err != nil {
			return nil, err
		}
	}
	var pred []int
	if _, _, err := graph.Evaluate(m, b, &pred); err != nil {
		return nil, errors.Wrapf(err, "evaluating %s", path)
	}
	labels := make([]int, test.Len())
	for i, l := range test.Labels {
		labels[i] = int(l)
	}
	conf, err := report.NewConfusion(10, labels, pred)
	if err != nil {
		return nil, err
	}
	out := o.Out
	if out == "" {
		out = filepath.Dir(path)
	}
	png := filepath.Join(out, "confusion.png")
	if err := conf.WritePNG(png, "confusion matrix: "+filepath.Base(path)); err != nil {
		return nil, err
	}
	fmt.Fprint(stdout, conf.Text())
	fmt.Fprintf(stdout, "confusion heatmap: %s\n", png)
	fmt.Fprintln(stdout, FormatAccuracy(conf.Correct(), conf.Total()))
	return conf, nil
}
