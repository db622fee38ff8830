package tabular

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// writeCSV writes content to data.csv in a new folder and returns its path.
func writeCSV(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t testing.TB, content string) *Table {
	t.Helper()
	tab, err := Read(writeCSV(t, content))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func wantError(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q, want one containing %q", err, w)
		}
	}
}

func TestRead(t *testing.T) {
	// A byte order mark, CRLF line ends, spaces around cells, an empty line
	// and a line of spaces, a quoted comma.
	tab := read(t, "\ufeffsize, colour ,price\r\n1, red,\"1,5\"\r\n\r\n2,blue , 7\r\n   \r\n")
	if got := tab.Columns(); !slices.Equal(got, []string{"size", "colour", "price"}) {
		t.Fatalf("columns %q", got)
	}
	if tab.Len() != 2 {
		t.Fatalf("%d rows, want 2", tab.Len())
	}
	if got := []string{tab.Cell(0, 1), tab.Cell(0, 2), tab.Cell(1, 1), tab.Cell(1, 2)}; !slices.Equal(got, []string{"red", "1,5", "blue", "7"}) {
		t.Fatalf("cells %q", got)
	}
	if tab.Line(0, 0) != 2 || tab.Line(1, 2) != 4 {
		t.Fatalf("rows on lines %d and %d, want 2 and 4", tab.Line(0, 0), tab.Line(1, 2))
	}
	if c, err := tab.Column("price"); c != 2 || err != nil {
		t.Fatalf("Column(price) = %d, %v", c, err)
	}
	if f := tab.Fields(1); len(f) != 3 || f["colour"] != "blue" {
		t.Fatalf("Fields(1) = %q", f)
	}
	_, err := tab.Column("prise")
	wantError(t, err, `data.csv has no column "prise"; its columns: "size", "colour", "price"`)
}

// A quoted field with a line break moves the lines of the fields after it,
// and of the rows after it.
func TestLinesOfAQuotedFieldAcrossLines(t *testing.T) {
	tab := read(t, "note,n\n\"two\nlines\",1\n\"three\n\nlines\",2\nplain,3\n")
	for _, tc := range []struct{ row, col, line int }{{0, 0, 2}, {0, 1, 3}, {1, 0, 4}, {1, 1, 6}, {2, 0, 7}, {2, 1, 7}} {
		if got := tab.Line(tc.row, tc.col); got != tc.line {
			t.Errorf("Line(%d, %d) = %d, want %d", tc.row, tc.col, got, tc.line)
		}
	}
	if tab.Cell(1, 0) != "three\n\nlines" {
		t.Errorf("cell %q", tab.Cell(1, 0))
	}
	// The error for a cell after the break names the line it is on.
	_, err := Fit(tab, []int{0, 1, 2}, Config{Target: "note", Task: Regress})
	wantError(t, err, `data.csv:2: column "note": "two\nlines" is not a number`)
	tab = read(t, "a,b,c\n1,\"x\ny\",?\n2,z,3\n")
	_, err = Fit(tab, []int{0, 1}, Config{Target: "a"})
	wantError(t, err, `data.csv:3: column "c": a missing value ("?")`)
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"empty file", "", []string{"data.csv: empty file"}},
		{"only empty lines", "\n\n", []string{"data.csv: empty file"}},
		{"header only", "a,b\n", []string{"data.csv: a header but no rows"}},
		{"empty column name", "a,,c\n1,2,3\n", []string{"data.csv:1: column 2 of the header has no name"}},
		{"blank column name", "\n a , \n1,2\n", []string{"data.csv:2: column 2 of the header has no name"}},
		{"duplicate column name", "a,b,a\n1,2,3\n", []string{`data.csv:1: columns 1 and 3 are both named "a"`}},
		{"too few fields", "a,b,c\n1,2,3\n4,5\n", []string{`data.csv:3: 2 fields, the header has 3: no value for column "c"`}},
		{"too many fields", "a,b\n1,2\n\n3,4,5\n", []string{`data.csv:4: 3 fields, the header has 2: a field after the last column, "b"`}},
		{"not UTF-8", "a,b\n1,\"\n\xe9t\xe9\"\n", []string{`data.csv:2: column "b": not UTF-8 text`}},
		{"header not UTF-8", "a,\xff\n1,2\n", []string{"data.csv:1: column 2 of the header is not UTF-8 text"}},
		{"bare quote", "a,b\n1,x\"y\n", []string{"data.csv:2:4:", "bare \""}},
		{"unterminated quote", "a,b\n1,\"x\n2,3\n", []string{"data.csv:3:5: extraneous or missing \" in quoted-field (in the row from line 2)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := Read(writeCSV(t, tc.content))
			if tab != nil {
				t.Error("a table with the error")
			}
			wantError(t, err, tc.want...)
		})
	}
}

