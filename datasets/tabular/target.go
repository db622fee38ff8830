package tabular

import (
	"math"
	"slices"
	"strconv"

	"github.com/pkg/errors"
)

func (s *scan) fitTarget(t *Table, rows []int, col int, task Task) (Target, error) {
	tg := Target{Name: t.header[col], Task: task}
	if err := s.read(t, rows, col, true); err != nil {
		return tg, err
	}
	numeric := s.stray == 0
	if task == Infer && s.mostlyNumbers(len(rows)) {
		return tg, s.strayError(t, len(rows), col, "say the task is Classify if the values are names of classes")
	}
	if numeric {
		if _, err := s.numbers(t, rows, col); err != nil {
			return tg, err
		}
	}
	if task == Infer {
		tg.Task = Regress
		if !numeric || fewWholeNumbers(s.values) {
			tg.Task = Classify
		}
	}
	if tg.Task == Regress {
		if !numeric {
			return tg, errors.Errorf("%s: %s is not a number, and the task is Regress", t.at(s.first[0], col), quote(t.Cell(s.first[0], col)))
		}
		var err error
		if tg.Mean, tg.Std, err = standardize(t, col, s.values); err != nil {
			return tg, err
		}
		if tg.Std == 0 {
			return tg, errors.Errorf("%s: the target %s is %v in every training row: nothing to learn", t.name, quote(tg.Name), tg.Mean)
		}
		return tg, nil
	}
	if numeric {
		tg.NumericClasses = true
		tg.Classes = numericClasses(s.values)
	} else {
		tg.Classes = distinct(t, rows, col)
	}
	if len(tg.Classes) < 2 {
		return tg, errors.Errorf("%s: the target %s has the one class %s in the training rows: nothing to learn", t.name, quote(tg.Name), quote(tg.Classes[0]))
	}
	return tg, nil
}

// fewWholeNumbers reports whether every value is a whole number and there
// are at most MaxInferredClasses distinct ones.
func fewWholeNumbers(values []float64) bool {
	seen := map[float64]bool{}
	for _, v := range values {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return false
		}
		if seen[v] = true; len(seen) > MaxInferredClasses {
			return false
		}
	}
	return true
}

// numericClasses returns the distinct values in numeric order, named as
// strconv formats them (so "1.0" and "1" in a file are the class "1").
func numericClasses(values []float64) []string {
	v := slices.Clone(values)
	slices.Sort(v)
	v = slices.Compact(v)
	names := make([]string, len(v))
	for i, x := range v {
		names[i] = className(x)
	}
	return names
}

func className(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// newEncoder checks what Fit or a JSON document says and derives the
// lookups from it.
func newEncoder(cols []Column, tg Target) (*Encoder, error) {
	if len(cols) == 0 {
		return nil, errors.New("an encoder of no feature columns")
	}
	e := &Encoder{columns: cols, target: tg, offsets: make([]int, len(cols)), vocab: make([]map[string]int, len(cols))}
	names := map[string]bool{tg.Name: true}
	for k, c := range cols {
		if c.Name == "" || names[c.Name] {
			return nil, errors.Errorf("feature column %d is named %s, empty or the name of another column or the target", k, quote(c.Name))
		}
		names[c.Name] = true
		if err := c.check(); err != nil {
			return nil, errors.Wrapf(err, "column %s", quote(c.Name))
		}
		e.offsets[k] = e.width
		if c.Kind == Categorical {
			e.vocab[k] = index(c.Categories)
			e.width += len(c.Categories)
		} else {
			e.width++
		}
	}
	if err := e.setTarget(); err != nil {
		return nil, errors.Wrapf(err, "the target %s", quote(tg.Name))
	}
	return e, nil
}

func (c Column) check() error {
	switch c.Kind {
	case Numeric:
		if !finite(c.Mean) || !finite(c.Std) || c.Std <= 0 || c.Categories != nil {
			return errors.Errorf("numeric with mean %v, std %v and categories %q: want finite numbers, std > 0, no categories", c.Mean, c.Std, c.Categories)
		}
	case Categorical:
		if len(c.Categories) == 0 || c.Mean != 0 || c.Std != 0 {
			return errors.New("categorical without categories, or with a mean or std")
		}
		if err := sortedText(c.Categories); err != nil {
			return err
		}
	default:
		return errors.Errorf("kind %d, want Numeric or Categorical", c.Kind)
	}
	return nil
}

func (e *Encoder) setTarget() error {
	tg := e.target
	if tg.Name == "" {
		return errors.New("no name")
	}
	switch {
	case tg.Task == Regress:
		if !finite(tg.Mean) || !finite(tg.Std) || tg.Std <= 0 || tg.Classes != nil || tg.NumericClasses {
			return errors.Errorf("regression with mean %v, std %v: want finite numbers, std > 0 and no classes", tg.Mean, tg.Std)
		}
		return nil
	case tg.Task != Classify:
		return errors.Errorf("task %v, want Classify or Regress", tg.Task)
	case len(tg.Classes) < 2 || tg.Mean != 0 || tg.Std != 0:
		return errors.Errorf("classification of %d classes, or with a mean or std: want 2 or more classes", len(tg.Classes))
	case !tg.NumericClasses:
		e.classOf = index(tg.Classes)
		return sortedText(tg.Classes)
	}
	e.classAt = make(map[float64]int, len(tg.Classes))
	prev := math.Inf(-1)
	for i, name := range tg.Classes {
		v, err := strconv.ParseFloat(name, 64)
		if err != nil || !finite(v) || className(v) != name || v <= prev {
			return errors.Errorf("numeric class %d is %s: want numbers in increasing order, as strconv formats them", i, quote(name))
		}
		e.classAt[v], prev = i, v
	}
	return nil
}

func sortedText(values []string) error {
	for i := 1; i < len(values); i++ {
		if values[i-1] >= values[i] {
			return errors.Errorf("values %s and %s are not in increasing order", quote(values[i-1]), quote(values[i]))
		}
	}
	return nil
}

func index(values []string) map[string]int {
	m := make(map[string]int, len(values))
	for i, v := range values {
		m[v] = i
	}
	return m
}

func finite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

var (
	taskNames = []string{Infer: "infer", Classify: "classify", Regress: "regress"}
	kindNames = []string{Numeric: "numeric", Categorical: "categorical"}
)

func (t Task) String() string {
	if t >= 0 && int(t) < len(taskNames) {
		return taskNames[t]
	}
	return "Task(" + strconv.Itoa(int(t)) + ")"
}

// MarshalText writes the task's name: "infer", "classify" or "regress".
func (t Task) MarshalText() ([]byte, error) {
	if t < 0 || int(t) >= len(taskNames) {
		return nil, errors.Errorf("task %d", int(t))
	}
	return []byte(taskNames[t]), nil
}

// UnmarshalText reads a name MarshalText writes.
func (t *Task) UnmarshalText(b []byte) error {
	i := slices.Index(taskNames, string(b))
	if i < 0 {
		return errors.Errorf("task %s, want one of %q", quote(string(b)), taskNames)
	}
	*t = Task(i)
	return nil
}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the kind's name: "numeric" or "categorical".
func (k Kind) MarshalText() ([]byte, error) {
	if k <= 0 || int(k) >= len(kindNames) {
		return nil, errors.Errorf("kind %d", int(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText reads a name MarshalText writes.
func (k *Kind) UnmarshalText(b []byte) error {
	i := slices.Index(kindNames, string(b))
	if i <= 0 {
		return errors.Errorf("kind %s, want %q or %q", quote(string(b)), kindNames[Numeric], kindNames[Categorical])
	}
	*k = Kind(i)
	return nil
}
