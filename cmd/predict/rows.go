package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// predictRows predicts every row of a CSV file with a tabular model and
// writes row,class,probability (with top > 1, the top classes of each row,
// each with its probability) or row,value lines; a row that cannot be
// encoded (an unseen category, a missing value, fewer or more fields than
// the header) is reported and skipped. top is 0 when -top was not given;
// a regression refuses it (exit status 2).
func predictRows(m *graph.Model, ck *checkpoint.Checkpoint, model, path string, comma rune, top int, stdout, stderr io.Writer) int {
	enc, err := encoderOf(ck)
	if err == nil {
		err = fitsEncoder(m, enc)
	}
	if err != nil {
		fmt.Fprintf(stderr, "predict: %s: %v\n", model, err)
		return 1
	}
	classify := enc.Target().Task == tabular.Classify
	if !classify && top > 0 {
		fmt.Fprintf(stderr, "predict: -top cannot be given with %s: it is a regression model, which predicts one value a row, not classes\n", model)
		return 2
	}
	t, widths, err := readRows(path, comma)
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
	name := enc.Target().Name
	header := []string{"row", name}
	if classify {
		top = min(max(top, 1), len(enc.Target().Classes))
		header = append(header, "probability")
		for k := 2; k <= top; k++ {
			header = append(header, fmt.Sprintf("%s_%d", name, k), fmt.Sprintf("probability_%d", k))
		}
	}
	_ = w.Write(header)
	code := 0
	for r := 0; r < t.Len(); r++ {
		var rec []string
		if n, short := widths[r]; short {
			err = fieldsError(t, n)
		} else {
			rec, err = predictRow(m, enc, t.Fields(r), top)
		}
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

// fieldsError is the error of a row of n fields in t, whose header has
// another number: the words of tabular.Parse, which refuses such a file.
func fieldsError(t *tabular.Table, n int) error {
	cols := t.Columns()
	if n < len(cols) {
		return errors.Errorf("%d fields, the header has %d: no value for column %.40q", n, len(cols), cols[n])
	}
	return errors.Errorf("%d fields, the header has %d: a field after the last column, %.40q", n, len(cols), cols[len(cols)-1])
}

// readRows reads the CSV file of rows to predict as tabular.ReadDelimited
// does, except that a row of fewer or more fields than the header is no
// error for the file: it is read as a row of empty cells, and widths says
// its number of fields (by row, 0 for the first after the header), so that
// it gets an error of its own while the other rows are predicted.
//
// The file is read twice through one descriptor: once to find such rows
// (by encoding/csv as tabular.Parse reads it, so that the records are the
// same), and then by tabular.ParseDelimited, with each of them replaced by
// a record of as many empty fields as the header has and the same line
// breaks, so that every other row keeps its line and its row number. A
// file that is not CSV at all fails the second reading as it would
// ReadDelimited's.
func readRows(path string, comma rune) (*tabular.Table, map[int]int, error) {
	f, info, err := fileio.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if info.Size() > tabular.MaxBytes {
		return nil, nil, errors.Errorf("reading %s: %d bytes, more than the %d a table may have", path, info.Size(), tabular.MaxBytes)
	}
	width, bad := badWidths(io.LimitReader(f, tabular.MaxBytes), comma)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, errors.Wrapf(err, "reading %s", path)
	}
	var in io.Reader = f
	if len(bad) > 0 {
		in = &padded{r: bufio.NewReader(f), bad: bad, pad: `""` + strings.Repeat(string(comma), width-1), lead: true}
	}
	t, err := tabular.ParseDelimited(in, path, comma)
	if err != nil {
		return nil, nil, err
	}
	widths := make(map[int]int, len(bad))
	for _, b := range bad {
		widths[b.row] = b.fields
	}
	return t, widths, nil
}

// A span is a record of the wrong number of fields: the bytes from the end
// of the record before it to its own end (so the empty lines between
// them too), its row, and its number of fields.
type span struct {
	start, end  int64
	row, fields int
}

// badWidths reads the CSV text in r as tabular.Parse does and returns the
// header's number of fields and the records of another number. It stops,
// saying nothing, where the text stops being CSV: Parse says what is wrong
// there.
func badWidths(r io.Reader, comma rune) (width int, bad []span) {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return 0, nil
	}
	width = len(header)
	for row := 0; ; {
		start := cr.InputOffset()
		rec, err := cr.Read()
		if err != nil {
			return width, bad
		}
		if len(rec) == 1 && width > 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a line of spaces, which Parse skips as an empty line
		}
		if len(rec) != width {
			bad = append(bad, span{start: start, end: cr.InputOffset(), row: row, fields: len(rec)})
		}
		row++
	}
}

// padded reads r with each span of bad replaced by its line breaks, the
// record's first line holding pad instead of its fields: the line breaks
// before the record (empty lines, which encoding/csv skips) come out as
// they were, then pad, then one line break for each the record holds.
type padded struct {
	r    *bufio.Reader
	pos  int64
	bad  []span
	pad  string
	lead bool // in a span, before the record's first byte
	out  []byte
}

func (p *padded) Read(b []byte) (int, error) {
	for len(p.out) == 0 {
		if len(p.bad) == 0 {
			n, err := p.r.Read(b)
			p.pos += int64(n)
			return n, err
		}
		s := p.bad[0]
		if p.pos < s.start {
			n, err := p.r.Read(b[:min(int64(len(b)), s.start-p.pos)])
			p.pos += int64(n)
			return n, err
		}
		if p.pos >= s.end {
			p.bad, p.lead = p.bad[1:], true
			continue
		}
		c, err := p.r.ReadByte()
		if err != nil {
			// The file is shorter than it was a moment ago.
			return 0, io.ErrUnexpectedEOF
		}
		p.pos++
		if p.lead && c != '\r' && c != '\n' {
			p.lead = false
			p.out = append(p.out, p.pad...)
		}
		if c == '\n' {
			p.out = append(p.out, '\n')
		}
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

// predictRow returns the prediction of one row: the top classes of a
// classifier (at least one), each with its probability, or the value in
// the target's unit.
func predictRow(m *graph.Model, enc *tabular.Encoder, fields map[string]string, top int) ([]string, error) {
	x, err := enc.EncodeRow(fields)
	if err != nil {
		return nil, err
	}
	if enc.Target().Task != tabular.Classify {
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
	var rec []string
	for _, g := range topK(p, max(top, 1)) {
		class, err := enc.Class(g.Class)
		if err != nil {
			return nil, err
		}
		rec = append(rec, class, strconv.FormatFloat(g.Probability, 'f', 4, 64))
	}
	return rec, nil
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
