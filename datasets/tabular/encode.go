package tabular

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets"
)

// Width returns the number of features a row encodes to: one a numeric
// column, one a category of a categorical column.
func (e *Encoder) Width() int { return e.width }

// Features returns the name of each feature, in order: a numeric column's
// name, and "column=category" for each category of a categorical column
// ("colour=red").
func (e *Encoder) Features() []string {
	names := make([]string, 0, e.width)
	for _, c := range e.columns {
		if c.Kind == Numeric {
			names = append(names, c.Name)
			continue
		}
		for _, v := range c.Categories {
			names = append(names, c.Name+"="+v)
		}
	}
	return names
}

// Columns returns the feature columns as fitted, in the file's order.
func (e *Encoder) Columns() []Column {
	cols := slices.Clone(e.columns)
	for i := range cols {
		cols[i].Categories = slices.Clone(cols[i].Categories)
	}
	return cols
}

// Target returns the target as fitted.
func (e *Encoder) Target() Target {
	tg := e.target
	tg.Classes = slices.Clone(tg.Classes)
	return tg
}

// Encode encodes the given rows of t, which need not be the rows the
// encoder was fitted on nor even the same file, as long as it has the
// columns: features [n, Width()], with the labels (Classify) or the
// standardized targets [n, 1] (Regress). An error names the file, line and
// column of the cell at fault: a missing value, a cell that is not a number
// in a numeric column, a category or class the training rows did not have.
func (e *Encoder) Encode(t *Table, rows []int) (*datasets.Dataset, error) {
	x, err := e.EncodeFeatures(t, rows)
	if err != nil {
		return nil, err
	}
	col, err := t.Column(e.target.Name)
	if err != nil {
		return nil, errors.Wrap(err, "the target")
	}
	if e.target.Task == Classify {
		labels := make([]int, len(rows))
		for i, r := range rows {
			if labels[i], _, err = e.encodeTarget(t.Cell(r, col)); err != nil {
				return nil, errors.Wrap(err, t.at(r, col))
			}
		}
		return datasets.New(x, []int{e.width}, labels)
	}
	y := make([]float32, len(rows))
	for i, r := range rows {
		if _, y[i], err = e.encodeTarget(t.Cell(r, col)); err != nil {
			return nil, errors.Wrap(err, t.at(r, col))
		}
	}
	return datasets.NewTargets(x, []int{e.width}, y, []int{1})
}

// EncodeFeatures encodes the features of the given rows of t, [n, Width()],
// as Encode does; t need not have the target column (rows to predict).
func (e *Encoder) EncodeFeatures(t *Table, rows []int) ([]float32, error) {
	if err := checkRows(t, rows); err != nil {
		return nil, err
	}
	cols := make([]int, len(e.columns))
	for k, c := range e.columns {
		var err error
		if cols[k], err = t.Column(c.Name); err != nil {
			return nil, errors.Wrap(err, "a feature")
		}
	}
	x := make([]float32, len(rows)*e.width)
	for i, r := range rows {
		dst := x[i*e.width : (i+1)*e.width]
		for k, col := range cols {
			if err := e.encodeCell(k, t.Cell(r, col), dst); err != nil {
				return nil, errors.Wrap(err, t.at(r, col))
			}
		}
	}
	return x, nil
}

// A MissingColumnError is EncodeRow's error for a row without a value for a
// feature column.
type MissingColumnError struct {
	Column string
}

func (e *MissingColumnError) Error() string {
	return "tabular: the row has no column " + quote(e.Column)
}

// EncodeRow encodes one row to predict, given as column name → cell (Table's
// Fields, a form, a JSON object), and returns its Width() features. Columns
// that are not features (the target, an identifier) are ignored; a feature
// column missing from fields is a *MissingColumnError. Spaces around a cell
// are dropped, as Parse drops them.
func (e *Encoder) EncodeRow(fields map[string]string) ([]float32, error) {
	x := make([]float32, e.width)
	for k, c := range e.columns {
		cell, ok := fields[c.Name]
		if !ok {
			return nil, &MissingColumnError{Column: c.Name}
		}
		if err := e.encodeCell(k, strings.TrimSpace(cell), x); err != nil {
			return nil, errors.Wrapf(err, "column %s", quote(c.Name))
		}
	}
	return x, nil
}

// encodeCell writes the features of column k's cell into the row x.
func (e *Encoder) encodeCell(k int, cell string, x []float32) error {
	c := &e.columns[k]
	at := e.offsets[k]
	if c.Kind == Numeric {
		v, err := parseNumber(cell)
		if err != nil {
			return err
		}
		x[at], err = to32((v - c.Mean) / c.Std)
		return err
	}
	if isMissing(cell) {
		return missing(cell)
	}
	i, ok := e.vocab[k][cell]
	if !ok {
		return errors.Errorf("%s is not one of the %d categories of the training rows", quote(cell), len(c.Categories))
	}
	clear(x[at : at+len(c.Categories)])
	x[at+i] = 1
	return nil
}

// encodeTarget returns the label (Classify) or standardized value (Regress)
// of a target cell.
func (e *Encoder) encodeTarget(cell string) (label int, y float32, err error) {
	tg := &e.target
	if tg.Task == Regress {
		v, err := parseNumber(cell)
		if err != nil {
			return 0, 0, err
		}
		y, err = to32((v - tg.Mean) / tg.Std)
		return 0, y, err
	}
	if isMissing(cell) {
		return 0, 0, missing(cell)
	}
	ok := false
	if tg.NumericClasses {
		var v float64
		if v, err = parseNumber(cell); err == nil {
			label, ok = e.classAt[v]
		}
	} else {
		label, ok = e.classOf[cell]
	}
	if !ok {
		return 0, 0, errors.Errorf("class %s is not one of the %d of the training rows", quote(cell), len(tg.Classes))
	}
	return label, 0, nil
}

// to32 converts a standardized value, refusing one beyond float32.
func to32(z float64) (float32, error) {
	f := float32(z)
	if math.IsInf(float64(f), 0) {
		return 0, errors.Errorf("standardizes to %v, beyond a float32: too far from the training rows", z)
	}
	return f, nil
}

// Class returns the name of class label, as the training rows' file spells
// it (a numeric class as strconv formats it), for a classifier's prediction.
func (e *Encoder) Class(label int) (string, error) {
	if e.target.Task != Classify {
		return "", errors.Errorf("the target %s is a number to regress, not a class", quote(e.target.Name))
	}
	if label < 0 || label >= len(e.target.Classes) {
		return "", errors.Errorf("label %d, want 0..%d", label, len(e.target.Classes)-1)
	}
	return e.target.Classes[label], nil
}

// Value returns a regression model's standardized output z in the target's
// unit: z·Std + Mean. (An error, such as an RMSE, scales by Std alone.)
func (e *Encoder) Value(z float64) (float64, error) {
	if e.target.Task != Regress {
		return 0, errors.Errorf("the target %s is a class, not a number to regress", quote(e.target.Name))
	}
	return z*e.target.Std + e.target.Mean, nil
}

// SplitRows shuffles the rows 0..n-1 with rng and returns a fraction
// testFraction of them as test, the rest as train, as datasets.SplitIndices
// does: the same generator state gives the same split.
func SplitRows(n int, testFraction float64, rng *rand.Rand) (train, test []int, err error) {
	return datasets.SplitIndices(n, testFraction, rng)
}
