package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"

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
// confusion.png in o.Out (or the file's folder), with or without o.Quiet
// (which prints only the last line). o.Out is refused for a model that is
// no such classifier, which writes no file there; so are the settings that
// find MNIST (Data, Download, Mirrors) for a tabular model. o.CPUProfile,
// if set, receives a CPU profile of the whole evaluation, the loading
// included (a usage error removes it again).
//
// The model must fit the data: one input of 784 values and 10 outputs for
// MNIST; for a tabular model, as many inputs as its encoder makes and one
// output per class (or one value). A signal while the model or the data
// load, or while it evaluates, ends Eval at once, writing nothing (but the
// profile of what ran, if o.CPUProfile asks for one). Eval
// reads no saved run option: the checkpoint's architecture (checked against
// its tensors as it loads) and a tabular run's encoder are all it uses.
func Eval(ctx context.Context, o Options, stdout io.Writer) (err error) {
	if err := o.IO.Validate(); err != nil {
		return usageError{err}
	}
	if err := blas.Use(o.BLAS); err != nil {
		return err
	}
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return err
	}
	defer func() {
		stopProfile()
		// Settings refused once the model is known leave no file, as
		// those refused before.
		var usage usageError
		if errors.As(err, &usage) && o.CPUProfile != "" {
			os.Remove(o.CPUProfile)
		}
	}()
	var m *graph.Model
	var enc *tabular.Encoder
	if err := interruptible(ctx, "loading "+o.Eval, func() (err error) { m, enc, err = evalModel(o); return err }); err != nil {
		return err
	}
	if err := evalSettings(o, m, enc); err != nil {
		return err
	}
	if o.ExportTorch != "" {
		if err := checkpoint.ExportTorch(m, o.ExportTorch); err != nil {
			return err
		}
	}
	var src datasets.Source
	var classes []string
	if err := interruptible(ctx, "reading the test data", func() (err error) { src, classes, err = evalData(ctx, o, m, enc); return err }); err != nil {
		return err
	}
	var r *train.Report
	if err := interruptible(ctx, "evaluating "+o.Eval, func() (err error) {
		r, err = train.Evaluate(m, src)
		return errors.Wrapf(err, "evaluating %s", o.Eval)
	}); err != nil {
		return err
	}
	if r.Predicted != nil {
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
		return nil, nil, err
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

// evalSettings refuses the settings the evaluation of m would not use,
// before anything is written: the CSV settings for an MNIST model, those
// that find MNIST for a tabular one (which also needs its rows, from -csv
// or -test-csv: one file, not two), and an output folder for a model whose
// evaluation draws no confusion.png into it.
func evalSettings(o Options, m *graph.Model, enc *tabular.Encoder) error {
	if enc == nil {
		if o.CSV != "" || o.TestCSV != "" || o.Delimiter != "" {
			return usageError{errors.Errorf("%s is an MNIST model; -csv, -test-csv and -delimiter are for tabular ones", o.Eval)}
		}
	} else {
		if err := o.refuseMNIST("-eval of " + o.Eval + ", a tabular model evaluated on the rows of -csv"); err != nil {
			return err
		}
		switch {
		case o.CSV == "" && o.TestCSV == "":
			return usageError{errors.Errorf("%s is a tabular model: say the rows to evaluate on with -csv FILE", o.Eval)}
		case o.CSV != "" && o.TestCSV != "":
			return usageError{errors.Errorf("-csv and -test-csv cannot both be given with -eval of %s: it evaluates on the rows of one file (-csv FILE)", o.Eval)}
		}
	}
	if o.Out != "" && !m.Arch.Loss.Labels() {
		return usageError{errors.Errorf("-out cannot be given with -eval of %s: -out is the folder of confusion.png, which only a classifier's evaluation draws, and this model predicts values, not classes", o.Eval)}
	}
	return nil
}

// evalData returns the examples to evaluate m on and the class names of a
// classifier, once m has been found to fit them and evalSettings has
// accepted o.
func evalData(ctx context.Context, o Options, m *graph.Model, enc *tabular.Encoder) (datasets.Source, []string, error) {
	if enc == nil {
		if len(m.Arch.Inputs) != 1 || m.InSize(0) != mnist.Pixels || m.OutSize() != mnist.Classes {
			return nil, nil, errors.Errorf("%s takes %s and outputs %s: an MNIST model takes one 28×28 image (784 values) and outputs 10 class scores",
				o.Eval, inputsOf(m), shapeOf(m.OutShape()))
		}
		dir, err := dataDir(ctx, o.IO, io.Discard)
		if err != nil {
			return nil, nil, err
		}
		test, err := mnist.Load(dir, mnist.Test)
		if err != nil {
			return nil, nil, err
		}
		b, err := mnist.NewBatches(test, evalBatch(m, 1000, test.Len()), false)
		return b, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, err
	}
	if err := fitsEncoder(m, enc); err != nil {
		return nil, nil, errors.Wrapf(err, "%s", o.Eval)
	}
	path := o.TestCSV
	if path == "" {
		path = o.CSV
	}
	comma, err := tabular.ParseDelimiter(o.Delimiter)
	if err != nil {
		return nil, nil, usageError{err}
	}
	t, err := tabular.ReadDelimited(path, comma)
	if err != nil {
		return nil, nil, err
	}
	src, _, err := encodeRows(enc, t, allRows(t.Len()), evalBatch(m, 256, t.Len()))
	return src, enc.Target().Classes, err
}

// evalValues bounds the values an evaluation's programs hold at once:
// 2^27, half a gigabyte of float32. A checkpoint may ask for up to
// checkpoint.MaxActivations per example; the batch shrinks so that a large
// one cannot multiply that by a thousand. (At 2^28 a crafted 1×1
// convolution padded by 1024, 6·10^6 values an example, made -eval of 42
// rows allocate one 1 GiB output on top of 1.2 GiB in use.) The mlp and
// lenet5 presets evaluate MNIST's test images in batches of 1000 within
// it; the cnn preset, whose program needs 1.5·10^8 values at 1000, in
// smaller ones, with the same results (9939/10000 either way).
const evalValues = 1 << 27

// evalBatch is the largest batch of at most want examples whose programs,
// for n examples, hold at most evalValues: train.Evaluate runs a last,
// partial batch in a program of its own while the full batch's is still
// kept, so both count, each with its examples' activations and the
// convolutions' workspace for each part (at most one per example and one
// per worker) its batch is split into.
func evalBatch(m *graph.Model, want, n int) int {
	size, err := checkpoint.Measure(m.Arch)
	if err != nil || size.Activations+size.Workspace == 0 {
		return want
	}
	procs := runtime.GOMAXPROCS(0)
	cost := func(b int) int { return b*size.Activations + min(b, procs)*size.Workspace }
	for b := min(want, max(n, 1)); b > 1; b-- {
		if cost(b)+cost(n%b) <= evalValues {
			return b
		}
	}
	return 1
}

// fitsEncoder says why m cannot take the rows enc encodes, if it cannot: as
// many inputs as the encoder's features, one score per class of a class
// target (a cross-entropy) or one value of a regression target.
func fitsEncoder(m *graph.Model, enc *tabular.Encoder) error {
	if len(m.Arch.Inputs) != 1 || m.InSize(0) != enc.Width() {
		return errors.Errorf("the model takes %s, its encoder (metadata field %s) makes %d features", inputsOf(m), metaEncoder, enc.Width())
	}
	t := enc.Target()
	if t.Task == tabular.Classify && (!m.Arch.Loss.Labels() || m.OutSize() != len(t.Classes)) {
		return errors.Errorf("the model outputs %s, its encoder's target %.40q has %d classes", shapeOf(m.OutShape()), t.Name, len(t.Classes))
	}
	if t.Task == tabular.Regress && (m.Arch.Loss.Labels() || m.OutSize() != 1) {
		return errors.Errorf("the model outputs %s, its encoder's target %.40q is one value", shapeOf(m.OutShape()), t.Name)
	}
	return nil
}

// inputsOf describes a model's inputs for an error: "[784]", or the
// shapes of several.
func inputsOf(m *graph.Model) string {
	parts := make([]string, len(m.Arch.Inputs))
	for i, in := range m.Arch.Inputs {
		parts[i] = shapeOf(in.Shape)
	}
	if len(parts) > 4 {
		parts = append(parts[:4], "…")
	}
	return strings.Join(parts, ", ")
}

// shapeOf writes a shape for an error, cut after eight dimensions.
func shapeOf(s []int) string {
	if len(s) > 8 {
		return strings.TrimSuffix(fmt.Sprint(s[:8]), "]") + " …]"
	}
	return fmt.Sprint(s)
}

// confusion draws the confusion matrix to confusion.png and, unless
// o.Quiet, prints per-class precision and recall and the matrix.
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
	if o.Quiet {
		return nil
	}
	fmt.Fprint(stdout, conf.Text())
	fmt.Fprintf(stdout, "confusion heatmap: %s\n", png)
	return nil
}
