package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/report"
	"github.com/tapestry-ml/tapestry/train"
)

// Eval evaluates the model in o.Eval and writes a report to stdout ending
// with the same last line as a run. The file is a checkpoint of cmd/train
// (its architecture in the file), or a PyTorch state_dict of the preset
// -model names. An MNIST model is tested on the 10,000 test images; a
// tabular one on every row of o.CSV (or o.TestCSV). A classifier's report
// has per-class precision and recall and the confusion matrix, drawn to
// confusion.png in o.Out (or the file's folder).
func Eval(ctx context.Context, o Options, stdout io.Writer) error {
	if err := blas.Use(o.BLAS); err != nil {
		return err
	}
	m, enc, err := evalModel(o)
	if err != nil {
		return err
	}
	if o.ExportTorch != "" {
		if err := checkpoint.ExportTorch(m, o.ExportTorch); err != nil {
			return err
		}
	}
	src, classes, err := evalData(ctx, o, enc)
	if err != nil {
		return err
	}
	r, err := train.Evaluate(m, src)
	if err != nil {
		return errors.Wrapf(err, "evaluating %s", o.Eval)
	}
	if r.Predicted != nil && !o.Quiet {
		if err := confusion(o, r, classes, stdout); err != nil {
			return err
		}
	}
	line, _, _ := testLine(r, enc)
	fmt.Fprintln(stdout, line)
	return nil
}

// evalModel loads the model to evaluate and, for a tabular run's
// checkpoint, its encoder.
func evalModel(o Options) (*graph.Model, *tabular.Encoder, error) {
	ck, err := checkpoint.Load(o.Eval)
	if errors.Is(err, checkpoint.ErrNotCheckpoint) {
		return torchModel(o)
	}
	if err != nil {
		return nil, nil, err
	}
	if o.Model != "" {
		return nil, nil, usageError{errors.Errorf("-model cannot be given with -eval of %s: the checkpoint says what the model is (-model is for PyTorch state_dict files)", o.Eval)}
	}
	m, err := models.FromCheckpoint(ck)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "loading %s", o.Eval)
	}
	enc, err := savedEncoder(ck)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "loading %s", o.Eval)
	}
	return m, enc, nil
}

// torchModel builds the preset o.Model and loads a PyTorch state_dict into
// it.
func torchModel(o Options) (*graph.Model, *tabular.Encoder, error) {
	if o.Model == "" {
		return nil, nil, usageError{errors.Errorf("%s is not a tapestry checkpoint; to evaluate a PyTorch state_dict, say its architecture with -model", o.Eval)}
	}
	arch, err := models.Preset(o.Model)
	if err != nil {
		return nil, nil, usageError{err}
	}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, nil, err
	}
	return m, nil, checkpoint.ImportTorch(m, o.Eval)
}

// evalData returns the examples to evaluate on and the class names of a
// classifier.
func evalData(ctx context.Context, o Options, enc *tabular.Encoder) (datasets.Source, []string, error) {
	if enc == nil {
		if o.CSV != "" || o.TestCSV != "" {
			return nil, nil, usageError{errors.Errorf("%s is an MNIST model; -csv and -test-csv are for tabular ones", o.Eval)}
		}
		dir, err := dataDir(ctx, o.IO, io.Discard)
		if err != nil {
			return nil, nil, err
		}
		test, err := mnist.Load(dir, mnist.Test)
		if err != nil {
			return nil, nil, err
		}
		b, err := mnist.NewBatches(test, 1000, false)
		return b, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, err
	}
	path := o.TestCSV
	if path == "" {
		path = o.CSV
	}
	if path == "" {
		return nil, nil, usageError{errors.Errorf("%s is a tabular model: say the rows to evaluate on with -csv FILE", o.Eval)}
	}
	t, err := tabular.Read(path)
	if err != nil {
		return nil, nil, err
	}
	src, _, err := encodeRows(enc, t, allRows(t.Len()), 256)
	return src, enc.Target().Classes, err
}

// confusion prints per-class precision and recall and the confusion matrix,
// and draws it to confusion.png.
func confusion(o Options, r *train.Report, classes []string, stdout io.Writer) error {
	conf, err := report.NewConfusion(len(classes), r.Labels, r.Predicted)
	if err != nil {
		return err
	}
	out := o.Out
	if out == "" {
		out = filepath.Dir(o.Eval)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return errors.Wrap(err, "creating the output folder")
	}
	png := filepath.Join(out, "confusion.png")
	if err := conf.WritePNG(png, "confusion matrix: "+filepath.Base(o.Eval)); err != nil {
		return err
	}
	fmt.Fprint(stdout, conf.Text())
	fmt.Fprintf(stdout, "confusion heatmap: %s\n", png)
	return nil
}
