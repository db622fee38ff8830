package tabular

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// A Task is what a model learns of the target column.
type Task int

const (
	// Infer lets Fit choose: Classify for a column of text, or of whole
	// numbers taking at most MaxInferredClasses values in the training
	// rows; Regress otherwise. A column of numbers but for a few cells (see
	// MaxStrayPercent) is an error, as a feature column is.
	Infer Task = iota
	// Classify predicts a class, one of the target's values.
	Classify
	// Regress predicts a number.
	Regress
)

// MaxInferredClasses is the most distinct values a target of whole numbers
// may take for Infer to make it a class: 20 is above the class counts of
// tabular classification (2 for yes/no, 3 for iris and wine, 7 for forest
// cover, 10 for digits) and below what a count, an age or a price in whole
// units takes over a training set of any size. A rating of 1..10 is
// ambiguous: say Regress to treat it as a number.
const MaxInferredClasses = 20

// MaxCategories is the most distinct values a categorical column may have
// in the training rows. One-hot encoding gives each value a feature, and a
// column of more is an identifier, free text, or a numeric column with many
// cells that are not numbers: Ignore it, or fix the cells.
const MaxCategories = 1000

// MaxStrayPercent is the largest share of a column's training cells, in
// percent, that may fail to parse as numbers for Fit to refuse the column
// as numbers with mistakes in it rather than take it as text. A column is
//
//   - Numeric if every training cell is a number;
//   - an error if some are not but they are at most MaxStrayPercent of the
//     training cells ("1.5x", "12 kg" or "1,5" among 200 numbers): the
//     error names the first of them, with their lines, and asks to correct
//     them or to declare the column in Config.Categorical;
//   - Categorical otherwise, when more than MaxStrayPercent of the cells
//     are not numbers, or the column is in Config.Categorical.
//
// A typo is one cell in hundreds; treating its column as text would make
// every number a category of its own, which the model cannot generalize
// from and which no new number is one of. A column of text with some
// numbers among its values (sizes "8", "10" and "XL"; "3", "4B") has more
// than a tenth of words, or is small enough that one word is more than a
// tenth: fewer than 10 training rows never give the error. Missing values
// are not counted: they are an error of their own.
const MaxStrayPercent = 10

// A Kind is how a feature column is encoded.
type Kind int

const (
	// Numeric columns are numbers in every training row, encoded as
	// (value - Mean) / Std.
	Numeric Kind = iota + 1
	// Categorical columns hold text, encoded one-hot: a feature a category.
	Categorical
)

// Config says what to learn from a table.
type Config struct {
	// Target is the name of the column to predict.
	Target string
	// Task is Infer, Classify or Regress.
	Task Task
	// Ignore names columns that are not features: an identifier, a note.
	Ignore []string
	// Categorical names feature columns to one-hot encode whatever their
	// cells: codes that are numbers (a postcode, a product or a ward number)
	// or numbers with a few words among them (MaxStrayPercent). Their cells
	// are categories as text: "1" and "1.0" are two.
	Categorical []string
}

// A Column is a feature column as fitted on the training rows.
type Column struct {
	Name string
	Kind Kind
	// Numeric: the training rows' mean and standard deviation (population,
	// as scikit-learn's StandardScaler). A constant column gets Std 1, so
	// that it encodes to 0 rather than dividing by zero.
	Mean, Std float64
	// Categorical: the values of the training rows, sorted, each a feature.
	Categories []string
}

// The Target is the column a model predicts, as fitted on the training rows.
type Target struct {
	Name string
	Task Task // Classify or Regress
	// Classify: the classes, a label being an index into them, sorted: in
	// numeric order if NumericClasses (a cell then matches a class by value,
	// "1.0" being class "1"), otherwise as text.
	Classes        []string
	NumericClasses bool
	// Regress: the training rows' mean and standard deviation, which
	// targets are standardized with.
	Mean, Std float64
}

// An Encoder turns rows of a table into a model's features and targets, as
// fitted on training rows. It marshals to JSON (encoding/json) and back, to
// be saved with the model; it is safe for concurrent use.
type Encoder struct {
	columns []Column
	target  Target
	offsets []int            // each column's first feature
	width   int              // features a row
	vocab   []map[string]int // Categorical columns: category → its place; nil for Numeric
	classOf map[string]int   // text classes → label
	classAt map[float64]int  // numeric classes → label
}

