package hostile

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

// CSV returns damaged copies of good, a CSV file of a header row and rows
// (as cmd/train -csv reads and cmd/predict -csv predicts), and the name of
// a numeric and of a categorical column of it. The scope is what
// prediction with a model trained on good must do: All says some row
// cannot be used (an error, a non-zero exit), Any that every row may be.
func CSV(good, numeric, category string) ([]Case, error) {
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	if len(lines) < 3 {
		return nil, errors.New("a CSV file of a header and at least two rows, please")
	}
	header := strings.Split(lines[0], ",")
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		return -1
	}
	num, cat := col(numeric), col(category)
	if num < 0 || cat < 0 {
		return nil, errors.Errorf("no column %q or %q in the header", numeric, category)
	}
	var cases []Case
	add := func(class Class, scope Scope, name, text string) {
		cases = append(cases, Case{Class: class, Name: name, Scope: scope, Data: []byte(text)})
	}
	join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
	withCell := func(row, c int, v string) string {
		ls := append([]string(nil), lines...)
		f := strings.Split(ls[row], ",")
		f[c] = v
		ls[row] = strings.Join(f, ",")
		return join(ls)
	}
	for _, n := range []int{len(lines[0]) / 2, len(lines[0]) + 1, len(good) / 2, len(good) - 2} {
		add(Truncation, Any, fmt.Sprintf("cut to %d of %d bytes", n, len(good)), good[:n])
	}
	add(Header, All, "a feature column missing", join(dropColumn(lines, num)))
	add(Header, All, "a column named twice", strings.Replace(good, header[num], header[cat], 1))
	add(Header, All, "an empty column name", strings.Replace(good, header[num], "", 1))
	add(Header, Any, "header only", lines[0]+"\n")
	add(Header, Any, "2000 extra columns", join(extraColumns(lines, 2000)))
	add(Content, All, "an unterminated quote", join(lines)+`"unterminated,`+"\n")
	add(Content, All, "a bare quote", withCell(1, cat, `re"d`))
	add(Content, All, "a byte that is not UTF-8", withCell(1, cat, "r\xffd"))
	add(Content, All, "a row of one field more", join(append(append([]string(nil), lines...), lines[1]+",x")))
	add(Content, All, "a row of one field less", join(append(append([]string(nil), lines...), strings.Join(strings.Split(lines[1], ",")[1:], ","))))
	add(Content, All, "a number that is not one", withCell(1, num, "x"))
	add(Content, All, "a category never seen", withCell(1, cat, "mauve"))
	add(Content, All, "a category of 1 MiB", withCell(1, cat, huge))
	add(Content, Any, "a number of 1e400", withCell(1, num, "1e400"))
	add(Content, Any, "NaN", withCell(1, num, "NaN"))
	add(Content, Any, "a NUL byte", withCell(1, cat, "re\x00d"))
	add(Content, Any, "a byte order mark and CRLF lines", "\ufeff"+strings.ReplaceAll(good, "\n", "\r\n"))
	add(Content, Any, "empty lines between rows", strings.ReplaceAll(good, "\n", "\n\n"))
	return cases, nil
}

func dropColumn(lines []string, c int) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Split(l, ",")
		out[i] = strings.Join(append(f[:c:c], f[c+1:]...), ",")
	}
	return out
}

func extraColumns(lines []string, n int) []string {
	var h, v strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&h, ",extra%d", i)
		v.WriteString(",0")
	}
	out := make([]string, len(lines))
	out[0] = lines[0] + h.String()
	for i := 1; i < len(lines); i++ {
		out[i] = lines[i] + v.String()
	}
	return out
}