func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	_, err := Read(dir)
	wantError(t, err, dir, "is a directory")
	_, err = Read(filepath.Join(dir, "missing.csv"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want one for a missing file", err)
	}
}

func TestParseStopsAtTheLimit(t *testing.T) {
	content := "a,b\n" + strings.Repeat("1,2\n", 100)
	if _, err := parse(strings.NewReader(content), "big.csv", int64(len(content)), ','); err != nil {
		t.Fatalf("a file of exactly the limit: %v", err)
	}
	_, err := parse(strings.NewReader(content), "big.csv", int64(len(content))-1, ',')
	wantError(t, err, "reading big.csv: more than the 403 bytes a table may have")
}

// TestReadDelimited reads a semicolon- and a tab-separated file as the
// comma-separated one, and refuses delimiters encoding/csv cannot use.
func TestReadDelimited(t *testing.T) {
	want := read(t, "a,b,name\n1.5,2,x\n3,\"4;5\",y\n")
	for _, c := range []struct {
		comma   rune
		content string
	}{
		{';', "a;b;name\n1.5;2;x\n3;\"4;5\";y\n"},
		{'\t', "a\tb\tname\n1.5\t2\tx\n3\t4;5\ty\n"},
	} {
		got, err := ReadDelimited(writeCSV(t, c.content), c.comma)
		if err != nil {
			t.Fatalf("%q: %v", c.comma, err)
		}
		if !slices.Equal(got.Columns(), want.Columns()) || got.Len() != want.Len() {
			t.Fatalf("%q: columns %v, %d rows; want %v, %d", c.comma, got.Columns(), got.Len(), want.Columns(), want.Len())
		}
		for r := range want.Len() {
			for col := range want.Columns() {
				if got.Cell(r, col) != want.Cell(r, col) {
					t.Errorf("%q: cell (%d, %d) = %q, want %q", c.comma, r, col, got.Cell(r, col), want.Cell(r, col))
				}
			}
		}
	}
	path := writeCSV(t, "a,b\n1,2\n")
	for _, bad := range []rune{'"', '\n', '\r', 0xFFFD, -1} {
		if _, err := ReadDelimited(path, bad); err == nil || !strings.Contains(err.Error(), "cannot separate fields") || !strings.Contains(err.Error(), path) {
			t.Errorf("delimiter %q: %v", bad, err)
		}
	}
	if _, err := ParseDelimited(strings.NewReader("a\n1\n"), "x.csv", '\n'); err == nil || !strings.Contains(err.Error(), "x.csv") {
		t.Errorf("ParseDelimited with a line break: %v", err)
	}
}

func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]rune{"": ',', ",": ',', ";": ';', "tab": '\t', `\t`: '\t', "\t": '\t', "|": '|', "§": '§'} {
		if got, err := ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{";;", "ab", `"`, "\n", "\xff"} {
		if _, err := ParseDelimiter(bad); err == nil {
			t.Errorf("ParseDelimiter(%q): no error", bad)
		}
	}
}

// TestColumnHintsAtTheDelimiter: a file of one column whose name holds a
// semicolon was most likely read with the wrong delimiter; the error says so.
func TestColumnHintsAtTheDelimiter(t *testing.T) {
	tab := read(t, "x;y;value\n1;2;3\n")
	_, err := tab.Column("value")
	if err == nil || !strings.Contains(err.Error(), `separated by ";"`) {
		t.Errorf("Column: %v", err)
	}
	_, err = read(t, "x,y\n1,2\n").Column("value")
	if err == nil || strings.Contains(err.Error(), "separated by") {
		t.Errorf("Column of a comma file: %v", err)
	}
}
