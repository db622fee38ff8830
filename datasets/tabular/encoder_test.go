package tabular

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets"
)

func all(t *Table) []int {
	rows := make([]int, t.Len())
	for i := range rows {
		rows[i] = i
	}
	return rows
}

func fit(t *testing.T, tab *Table, rows []int, cfg Config) *Encoder {
	t.Helper()
	e, err := Fit(tab, rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestColumnKinds(t *testing.T) {
	tab := read(t, "id,n,f,word,mixed,y\n1,1,0.5,a,1,0\n2,2,-1e3,b,x,1\n3,3,.25,a,2,0\n")
	e := fit(t, tab, all(tab), Config{Target: "y", Ignore: []string{"id"}})
	var kinds []string
	for _, c := range e.Columns() {
		kinds = append(kinds, c.Name+":"+c.Kind.String())
	}
	if want := []string{"n:numeric", "f:numeric", "word:categorical", "mixed:categorical"}; !slices.Equal(kinds, want) {
		t.Fatalf("kinds %q, want %q", kinds, want)
	}
	want := []string{"n", "f", "word=a", "word=b", "mixed=1", "mixed=2", "mixed=x"}
	if got := e.Features(); !slices.Equal(got, want) || e.Width() != len(want) {
		t.Fatalf("features %q (width %d), want %q", got, e.Width(), want)
	}
}

func TestTaskInference(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		task         Task
		classes      []string
	}{
		{"text", "a\nb\nc\nb\nc\nb", Classify, []string{"b", "c"}},
		{"zero one", "x\n1\n0\n1.0\n0\n1", Classify, []string{"0", "1"}},
		{"three integers", "x\n10\n-2\n3\n3\n10", Classify, []string{"-2", "3", "10"}},
		{"floats", "x\n0.5\n1.5\n2\n2\n1.5", Regress, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := strings.Split(tc.target, "\n")
			var b strings.Builder
			b.WriteString("f,target\n")
			for i, l := range lines[1:] {
				b.WriteString(strings.Repeat("1", i+1) + "," + l + "\n")
			}
			tab := read(t, b.String())
			rows := all(tab)
			if tc.name == "text" {
				rows = rows[1:] // "a" is not in the training rows
			}
			e := fit(t, tab, rows, Config{Target: "target"})
			if tg := e.Target(); tg.Task != tc.task || !slices.Equal(tg.Classes, tc.classes) {
				t.Fatalf("task %v, classes %q; want %v, %q", tg.Task, tg.Classes, tc.task, tc.classes)
			}
		})
	}
}

func TestTwentyIntegersAreClassesTwentyOneAreNot(t *testing.T) {
	for _, tc := range []struct {
		values int
		task   Task
	}{{MaxInferredClasses, Classify}, {MaxInferredClasses + 1, Regress}} {
		var b strings.Builder
		b.WriteString("f,y\n")
		for i := range tc.values {
			b.WriteString("0," + className(float64(i*7)) + "\n")
		}
		tab := read(t, b.String())
		if got := fit(t, tab, all(tab), Config{Target: "y"}).Target().Task; got != tc.task {
			t.Errorf("%d distinct whole numbers: %v, want %v", tc.values, got, tc.task)
		}
	}
}

func TestTaskOverride(t *testing.T) {
	tab := read(t, "f,n,s\n1,0,a\n2,1,b\n3,1,a\n")
	if e := fit(t, tab, all(tab), Config{Target: "n", Task: Regress}); e.Target().Task != Regress {
		t.Error("Regress ignored")
	}
	if e := fit(t, tab, all(tab), Config{Target: "f", Task: Classify, Ignore: []string{"s"}}); e.Target().Task != Classify {
		t.Error("Classify ignored")
	}
	_, err := Fit(tab, all(tab), Config{Target: "s", Task: Regress})
	wantError(t, err, `data.csv:2: column "s": "a" is not a number, and the task is Regress`)
}

