package tabular

import (
	"encoding/json"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/strictjson"
)

// jsonFormat is the version of the encoder's JSON form; a later version
// that reads differently gets a number of its own.
const jsonFormat = 1

type jsonEncoder struct {
	Format  int          `json:"format"`
	Columns []jsonColumn `json:"columns"`
	Target  jsonTarget   `json:"target"`
}

// Pointers tell a missing mean or std from a zero one.
type jsonColumn struct {
	Name       string   `json:"name"`
	Kind       Kind     `json:"kind"`
	Mean       *float64 `json:"mean,omitempty"`
	Std        *float64 `json:"std,omitempty"`
	Categories []string `json:"categories,omitempty"`
}

type jsonTarget struct {
	Name           string   `json:"name"`
	Task           Task     `json:"task"`
	Classes        []string `json:"classes,omitempty"`
	NumericClasses bool     `json:"numeric_classes,omitempty"`
	Mean           *float64 `json:"mean,omitempty"`
	Std            *float64 `json:"std,omitempty"`
}

// MarshalJSON writes the encoder as a JSON object, to be stored with the
// model (in a checkpoint's metadata): the columns, with their statistics or
// vocabularies, and the target.
//
// Its receiver is a value so that an Encoder held by value in a struct
// marshals too, rather than as an empty object.
func (e Encoder) MarshalJSON() ([]byte, error) {
	w := jsonEncoder{Format: jsonFormat, Columns: make([]jsonColumn, len(e.columns))}
	for i, c := range e.columns {
		w.Columns[i] = jsonColumn{Name: c.Name, Kind: c.Kind, Categories: c.Categories}
		if c.Kind == Numeric {
			w.Columns[i].Mean, w.Columns[i].Std = &c.Mean, &c.Std
		}
	}
	tg := e.target
	w.Target = jsonTarget{Name: tg.Name, Task: tg.Task, Classes: tg.Classes, NumericClasses: tg.NumericClasses}
	if tg.Task == Regress {
		w.Target.Mean, w.Target.Std = &tg.Mean, &tg.Std
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes, strictly: an unknown field, a
// missing statistic or a vocabulary out of order is an error, so that an
// encoder read back encodes as the one written did.
func (e *Encoder) UnmarshalJSON(data []byte) error {
	// strictjson.Decode, not encoding/json's decoder, which quotes an
	// unknown field whole: a checkpoint's encoder may hold one of any length.
	var w jsonEncoder
	if err := strictjson.Decode(data, &w); err != nil {
		return errors.Wrap(err, "reading a tabular encoder")
	}
	if w.Format != jsonFormat {
		return errors.Errorf("reading a tabular encoder: format %d, want %d", w.Format, jsonFormat)
	}
	cols := make([]Column, len(w.Columns))
	for i, c := range w.Columns {
		cols[i] = Column{Name: c.Name, Kind: c.Kind, Categories: c.Categories}
		if (c.Mean != nil) != (c.Kind == Numeric) || (c.Std != nil) != (c.Kind == Numeric) {
			return errors.Errorf("reading a tabular encoder: column %s: a numeric column has a mean and std, a categorical one neither", quote(c.Name))
		}
		if c.Kind == Numeric {
			cols[i].Mean, cols[i].Std = *c.Mean, *c.Std
		}
	}
	tg := Target{Name: w.Target.Name, Task: w.Target.Task, Classes: w.Target.Classes, NumericClasses: w.Target.NumericClasses}
	if (w.Target.Mean != nil) != (tg.Task == Regress) || (w.Target.Std != nil) != (tg.Task == Regress) {
		return errors.New("reading a tabular encoder: a regression target has a mean and std, a class target neither")
	}
	if tg.Task == Regress {
		tg.Mean, tg.Std = *w.Target.Mean, *w.Target.Std
	}
	got, err := newEncoder(cols, tg)
	if err != nil {
		return errors.Wrap(err, "reading a tabular encoder")
	}
	*e = *got
	return nil
}