// Fit fits an encoder on the given rows of t (the training rows: what the
// model learns from must not have seen the test rows' statistics). Every
// column but the target and those cfg ignores is a feature, in the file's
// order.
//
// A column is Numeric if all its training cells are numbers
// (strconv.ParseFloat), Categorical if more than MaxStrayPercent (10%) of
// them are not or cfg.Categorical names it, and an error naming the file,
// the lines and the cells otherwise: a column of numbers with a few that
// are not ("1.5x") is taken for a mistake, not for text. The target's cells
// are read the same way when the task is Infer. A missing value is an
// error naming the file, line and column, nothing being imputed: an empty
// cell, or NA, N/A, NaN, null or ? (case ignored). So is an infinite number
// in a numeric column, and a target with a single value in the training
// rows.
func Fit(t *Table, rows []int, cfg Config) (*Encoder, error) {
	if err := checkRows(t, rows); err != nil {
		return nil, err
	}
	target, features, categorical, err := cfg.columns(t)
	if err != nil {
		return nil, err
	}
	var s scan
	cols := make([]Column, 0, len(features))
	for _, c := range features {
		col, err := s.fitFeature(t, rows, c, categorical[c])
		if err != nil {
			return nil, err
		}
		cols = append(cols, col)
	}
	tgt, err := s.fitTarget(t, rows, target, cfg.Task)
	if err != nil {
		return nil, err
	}
	return newEncoder(cols, tgt)
}

func checkRows(t *Table, rows []int) error {
	if len(rows) == 0 {
		return errors.Errorf("%s: no rows to fit or encode", t.name)
	}
	for _, r := range rows {
		if r < 0 || r >= t.Len() {
			return errors.Errorf("%s: row %d, want 0..%d", t.name, r, t.Len()-1)
		}
	}
	return nil
}

// columns returns the target's column in t, the features' and those of
// the features declared categorical.
func (cfg Config) columns(t *Table) (target int, features []int, categorical map[int]bool, err error) {
	if cfg.Task < Infer || cfg.Task > Regress {
		return 0, nil, nil, errors.Errorf("task %d, want Infer, Classify or Regress", cfg.Task)
	}
	if cfg.Target == "" {
		return 0, nil, nil, errors.Errorf("no target column named; the columns of %s: %s", t.name, quoteAll(t.header))
	}
	if target, err = t.Column(cfg.Target); err != nil {
		return 0, nil, nil, errors.Wrap(err, "the target")
	}
	skip := map[int]bool{target: true}
	for _, name := range cfg.Ignore {
		c, err := t.Column(name)
		if err != nil {
			return 0, nil, nil, errors.Wrap(err, "a column to ignore")
		}
		if c == target {
			return 0, nil, nil, errors.Errorf("the target %s is also a column to ignore", quote(name))
		}
		skip[c] = true
	}
	categorical = map[int]bool{}
	for _, name := range cfg.Categorical {
		c, err := t.Column(name)
		if err != nil {
			return 0, nil, nil, errors.Wrap(err, "a column declared categorical")
		}
		switch {
		case c == target:
			return 0, nil, nil, errors.Errorf("the target %s is declared a categorical feature column; for classes of its values say the task is Classify", quote(name))
		case skip[c]:
			return 0, nil, nil, errors.Errorf("the column %s is both ignored and declared categorical", quote(name))
		}
		categorical[c] = true
	}
	for c := range t.header {
		if !skip[c] {
			features = append(features, c)
		}
	}
	if len(features) == 0 {
		return 0, nil, nil, errors.Errorf("%s: no feature columns besides the target and those ignored", t.name)
	}
	return target, features, categorical, nil
}

// isMissing reports whether a cell stands for a missing value.
func isMissing(cell string) bool {
	switch strings.ToLower(cell) {
	case "", "na", "n/a", "nan", "null", "?":
		return true
	}
	return false
}

func missing(cell string) error {
	return errors.Errorf("a missing value (%s); nothing is imputed: fill the cell or drop the row", quote(cell))
}

// parseNumber parses a numeric cell, refusing what is missing, not a number
// or not finite.
func parseNumber(cell string) (float64, error) {
	if isMissing(cell) {
		return 0, missing(cell)
	}
	v, err := strconv.ParseFloat(cell, 64)
	switch {
	case err != nil && !math.IsInf(v, 0):
		return 0, errors.Errorf("%s is not a number, and the column is numeric in the training rows", quote(cell))
	case math.IsInf(v, 0) || math.IsNaN(v):
		return 0, errors.Errorf("%s is not a finite number", quote(cell))
	}
	return v + 0, nil // + 0 makes -0 the same class as 0
}

// A scan holds what the training cells of a column are.
type scan struct {
	values []float64 // the cells that are numbers, in the order of the rows
	stray  int       // how many cells are not numbers
	first  []int     // the rows of the first few of those, in the file's order
}

// strayNamed is how many cells that are not numbers an error names.
const strayNamed = 3

// read reads column col of rows, refusing a missing value, and if parse,
// sorts its cells into numbers and not.
func (s *scan) read(t *Table, rows []int, col int, parse bool) error {
	s.values, s.stray, s.first = s.values[:0], 0, s.first[:0]
	for _, r := range rows {
		cell := t.Cell(r, col)
		if isMissing(cell) {
			return errors.Wrap(missing(cell), t.at(r, col))
		}
		if !parse {
			continue
		}
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil && !math.IsInf(v, 0) {
			s.notNumber(r)
			continue
		}
		s.values = append(s.values, v+0)
	}
	return nil
}

// notNumber counts row's cell as not a number, keeping the rows of the
// first few in the file (rows need not be in its order: a shuffled split).
func (s *scan) notNumber(r int) {
	s.stray++
	if i, _ := slices.BinarySearch(s.first, r); i < strayNamed {
		s.first = slices.Insert(s.first, i, r)
		s.first = s.first[:min(len(s.first), strayNamed)]
	}
}

