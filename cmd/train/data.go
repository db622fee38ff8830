package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
)

// data is what a run trains, validates (val may be nil) and tests on, as
// sources of batches, with their sizes; a tabular run's also carries the
// encoder fitted on its training rows.
type data struct {
	train, val, test    datasets.Source
	trainN, valN, testN int
	enc                 *tabular.Encoder
	// rows are a tabular run's row numbers (0-based, after the header) of
	// each set, for rows.json; Test is nil when TestCSV is the test set.
	rows struct{ Train, Validation, Test []int }
}

// Generator streams of a run's seed beyond the model's and the trainer's
// (1 to 3): the rows a tabular run tests on, and those it validates on.
const (
	streamTestRows = 4
	streamValRows  = 5
)

// metaEncoder is the checkpoint metadata key of a tabular run's encoder.
const metaEncoder = tabular.MetaKey

// prepareData reads the run's data: MNIST, or the CSV file of a tabular
// run. A resumed tabular run passes the encoder it saved, which the data
// must still fit exactly.
func prepareData(ctx context.Context, o *Options, saved *tabular.Encoder, stderr io.Writer) (*data, error) {
	if o.tabular() {
		return prepareTabular(ctx, o, saved, stderr)
	}
	return prepareMNIST(ctx, *o, stderr)
}

// prepareMNIST finds (or downloads) MNIST, loads it, holds out the
// validation images and cuts the sets into batches.
func prepareMNIST(ctx context.Context, o Options, stderr io.Writer) (*data, error) {
	dir, err := dataDir(ctx, o.IO, stderr)
	if err != nil {
		return nil, err
	}
	full, err := mnist.Load(dir, mnist.Train)
	if err != nil {
		return nil, err
	}
	test, err := mnist.Load(dir, mnist.Test)
	if err != nil {
		return nil, err
	}
	trainSet, valSet, err := full.Split(o.Val)
	if err != nil {
		return nil, err
	}
	if o.Limit > 0 && o.Limit < trainSet.Len() {
		trainSet = trainSet.Subset(0, o.Limit)
	}
	if o.Batch > trainSet.Len() {
		return nil, errors.Errorf("batch size %d is larger than the %d training images", o.Batch, trainSet.Len())
	}
	d := &data{trainN: trainSet.Len(), testN: test.Len()}
	if d.train, err = mnist.NewBatches(trainSet, o.Batch, true); err != nil {
		return nil, err
	}
	if valSet != nil {
		d.valN = valSet.Len()
		if d.val, err = mnist.NewBatches(valSet, 1000, false); err != nil {
			return nil, err
		}
	}
	if d.test, err = mnist.NewBatches(test, 1000, false); err != nil {
		return nil, err
	}
	return d, nil
}

// prepareTabular reads the CSV file, holds out the test rows (a seeded
// 20%, or the rows of TestCSV), chooses the hidden layers by
// cross-validation if o.Hidden is nil (setting it), holds out the
// validation rows, fits the encoder on the training rows alone, and encodes
// every set with it.
func prepareTabular(ctx context.Context, o *Options, saved *tabular.Encoder, stderr io.Writer) (*data, error) {
	t, err := tabular.ReadDelimited(o.CSV, o.comma())
	if err != nil {
		return nil, err
	}
	// The target first, before cross-validation would fail on it in every
	// fold.
	if _, err := t.Column(o.Target); err != nil {
		return nil, errors.Wrap(err, "the target")
	}
	rows, testRows, err := splitRows(t.Len(), 0.2, o.TestCSV == "", o.Seed, streamTestRows)
	if err != nil {
		return nil, errors.Wrapf(err, "holding out test rows of %s", o.CSV)
	}
	if o.Hidden == nil {
		if o.Hidden, err = selectHidden(ctx, *o, t, rows, stderr); err != nil {
			return nil, err
		}
	}
	trainRows, valRows, err := splitRows(len(rows), o.ValFraction, true, o.Seed, streamValRows)
	if err != nil {
		return nil, errors.Wrapf(err, "holding out validation rows of %s", o.CSV)
	}
	trainRows, valRows = pick(rows, trainRows), pick(rows, valRows)
	enc, err := fitEncoder(t, trainRows, *o, saved)
	if err != nil {
		return nil, err
	}
	d := &data{enc: enc}
	d.rows.Train, d.rows.Validation = trainRows, valRows
	if o.TestCSV == "" {
		d.rows.Test = testRows
	}
	if d.train, d.trainN, err = encodeRows(enc, t, trainRows, o.Batch); err != nil {
		return nil, err
	}
	if len(valRows) > 0 {
		if d.val, d.valN, err = encodeRows(enc, t, valRows, 256); err != nil {
			return nil, err
		}
	}
	testTable := t
	if o.TestCSV != "" {
		if testTable, err = tabular.ReadDelimited(o.TestCSV, o.comma()); err != nil {
			return nil, err
		}
		testRows = allRows(testTable.Len())
	}
	if d.test, d.testN, err = encodeRows(enc, testTable, testRows, 256); err != nil {
		return nil, errors.Wrap(err, "the test rows")
	}
	return d, nil
}

