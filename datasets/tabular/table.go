package tabular

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// MaxBytes is the largest CSV file Read and Parse accept: 1 GiB. A table is
// held in memory, the file's text plus 16 bytes a cell (two to five times
// the file for short numbers), so a file beyond this is not training data
// to read whole, and is more often a wrong path (a log, a disk image); the
// bound keeps such a file from exhausting memory before anything can be
// said about it.
const MaxBytes = 1 << 30

// A Table is a CSV file held in memory: a header of column names, then rows
// of cells as text, each with the line it came from, for error messages.
type Table struct {
	name   string
	header []string
	cells  []string       // row-major, len(header) a row
	lines  []int          // the line of each row's first field
	spans  map[int][]int  // rows with a field on a later line than the first (a quoted line break): each field's line
	index  map[string]int // column name → its place, for Column
}

// Read reads the CSV file at path (see Parse). It refuses a path that is not
// a regular file, without blocking on a FIFO, and a file of more than
// MaxBytes.
func Read(path string) (*Table, error) { return ReadDelimited(path, ',') }

// ReadDelimited is Read with fields separated by comma instead of commas:
// '\t' for tab-separated files, ';' for the CSV files spreadsheets write
// where the decimal separator is a comma (the numbers must still use a
// point). comma may not be a quote, a line break or an invalid rune.
func ReadDelimited(path string, comma rune) (*Table, error) {
	if err := checkComma(comma); err != nil {
		return nil, errors.Wrapf(err, "reading %s", path)
	}
	f, info, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > MaxBytes {
		return nil, errors.Errorf("reading %s: %d bytes, more than the %d a table may have", path, info.Size(), MaxBytes)
	}
	return parse(f, path, MaxBytes, comma)
}

// Parse reads a CSV table from r, named name in errors: a header row of
// distinct, non-empty column names, then rows of as many fields, commas
// between them, quoted as RFC 4180 says. Spaces around a cell are not part
// of its value; empty lines are skipped. The text must be UTF-8 (so that
// an encoder's vocabulary survives JSON); a byte order mark is dropped. Errors say "name:line: ..." with lines counted from 1 as an
// editor shows them. At most MaxBytes are read.
func Parse(r io.Reader, name string) (*Table, error) {
	return parse(r, name, MaxBytes, ',')
}

// ParseDelimited is Parse with fields separated by comma (see
// ReadDelimited).
func ParseDelimited(r io.Reader, name string, comma rune) (*Table, error) {
	if err := checkComma(comma); err != nil {
		return nil, errors.Wrapf(err, "reading %s", name)
	}
	return parse(r, name, MaxBytes, comma)
}

// ParseDelimiter reads a delimiter as a command line gives it: one
// character, or "tab" (a tab is awkward to type in a shell); "" is a comma.
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case "":
		return ',', nil
	case "tab", `\t`:
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) {
		return 0, errors.Errorf("delimiter %.20q: want one character, or tab", s)
	}
	return r, checkComma(r)
}

// checkComma refuses what encoding/csv cannot separate fields with.
func checkComma(comma rune) error {
	if comma == '"' || comma == '\r' || comma == '\n' || comma == utf8.RuneError || !utf8.ValidRune(comma) {
		return errors.Errorf("the delimiter %q cannot separate fields (a quote, a line break or an invalid character)", comma)
	}
	return nil
}

// errTooLarge ends reading when a file holds more than the bytes allowed.
var errTooLarge = errors.New("more bytes than a table may have")

// limitReader reads from r until more than left bytes have been read, then
// fails with errTooLarge: unlike io.LimitReader it does not pass a cut file
// off as a complete one.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

func parse(r io.Reader, name string, limit int64, comma rune) (*Table, error) {
	cr := csv.NewReader(&limitReader{r: r, left: limit})
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // counted here, for an error that names the column
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.Errorf("%s: empty file, want a header row of column names", name)
	}
	if err != nil {
		return nil, csvError(err, name, limit)
	}
	headerLine, _ := cr.FieldPos(0)
	t := &Table{name: name, header: header}
	if err := t.checkHeader(headerLine); err != nil {
		return nil, err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err, name, limit)
		}
		if len(rec) == 1 && len(t.header) > 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a line of spaces, as an empty line
		}
		if err := t.add(cr, rec); err != nil {
			return nil, err
		}
	}
	if len(t.lines) == 0 {
		return nil, errors.Errorf("%s: a header but no rows", name)
	}
	return t, nil
}

// csvError names the file and line of a reading error.
func csvError(err error, name string, limit int64) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, errTooLarge):
		return errors.Errorf("reading %s: more than the %d bytes a table may have", name, limit)
	case errors.As(err, &pe):
		if pe.StartLine != pe.Line {
			return errors.Errorf("%s:%d:%d: %v (in the row from line %d)", name, pe.Line, pe.Column, pe.Err, pe.StartLine)
		}
		return errors.Errorf("%s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return errors.Wrapf(err, "reading %s", name)
}