// mostlyNumbers reports whether a column of n training cells, of which
// s.stray are not numbers, is numbers with mistakes in it: some cells are
// not numbers, at most MaxStrayPercent of them.
func (s *scan) mostlyNumbers(n int) bool {
	return s.stray > 0 && s.stray*100 <= MaxStrayPercent*n
}

// strayError is the error for a column of mostlyNumbers: it names the first
// cells that are not numbers and their lines, and says what to do.
func (s *scan) strayError(t *Table, n, col int, fix string) error {
	r := s.first[0]
	var b strings.Builder
	b.WriteString(t.at(r, col) + ": " + quote(t.Cell(r, col)) + " is not a number")
	if others := s.first[1:]; len(others) > 0 {
		b.WriteString(", nor ")
		if len(others) == 1 {
			b.WriteString("is ")
		} else {
			b.WriteString("are ")
		}
		for i, o := range others {
			switch {
			case i == 0:
			case i == len(others)-1 && s.stray == len(s.first):
				b.WriteString(" and ")
			default:
				b.WriteString(", ")
			}
			b.WriteString(quote(t.Cell(o, col)) + " on line " + strconv.Itoa(t.Line(o, col)))
		}
		if more := s.stray - len(s.first); more > 0 {
			b.WriteString(" and " + strconv.Itoa(more) + " more")
		}
	}
	cells := "cell"
	if s.stray > 1 {
		cells = "cells"
	}
	b.WriteString(", but the other " + strconv.Itoa(n-s.stray) + " training cells of the column are numbers: correct the " + cells + ", or " + fix)
	return errors.New(b.String())
}

// numbers returns the values of a numeric column, refusing one not finite.
func (s *scan) numbers(t *Table, rows []int, col int) ([]float64, error) {
	for i, v := range s.values {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, errors.Errorf("%s: %s is not a finite number", t.at(rows[i], col), quote(t.Cell(rows[i], col)))
		}
	}
	return s.values, nil
}

// fitFeature fits column col on rows: Numeric if its cells are all numbers,
// an error if they are mostlyNumbers, Categorical otherwise or if declared.
func (s *scan) fitFeature(t *Table, rows []int, col int, declared bool) (Column, error) {
	c := Column{Name: t.header[col]}
	if err := s.read(t, rows, col, !declared); err != nil {
		return c, err
	}
	if !declared && s.stray == 0 {
		v, err := s.numbers(t, rows, col)
		if err != nil {
			return c, err
		}
		c.Kind = Numeric
		if c.Mean, c.Std, err = standardize(t, col, v); c.Std == 0 {
			c.Std = 1
		}
		return c, err
	}
	if !declared && s.mostlyNumbers(len(rows)) {
		return c, s.strayError(t, len(rows), col, "declare the column categorical (Config.Categorical) if its values are categories, not quantities")
	}
	c.Kind = Categorical
	c.Categories = distinct(t, rows, col)
	if len(c.Categories) > MaxCategories {
		why := "declared categorical"
		if !declared {
			why = fmt.Sprintf("text: %s on line %d and %d more of its %d training cells are not numbers", quote(t.Cell(s.first[0], col)), t.Line(s.first[0], col), s.stray-1, len(rows))
		}
		return c, errors.Errorf("%s: column %s: %d distinct values in the training rows, more than the %d a categorical column may have "+
			"(it is %s): ignore the column, or fix the cells",
			t.name, quote(c.Name), len(c.Categories), MaxCategories, why)
	}
	return c, nil
}

// distinct returns the values of column col in rows, sorted.
func distinct(t *Table, rows []int, col int) []string {
	seen := map[string]bool{}
	var values []string
	for _, r := range rows {
		if c := t.Cell(r, col); !seen[c] {
			seen[c] = true
			values = append(values, c)
		}
	}
	slices.Sort(values)
	return values
}

// standardize returns the mean and standard deviation of column col's
// values v, refusing values too large for them to be finite.
func standardize(t *Table, col int, v []float64) (mean, std float64, err error) {
	mean, std = meanStd(v)
	if math.IsInf(mean, 0) || math.IsInf(std, 0) || math.IsNaN(std) {
		return 0, 0, errors.Errorf("%s: column %s: values too large to standardize (mean %v, standard deviation %v)", t.name, quote(t.header[col]), mean, std)
	}
	return mean, std, nil
}

// meanStd returns the mean and population standard deviation of v, two
// passes for accuracy; a constant v has std exactly 0 (one pass of sums
// would leave rounding noise that standardizing would blow up).
func meanStd(v []float64) (mean, std float64) {
	constant := true
	for _, x := range v {
		mean += x
		constant = constant && x == v[0]
	}
	if constant {
		return v[0], 0
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

// MetaKey is the checkpoint metadata key under which an encoder is saved
// with its model (as JSON), by cmd/train and for cmd/predict.
const MetaKey = "tabular.encoder"
