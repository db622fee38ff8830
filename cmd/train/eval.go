package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/blas"
	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/report"
	"github.com/tapestry-ml/tapestry/train"
)

// Eval evaluates the checkpoint o.Eval on the 10,000 MNIST test images and
// writes a report to stdout: accuracy, per-class precision and recall, and
// the confusion matrix; the heatmap goes to confusion.png in o.Out (or the
// checkpoint's folder). The last line is FormatAccuracy's.
func Eval(ctx context.Context, o Options, stdout io.Writer) (*report.Confusion, error) {
	if err := blas.Use(o.BLAS); err != nil {
		return nil, err
	}
	path := o.Eval
	m, _, err := models.Load(path)
	if err != nil {
		return nil, err
	}
	dir, err := dataDir(ctx, o.IO, io.Discard)
	if err != nil {
		return nil, err
	}
	test, err := mnist.Load(dir, mnist.Test)
	if err != nil {
		return nil, err
	}
	b, err := mnist.NewBatches(test, 1000, false)
	if err != nil {
		return nil, err
	}
	if o.ExportTorch != "" {
		if err := checkpoint.ExportTorch(m, o.ExportTorch); err != nil {
			return nil, err
		}
	}
	r, err := train.Evaluate(m, b)
	if err != nil {
		return nil, errors.Wrapf(err, "evaluating %s", path)
	}
	conf, err := report.NewConfusion(mnist.Classes, r.Labels, r.Predicted)
	if err != nil {
		return nil, err
	}
	out := o.Out
	if out == "" {
		out = filepath.Dir(path)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, errors.Wrap(err, "creating the output folder")
	}
	png := filepath.Join(out, "confusion.png")
	if err := conf.WritePNG(png, "confusion matrix: "+filepath.Base(path)); err != nil {
		return nil, err
	}
	if !o.Quiet {
		fmt.Fprint(stdout, conf.Text())
		fmt.Fprintf(stdout, "confusion heatmap: %s\n", png)
	}
	fmt.Fprintln(stdout, FormatAccuracy(conf.Correct(), conf.Total()))
	return conf, nil
}