// The statistics are those of the training rows: rows 0..2 here, not the
// outlier in row 3.
func TestStandardizationUsesOnlyTheTrainingRows(t *testing.T) {
	tab := read(t, "x,const,y\n1,5,10\n2,5,20\n4,5,60\n1000,7,1000\n")
	e := fit(t, tab, []int{0, 1, 2}, Config{Target: "y", Task: Regress})
	xMean, xStd := 7.0/3, math.Sqrt((math.Pow(1-7.0/3, 2)+math.Pow(2-7.0/3, 2)+math.Pow(4-7.0/3, 2))/3)
	yMean, yStd := 30.0, math.Sqrt((400+100+900)/3.0)
	cols := e.Columns()
	if !near(cols[0].Mean, xMean) || !near(cols[0].Std, xStd) {
		t.Fatalf("x: mean %v std %v, want %v %v", cols[0].Mean, cols[0].Std, xMean, xStd)
	}
	if cols[1].Mean != 5 || cols[1].Std != 1 {
		t.Fatalf("a constant column: mean %v std %v, want 5 and 1", cols[1].Mean, cols[1].Std)
	}
	if tg := e.Target(); !near(tg.Mean, yMean) || !near(tg.Std, yStd) {
		t.Fatalf("target: mean %v std %v, want %v %v", tg.Mean, tg.Std, yMean, yStd)
	}
	x, err := e.EncodeFeatures(tab, []int{3, 0})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{(1000 - xMean) / xStd, 2, (1 - xMean) / xStd, 0}
	for i := range want {
		if !near(float64(x[i]), want[i]) {
			t.Fatalf("features %v, want %v", x, want)
		}
	}
	if v, err := e.Value((1000 - yMean) / yStd); err != nil || !near(v, 1000) {
		t.Fatalf("Value = %v, %v; want 1000", v, err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*max(1, math.Abs(b)) }

func TestOneHot(t *testing.T) {
	tab := read(t, "colour,size,y\nred,1,a\nblue,2,b\ngreen,3,a\nred,4,b\n")
	e := fit(t, tab, all(tab), Config{Target: "y"})
	if got := e.Features(); !slices.Equal(got, []string{"colour=blue", "colour=green", "colour=red", "size"}) {
		t.Fatalf("features %q", got)
	}
	x, err := e.EncodeRow(map[string]string{"colour": " green ", "size": "2.5", "y": "z", "note": "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x[:3], []float32{0, 1, 0}) || x[3] != 0 {
		t.Fatalf("features %v, want green one-hot and the mean size 0", x)
	}
}

func TestClassesAndDecode(t *testing.T) {
	tab := read(t, "f,y\n1,1.0\n2,2\n3,1\n4,-0\n")
	e := fit(t, tab, all(tab), Config{Target: "y"})
	if tg := e.Target(); !tg.NumericClasses || !slices.Equal(tg.Classes, []string{"0", "1", "2"}) {
		t.Fatalf("classes %q (numeric %v)", tg.Classes, tg.NumericClasses)
	}
	d, err := e.Encode(tab, all(tab))
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(t, d); !slices.Equal(got, []int{1, 2, 1, 0}) {
		t.Fatalf("labels %v, want [1 2 1 0]", got)
	}
	if c, err := e.Class(2); c != "2" || err != nil {
		t.Fatalf("Class(2) = %q, %v", c, err)
	}
	_, err = e.Class(3)
	wantError(t, err, "label 3, want 0..2")
	_, err = e.Value(0)
	wantError(t, err, `the target "y" is a class`)

	r := fit(t, tab, all(tab), Config{Target: "y", Task: Regress})
	_, err = r.Class(0)
	wantError(t, err, `the target "y" is a number to regress`)
}

func TestFitErrors(t *testing.T) {
	tab := read(t, "a,b,c\n1,x,0\n2,NA,1\n3,z,inf\n4,n/a,1\n")
	for _, tc := range []struct {
		name string
		rows []int
		cfg  Config
		want string
	}{
		{"unknown target", []int{0}, Config{Target: "d"}, `data.csv has no column "d"; its columns: "a", "b", "c"`},
		{"no target", []int{0}, Config{}, `data.csv: "a", "b", "c"`},
		{"unknown column to ignore", []int{0}, Config{Target: "a", Ignore: []string{"e"}}, `data.csv has no column "e"`},
		{"target ignored", []int{0}, Config{Target: "a", Ignore: []string{"a"}}, `the target "a" is also a column to ignore`},
		{"nothing but the target", []int{0}, Config{Target: "a", Ignore: []string{"b", "c"}}, "no feature columns"},
		{"missing value", []int{0, 1}, Config{Target: "a"}, `data.csv:3: column "b": a missing value ("NA"); nothing is imputed`},
		{"missing value, lower case", []int{0, 3}, Config{Target: "a"}, `data.csv:5: column "b": a missing value ("n/a")`},
		{"infinite number", []int{0, 2}, Config{Target: "a", Ignore: []string{"b"}}, `data.csv:4: column "c": "inf" is not a finite number`},
		{"one class", []int{1, 3}, Config{Target: "c", Ignore: []string{"b"}}, `the target "c" has the one class "1" in the training rows`},
		{"constant target", []int{1, 3}, Config{Target: "c", Task: Regress, Ignore: []string{"b"}}, `the target "c" is 1 in every training row`},
		{"no rows", nil, Config{Target: "a"}, "data.csv: no rows to fit"},
		{"row out of range", []int{0, 4}, Config{Target: "a"}, "data.csv: row 4, want 0..3"},
		{"bad task", []int{0}, Config{Target: "a", Task: 7}, "task 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Fit(tab, tc.rows, tc.cfg)
			if e != nil {
				t.Error("an encoder with the error")
			}
			wantError(t, err, tc.want)
		})
	}
}

// A column of text with more than MaxCategories values is refused, naming a
// cell that made it text; so is one declared categorical.
func TestTooManyCategories(t *testing.T) {
	var b strings.Builder
	b.WriteString("n,y\n")
	for i := range MaxCategories + 2 {
		if i%2 == 1 {
			b.WriteString("w") // half the cells are words: text
		}
		b.WriteString(className(float64(i)) + ",1\n")
	}
	tab := read(t, b.String())
	_, err := Fit(tab, all(tab), Config{Target: "y"})
	wantError(t, err, `data.csv: column "n": 1002 distinct values`, `(it is text: "w1" on line 3 and 500 more of its 1002 training cells are not numbers)`, "ignore the column")

	b.Reset()
	b.WriteString("n,y\n")
	for i := range MaxCategories + 1 {
		b.WriteString(className(float64(i)) + ",1\n")
	}
	tab = read(t, b.String())
	_, err = Fit(tab, all(tab), Config{Target: "y", Categorical: []string{"n"}})
	wantError(t, err, `data.csv: column "n": 1001 distinct values`, "(it is declared categorical)")
}

func TestEncodeErrors(t *testing.T) {
	train := read(t, "n,word,y\n1,a,p\n2,b,q\n")
	e := fit(t, train, all(train), Config{Target: "y"})
	long := strings.Repeat("é", 50)
	for _, tc := range []struct {
		name, content string
		want          string
	}{
		{"unseen category", "y,word,n\np,c,1\n", `data.csv:2: column "word": "c" is not one of the 2 categories of the training rows`},
		{"unseen category, cut", "n,word,y\n1,a,p\n1," + long + ",p\n", `data.csv:3: column "word": "` + long[:80] + `"… is not one of`},
		{"not a number", "n,word,y\n1,a,p\n\"1\n\",a,p\nx1,b,q\n", `data.csv:5: column "n": "x1" is not a number, and the column is numeric`},
		{"missing number", "n,word,y\n,a,p\n", `data.csv:2: column "n": a missing value ("")`},
		{"infinite number", "n,word,y\n-Inf,a,p\n", `data.csv:2: column "n": "-Inf" is not a finite number`},
		{"beyond float32", "n,word,y\n1e300,a,p\n", `data.csv:2: column "n": standardizes to`},
		{"unseen class", "n,word,y\n1,a,r\n", `data.csv:2: column "y": class "r" is not one of the 2 of the training rows`},
		{"missing class", "n,word,y\n1,a,null\n", `data.csv:2: column "y": a missing value ("null")`},
		{"missing feature column", "n,y\n1,p\n", `data.csv has no column "word"; its columns: "n", "y"`},
		{"missing target column", "n,word\n1,a\n", `data.csv has no column "y"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := read(t, tc.content)
			d, err := e.Encode(tab, all(tab))
			if d != nil {
				t.Error("a dataset with the error")
			}
			wantError(t, err, tc.want)
		})
	}
	// Rows to predict need no target.
	tab := read(t, "word,n\nb,1\n")
	if x, err := e.EncodeFeatures(tab, all(tab)); err != nil || !slices.Equal(x, []float32{-1, 0, 1}) {
		t.Fatalf("EncodeFeatures = %v, %v", x, err)
	}
}

func TestEncodeRowErrors(t *testing.T) {
	train := read(t, "n,word,y\n1,a,p\n2,b,q\n")
	e := fit(t, train, all(train), Config{Target: "y"})
	_, err := e.EncodeRow(map[string]string{"n": "1"})
	var missingCol *MissingColumnError
	if !errors.As(err, &missingCol) || missingCol.Column != "word" {
		t.Fatalf("error %v, want a *MissingColumnError for word", err)
	}
	wantError(t, err, `the row has no column "word"`)
	_, err = e.EncodeRow(map[string]string{"n": "1", "word": "c"})
	wantError(t, err, `column "word": "c" is not one of the 2 categories`)
	_, err = e.EncodeRow(map[string]string{"n": "?", "word": "a"})
	wantError(t, err, `column "n": a missing value ("?")`)
}

// labels returns the labels of d, in order.
func labels(t *testing.T, d *datasets.Dataset) []int {
	t.Helper()
	b, err := d.Batches(d.Len(), false)
	if err != nil {
		t.Fatal(err)
	}
	batch := &datasets.Batch{Inputs: [][]float32{make([]float32, d.Len()*d.InputShapes()[0][0])}, Labels: make([]int, d.Len())}
	if _, err := b.Fill(0, batch); err != nil {
		t.Fatal(err)
	}
	return batch.Labels
}