// splitRows splits 0..n-1 into a seeded fraction and the rest, or keeps them
// all when split is false.
func splitRows(n int, fraction float64, split bool, seed, stream uint64) (rest, part []int, err error) {
	if !split || fraction == 0 {
		return allRows(n), nil, nil
	}
	return tabular.SplitRows(n, fraction, rand.New(rand.NewPCG(seed, stream)))
}

func allRows(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}

// pick returns rows[idx[0]], rows[idx[1]], ….
func pick(rows, idx []int) []int {
	out := make([]int, len(idx))
	for i, k := range idx {
		out[i] = rows[k]
	}
	return out
}

// fitEncoder fits the encoder on the training rows; a resumed run's must be
// the one it saved, or the data are not what it trained on.
func fitEncoder(t *tabular.Table, rows []int, o Options, saved *tabular.Encoder) (*tabular.Encoder, error) {
	cfg := tabular.Config{Target: o.Target, Categorical: o.Categorical}
	switch o.Task {
	case "classify":
		cfg.Task = tabular.Classify
	case "regress":
		cfg.Task = tabular.Regress
	}
	enc, err := tabular.Fit(t, rows, cfg)
	if err != nil || saved == nil {
		return enc, err
	}
	a, errA := json.Marshal(enc)
	b, errB := json.Marshal(saved)
	if errA != nil || errB != nil || string(a) != string(b) {
		return nil, errors.Errorf("%s is not the data the checkpoint was trained on: its training rows give another encoding", o.CSV)
	}
	return saved, nil
}

// encodeRows encodes rows of t and cuts them into batches.
func encodeRows(enc *tabular.Encoder, t *tabular.Table, rows []int, batch int) (datasets.Source, int, error) {
	d, err := enc.Encode(t, rows)
	if err != nil {
		return nil, 0, err
	}
	if batch > d.Len() {
		batch = d.Len()
	}
	b, err := d.Batches(batch, false)
	return b, d.Len(), err
}

// savedEncoder returns the encoder a tabular run's checkpoint saved, or nil.
func savedEncoder(ck *checkpoint.Checkpoint) (*tabular.Encoder, error) {
	if ck == nil || ck.Meta[metaEncoder] == "" {
		return nil, nil
	}
	enc := new(tabular.Encoder)
	if err := json.Unmarshal([]byte(ck.Meta[metaEncoder]), enc); err != nil {
		return nil, errors.Wrapf(err, "metadata field %s", metaEncoder)
	}
	return enc, nil
}

// tabularArch is the MLP of a tabular run: the encoder's features in, one
// score per class (softmax cross-entropy) or one standardized value (MSE)
// out.
func tabularArch(o Options, enc *tabular.Encoder) (graph.Arch, error) {
	cfg := mlp.Config{Inputs: enc.Width(), Hidden: o.Hidden, Dropout: o.Dropout, NoDropout: o.Dropout == 0}
	if t := enc.Target(); t.Task == tabular.Classify {
		cfg.Outputs = len(t.Classes)
	} else {
		cfg.Outputs, cfg.Loss = 1, graph.MSE{}
	}
	return mlp.New(cfg)
}