func (t *Table) checkHeader(line int) error {
	if len(t.header) > 0 {
		t.header[0] = strings.TrimPrefix(t.header[0], "\ufeff")
	}
	seen := make(map[string]int, len(t.header))
	for i, h := range t.header {
		h = strings.TrimSpace(h)
		t.header[i] = h
		if !utf8.ValidString(h) {
			return errors.Errorf("%s:%d: column %d of the header is not UTF-8 text (save the file as UTF-8)", t.name, line, i+1)
		}
		if h == "" {
			return errors.Errorf("%s:%d: column %d of the header has no name", t.name, line, i+1)
		}
		if j, dup := seen[h]; dup {
			return errors.Errorf("%s:%d: columns %d and %d are both named %s", t.name, line, j+1, i+1, quote(h))
		}
		seen[h] = i
	}
	t.index = seen
	return nil
}

// add appends the record cr has just read.
func (t *Table) add(cr *csv.Reader, rec []string) error {
	line, _ := cr.FieldPos(0)
	if w := len(t.header); len(rec) != w {
		if len(rec) < w {
			return errors.Errorf("%s:%d: %d fields, the header has %d: no value for column %s", t.name, line, len(rec), w, quote(t.header[len(rec)]))
		}
		return errors.Errorf("%s:%d: %d fields, the header has %d: a field after the last column, %s", t.name, line, len(rec), w, quote(t.header[w-1]))
	}
	if last, _ := cr.FieldPos(len(rec) - 1); last != line {
		lines := make([]int, len(rec))
		for i := range rec {
			lines[i], _ = cr.FieldPos(i)
		}
		if t.spans == nil {
			t.spans = map[int][]int{}
		}
		t.spans[len(t.lines)] = lines
	}
	for col, c := range rec {
		if !utf8.ValidString(c) {
			l, _ := cr.FieldPos(col)
			return errors.Errorf("%s:%d: column %s: not UTF-8 text (save the file as UTF-8)", t.name, l, quote(t.header[col]))
		}
		t.cells = append(t.cells, strings.TrimSpace(c))
	}
	t.lines = append(t.lines, line)
	return nil
}

// Name returns the name the table was read under: the path given to Read.
func (t *Table) Name() string { return t.name }

// Columns returns the column names, in the file's order.
func (t *Table) Columns() []string { return append([]string{}, t.header...) }

// Len returns the number of rows, the header not counted.
func (t *Table) Len() int { return len(t.lines) }

// Cell returns the text of row's cell in column col (0-based both). Like
// Line and Fields, it panics on a row or column out of range, as indexing
// does.
func (t *Table) Cell(row, col int) string { return t.cells[row*len(t.header)+col] }

// Line returns the line of the file where row's cell in column col starts.
func (t *Table) Line(row, col int) int {
	if lines, ok := t.spans[row]; ok {
		return lines[col]
	}
	return t.lines[row]
}

// Column returns the index of the column named name, or an error that lists
// the columns there are.
func (t *Table) Column(name string) (int, error) {
	if i, ok := t.index[name]; ok {
		return i, nil
	}
	hint := ""
	if len(t.header) == 1 {
		for _, sep := range []string{";", "\t", "|"} {
			if strings.Contains(t.header[0], sep) {
				hint = fmt.Sprintf(" (one column: are its fields separated by %q? read it with that delimiter)", sep)
				break
			}
		}
	}
	return -1, errors.Errorf("%s has no column %s; its columns: %s%s", t.name, quote(name), quoteAll(t.header), hint)
}

// Fields returns row as a map from column name to cell, as EncodeRow takes.
func (t *Table) Fields(row int) map[string]string {
	m := make(map[string]string, len(t.header))
	for col, h := range t.header {
		m[h] = t.Cell(row, col)
	}
	return m
}

// at says where row's cell in column col is, "file:line: column "name"",
// for an error message.
func (t *Table) at(row, col int) string {
	return t.name + ":" + strconv.Itoa(t.Line(row, col)) + ": column " + quote(t.header[col])
}

// quote quotes a value for a message, cut to 40 characters so that a stray
// megabyte of text does not become the message.
func quote(s string) string {
	const most = 40
	if n := 0; len(s) > most {
		for i := range s {
			if n == most {
				return strconv.Quote(s[:i]) + "…"
			}
			n++
		}
	}
	return strconv.Quote(s)
}

// quoteAll quotes the first 20 names, enough to spot a misspelt one.
func quoteAll(names []string) string {
	const most = 20
	q := make([]string, 0, min(len(names), most)+1)
	for _, n := range names[:min(len(names), most)] {
		q = append(q, quote(n))
	}
	if len(names) > most {
		q = append(q, "… ("+strconv.Itoa(len(names))+" in all)")
	}
	return strings.Join(q, ", ")
}
