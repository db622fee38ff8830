package tabular

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// typoTable writes 200 rows of numbers x and y, a colour, a class and a
// value, with the cells of typos (row → column → cell) in their place.
func typoTable(t *testing.T, typos map[int]map[string]string) *Table {
	t.Helper()
	rng := rand.New(rand.NewPCG(13, 0))
	var b strings.Builder
	b.WriteString("x,y,colour,class,value\n")
	for r := range 200 {
		cells := map[string]string{
			"x":      fmt.Sprintf("%.4f", rng.NormFloat64()),
			"y":      fmt.Sprintf("%.4f", rng.NormFloat64()),
			"colour": []string{"red", "blue"}[rng.IntN(2)],
			"class":  []string{"yes", "no"}[rng.IntN(2)],
			"value":  fmt.Sprintf("%.4f", 3*rng.NormFloat64()),
		}
		for col, cell := range typos[r] {
			cells[col] = cell
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s\n", cells["x"], cells["y"], cells["colour"], cells["class"], cells["value"])
	}
	return read(t, b.String())
}

// shuffled returns the rows of tab in a seeded order, as SplitRows gives
// training rows.
func shuffled(tab *Table) []int {
	rows := all(tab)
	rand.New(rand.NewPCG(7, 0)).Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

// The audit's case: one typo in a column of numbers made the column
// one-hot text, of a category a number, with no error from Fit or from
// Encode on the training rows. It is an error naming the file, the line,
// the column and the cell, and what to do.
func TestATypoInANumericColumnIsAnError(t *testing.T) {
	tab := typoTable(t, map[int]map[string]string{26: {"x": "1.5x"}})
	e, err := Fit(tab, shuffled(tab), Config{Target: "class"})
	if e != nil {
		t.Errorf("an encoder with the error: columns %v", e.Columns())
	}
	wantError(t, err, `data.csv:28: column "x": "1.5x" is not a number, but the other 199 training cells of the column are numbers: `+
		`correct the cell, or declare the column categorical (Config.Categorical)`)
}

func TestCellsThatAreNotNumbersAreNamedInTheFilesOrder(t *testing.T) {
	long := strings.Repeat("9", 60) + "x"
	for _, tc := range []struct {
		name  string
		typos map[int]map[string]string
		want  string
	}{
		{"two", map[int]map[string]string{40: {"y": "abc"}, 9: {"y": "1..2"}},
			`data.csv:11: column "y": "1..2" is not a number, nor is "abc" on line 42, but the other 198 training cells of the column are numbers: correct the cells, or`},
		{"three", map[int]map[string]string{150: {"y": "c"}, 40: {"y": "b"}, 9: {"y": "a"}},
			`data.csv:11: column "y": "a" is not a number, nor are "b" on line 42 and "c" on line 152, but the other 197`},
		{"five", map[int]map[string]string{150: {"y": "c"}, 40: {"y": "b"}, 9: {"y": "a"}, 3: {"y": "0x"}, 199: {"y": "z"}},
			`data.csv:5: column "y": "0x" is not a number, nor are "a" on line 11, "b" on line 42 and 2 more, but the other 195`},
		{"a long cell, cut", map[int]map[string]string{0: {"value": long}},
			`data.csv:2: column "value": "` + long[:40] + `"… is not a number, but the other 199`},
		{"a decimal comma", map[int]map[string]string{5: {"x": `"1,5"`}}, `data.csv:7: column "x": "1,5" is not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := typoTable(t, tc.typos)
			_, err := Fit(tab, shuffled(tab), Config{Target: "class"})
			wantError(t, err, tc.want)
		})
	}
}

// A target of numbers with a typo is refused when the task is inferred (it
// would be classes, of a number each); said to be Classify, its values are
// classes as text; said to be Regress, it is refused as before.
func TestATypoInANumericTarget(t *testing.T) {
	tab := typoTable(t, map[int]map[string]string{60: {"value": "3.1.4"}})
	_, err := Fit(tab, shuffled(tab), Config{Target: "value"})
	wantError(t, err, `data.csv:62: column "value": "3.1.4" is not a number, but the other 199`, "say the task is Classify if the values are names of classes")
	e, err := Fit(tab, shuffled(tab), Config{Target: "value", Task: Classify})
	if err != nil || e.Target().NumericClasses || !slices.Contains(e.Target().Classes, "3.1.4") {
		t.Fatalf("Classify: %v", err)
	}
	_, err = Fit(tab, shuffled(tab), Config{Target: "value", Task: Regress})
	wantError(t, err, `data.csv:62: column "value": "3.1.4" is not a number, and the task is Regress`)
}

// The rule at its edge, MaxStrayPercent of the training cells: 1 word in
// 10 is a mistake, 2 in 10 (or 1 in 9) make a column of text; the rows
// counted are the training rows.
func TestTheShareOfCellsThatAreNotNumbers(t *testing.T) {
	column := func(words, numbers int) *Table {
		var b strings.Builder
		b.WriteString("n,y\n")
		for i := range words + numbers {
			cell := className(float64(i))
			if i < words {
				cell = "w" + cell
			}
			fmt.Fprintf(&b, "%s,%d\n", cell, i%2)
		}
		return read(t, b.String())
	}
	for _, tc := range []struct {
		words, numbers int
		rows           []int // nil for all
		text           bool
	}{
		{1, 9, nil, false},
		{2, 18, nil, false},
		{100, 900, nil, false},
		{101, 899, nil, true},
		{2, 8, nil, true},
		{1, 8, nil, true},
		{1, 1, nil, true},
		{1, 9, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, true}, // 1 word in 9 training rows
		{2, 18, []int{0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, false}, // 1 in 12
	} {
		name := fmt.Sprintf("%d words %d numbers", tc.words, tc.numbers)
		if tc.rows != nil {
			name += fmt.Sprintf(", %d training rows", len(tc.rows))
		}
		t.Run(name, func(t *testing.T) {
			tab := column(tc.words, tc.numbers)
			rows := tc.rows
			if rows == nil {
				rows = all(tab)
			}
			e, err := Fit(tab, rows, Config{Target: "y"})
			if !tc.text {
				wantError(t, err, `column "n": "w0" is not a number`)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k := e.Columns()[0].Kind; k != Categorical {
				t.Fatalf("kind %v, want categorical", k)
			}
		})
	}
}

// Columns of text stay categorical, with or without numbers among their
// values; columns of numbers stay numeric.
func TestTextColumnsStayCategorical(t *testing.T) {
	var b strings.Builder
	b.WriteString("colour,size,ward,weight,y\n")
	sizes := []string{"S", "M", "L", "XL", "10", "12"} // 2 numbers in 6
	wards := []string{"3", "4B", "5", "7A", "12"}      // 3 numbers in 5
	for i := range 60 {
		fmt.Fprintf(&b, "%s,%s,%s,%d.5,%d\n", []string{"red", "green", "blue"}[i%3], sizes[i%6], wards[i%5], i, i%2)
	}
	tab := read(t, b.String())
	e := fit(t, tab, shuffled(tab), Config{Target: "y"})
	var kinds []string
	for _, c := range e.Columns() {
		kinds = append(kinds, c.Name+":"+c.Kind.String())
	}
	if want := []string{"colour:categorical", "size:categorical", "ward:categorical", "weight:numeric"}; !slices.Equal(kinds, want) {
		t.Fatalf("kinds %q, want %q", kinds, want)
	}
	if got := e.Columns()[1].Categories; !slices.Equal(got, []string{"10", "12", "L", "M", "S", "XL"}) {
		t.Fatalf("sizes %q", got)
	}
	if _, err := e.Encode(tab, all(tab)); err != nil {
		t.Fatal(err)
	}
}

// Config.Categorical takes a column as text whatever its cells: codes that
// are numbers, or numbers with a word among them.
func TestDeclaredCategorical(t *testing.T) {
	tab := typoTable(t, map[int]map[string]string{26: {"x": "1.5x"}})
	e := fit(t, tab, shuffled(tab), Config{Target: "class", Categorical: []string{"x"}})
	c := e.Columns()[0]
	if c.Kind != Categorical || len(c.Categories) != 200 || !slices.Contains(c.Categories, "1.5x") {
		t.Fatalf("x: %v, %d categories", c.Kind, len(c.Categories))
	}
	if _, err := e.Encode(tab, all(tab)); err != nil {
		t.Fatal(err)
	}

	codes := read(t, "postcode,n,y\n1000,1,a\n1000.0,2,b\n2000,3,a\n")
	e = fit(t, codes, all(codes), Config{Target: "y", Categorical: []string{"postcode"}})
	if got := e.Features(); !slices.Equal(got, []string{"postcode=1000", "postcode=1000.0", "postcode=2000", "n"}) {
		t.Fatalf("features %q", got)
	}
	if x, err := e.EncodeRow(map[string]string{"postcode": "2000", "n": "2"}); err != nil || !slices.Equal(x, []float32{0, 0, 1, 0}) {
		t.Fatalf("EncodeRow = %v, %v", x, err)
	}
	_, err := e.EncodeRow(map[string]string{"postcode": "2000.0", "n": "2"})
	wantError(t, err, `column "postcode": "2000.0" is not one of the 3 categories`)
	_, err = Fit(read(t, "postcode,y\n?,a\n1,b\n"), []int{0, 1}, Config{Target: "y", Categorical: []string{"postcode"}})
	wantError(t, err, `data.csv:2: column "postcode": a missing value ("?")`)

	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown", Config{Target: "y", Categorical: []string{"zip"}}, `data.csv has no column "zip"; its columns: "postcode", "n", "y"`},
		{"the target", Config{Target: "y", Categorical: []string{"y"}}, `the target "y" is declared a categorical feature column; for classes of its values say the task is Classify`},
		{"ignored", Config{Target: "y", Categorical: []string{"n"}, Ignore: []string{"n"}}, `the column "n" is both ignored and declared categorical`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Fit(codes, all(codes), tc.cfg)
			if e != nil {
				t.Error("an encoder with the error")
			}
			wantError(t, err, tc.want)
		})
	}
}
