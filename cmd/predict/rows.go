package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
)

// predictRows predicts every row of a CSV file with a tabular model and
// writes row,class,probability or row,value lines; a row that cannot be
// encoded (a missing column, an unseen category, a missing value) is
// reported and skipped.
func predictRows(m *graph.Model, ck *checkpoint.Checkpoint, model, path string, comma rune, stdout, stderr io.Writer) int {
	enc, err := encoderOf(ck)
	if err == nil {
		err = fitsEncoder(m, enc)
	}
	if err != nil {
		fmt.Fprintf(stderr, "predict: %s: %v\n", model, err)
		return 1
	}
	t, err := tabular.ReadDelimited(path, comma)
	if err != nil {
		fmt.Fprintf(stderr, "predict: %v\n", err)
		return 1
	}
	// A column the model needs is missing from every row: one error for
	// the file, not one for each of its rows.
	for _, c := range enc.Columns() {
		if _, err := t.Column(c.Name); err != nil {
			fmt.Fprintf(stderr, "predict: %s has no column %.40q, a feature of %s\n", path, c.Name, model)
			return 1
		}
	}
	w := csv.NewWriter(stdout)
	classify := enc.Target().Task == tabular.Classify
	if classify {
		_ = w.Write([]string{"row", enc.Target().Name, "probability"})
	} else {
		_ = w.Write([]string{"row", enc.Target().Name})
	}
	code := 0
	for r := 0; r < t.Len(); r++ {
		rec, err := predictRow(m, enc, t.Fields(r), classify)
		if err != nil {
			fmt.Fprintf(stderr, "predict: %s line %d: %v\n", path, t.Line(r, 0), err)
			code = 1
			continue
		}
		_ = w.Write(append([]string{strconv.Itoa(r + 1)}, rec...))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		fmt.Fprintf(stderr, "predict: writing the predictions: %v\n", err)
		return 1
	}
	return code
}

// predictRow returns the prediction of one row: the class and its
// probability, or the value in the target's unit.
func predictRow(m *graph.Model, enc *tabular.Encoder, fields map[string]string, classify bool) ([]string, error) {
	x, err := enc.EncodeRow(fields)
	if err != nil {
		return nil, err
	}
	if !classify {
		y, err := m.Predict(x)
		if err != nil {
			return nil, err
		}
		v, err := enc.Value(y[0])
		return []string{strconv.FormatFloat(v, 'g', 6, 64)}, err
	}
	p, err := m.Probabilities(x)
	if err != nil {
		return nil, err
	}
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	class, err := enc.Class(best)
	return []string{class, strconv.FormatFloat(p[best], 'f', 4, 64)}, err
}

// fitsEncoder says why m cannot take the rows enc encodes, if it cannot:
// as many inputs as the encoder's features, one score per class of a class
// target or one value of a regression target. (A checkpoint's metadata is
// covered by its digest, but one edited and resealed could pair a model
// with another's encoder.)
func fitsEncoder(m *graph.Model, enc *tabular.Encoder) error {
	if len(m.Arch.Inputs) != 1 || m.InSize(0) != enc.Width() {
		return errors.Errorf("the model takes %d inputs of %d values, its encoder (metadata field %s) makes %d features", len(m.Arch.Inputs), m.InSize(0), tabular.MetaKey, enc.Width())
	}
	t := enc.Target()
	if _, ok := m.Arch.Loss.(graph.Classifier); t.Task == tabular.Classify && (!ok || m.OutSize() != len(t.Classes)) {
		return errors.Errorf("the model outputs %d values, its encoder's target %.40q has %d classes", m.OutSize(), t.Name, len(t.Classes))
	}
	if t.Task == tabular.Regress && (m.Arch.Loss.Labels() || m.OutSize() != 1) {
		return errors.Errorf("the model outputs %d values, its encoder's target %.40q is one value", m.OutSize(), t.Name)
	}
	return nil
}

// encoderOf returns the encoder a tabular run saved in its checkpoint.
func encoderOf(ck *checkpoint.Checkpoint) (*tabular.Encoder, error) {
	s, ok := ck.Meta[tabular.MetaKey]
	if !ok {
		return nil, errors.New("not a model trained with cmd/train -csv (it has no tabular encoder); predict images with it instead")
	}
	enc := new(tabular.Encoder)
	if err := json.Unmarshal([]byte(s), enc); err != nil {
		return nil, errors.Wrapf(err, "metadata field %s", tabular.MetaKey)
	}
	return enc, nil
}
