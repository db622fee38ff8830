package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// writeCSV writes a table whose class is "big" when x + (colour == red) > 1.
func writeCSV(t *testing.T, path string, rows int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 3))
	var b strings.Builder
	b.WriteString("x,colour,size\n")
	for i := 0; i < rows; i++ {
		x := rng.Float64() * 2
		colour := []string{"red", "blue"}[rng.IntN(2)]
		v := x
		if colour == "red" {
			v++
		}
		size := "small"
		if v > 1.5 {
			size = "big"
		}
		fmt.Fprintf(&b, "%.3f,%s,%s\n", x, colour, size)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tabularModel trains a classifier on the table with the library, as a
// user would, and saves it with its encoder.
// rowsFixture trains the tabular model on a training CSV of 300 rows and
// writes content to a rows file of the given name beside it (the training
// file is train.csv in the same folder).
func rowsFixture(t *testing.T, name, content string) (ckpt, rows string) {
	t.Helper()
	dir := t.TempDir()
	trainCSV := filepath.Join(dir, "train.csv")
	writeCSV(t, trainCSV, 300)
	rows = filepath.Join(dir, name)
	writeFile(t, rows, content)
	return tabularModel(t, trainCSV), rows
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tabularModel(t *testing.T, csvPath string) string {
	t.Helper()
	return trainTabular(t, csvPath, tabular.Config{Target: "size"})
}

// trainTabular trains a model of the task cfg says on the table, as
// tabularModel does.
func trainTabular(t *testing.T, csvPath string, cfg tabular.Config) string {
	t.Helper()
	table, err := tabular.Read(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]int, table.Len())
	for i := range rows {
		rows[i] = i
	}
	enc, err := tabular.Fit(table, rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := enc.Encode(table, rows)
	if err != nil {
		t.Fatal(err)
	}
	net := mlp.Config{Inputs: enc.Width(), Hidden: []int{16}, NoDropout: true, Outputs: len(enc.Target().Classes)}
	if enc.Target().Task == tabular.Regress {
		net.Outputs, net.Loss = 1, graph.MSE{}
	}
	arch, err := mlp.New(net)
	if err != nil {
		t.Fatal(err)
	}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New(optim.Config{Name: "adam", LR: 0.01})
	tr, err := train.New(m, opt, train.Config{Batch: 16, Epochs: 40, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	src, err := d.Batches(16, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Fit(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(enc)
	tr.Meta = map[string]string{tabular.MetaKey: string(meta)}
	path := filepath.Join(t.TempDir(), "tab.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPredictRows predicts a CSV file: one line per good row, an error
// naming the line for each bad one (a missing value, an unseen category),
// and exit status 1.
func TestPredictRows(t *testing.T) {
	ckpt, rows := rowsFixture(t, "rows.csv", "colour,x\nred,1.9\nblue,0.1\ngreen,1\nred,\nblue,1.95\n")
	var out, errb bytes.Buffer
	code := run([]string{"-model", ckpt, "-csv", rows}, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1 (two bad rows)", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "row,size,probability" {
		t.Fatalf("output:\n%s", out.String())
	}
	for i, want := range []string{"1,big,", "2,small,", "5,big,"} {
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i+1], want)
		}
	}
	for _, want := range []string{"rows.csv line 4", `"green" is not one of the 2 categories`, "rows.csv line 5", "missing"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	// An MNIST model has no encoder; images with a tabular model do not fit.
	out.Reset()
	errb.Reset()
	if code := run([]string{"-model", ckpt, "digit.png"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "not one 28×28 image") {
		t.Errorf("images with a tabular model: exit %d, %s", code, errb.String())
	}
	if code := run([]string{"-model", ckpt, "-csv", rows, "digit.png"}, &out, &errb); code != 2 {
		t.Errorf("-csv and images together: exit %d, want 2", code)
	}
}

// TestPredictRowsDelimiter reads tab-separated rows with -delimiter tab,
// and refuses a delimiter without -csv or one encoding/csv cannot use.
func TestPredictRowsDelimiter(t *testing.T) {
	ckpt, rows := rowsFixture(t, "rows.tsv", "colour\tx\nred\t1.9\nblue\t0.1\n")
	var out, errb bytes.Buffer
	if code := run([]string{"-model", ckpt, "-csv", rows, "-delimiter", "tab"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "1,big,") || !strings.HasPrefix(lines[2], "2,small,") {
		t.Errorf("output:\n%s", out.String())
	}
	for _, args := range [][]string{
		{"-model", ckpt, "-delimiter", ";", "digit.png"},
		{"-model", ckpt, "-csv", rows, "-delimiter", "\n"},
	} {
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestPredictRowsTop: -top N gives a classifier's N most probable classes
// per row (no more than it has), each with its probability, most probable
// first, the first the class printed without -top; a regression, which
// has no classes, refuses -top with exit status 2, and so does -top 0.
func TestPredictRowsTop(t *testing.T) {
	ckpt, rows := rowsFixture(t, "rows.csv", "colour,x\nred,1.9\nblue,0.1\nblue,0.8\n")
	predict := func(args ...string) []string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(append([]string{"-model", ckpt, "-csv", rows}, args...), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return strings.Split(strings.TrimSpace(out.String()), "\n")
	}
	one := predict()
	if got := predict("-top", "1"); strings.Join(got, "\n") != strings.Join(one, "\n") {
		t.Errorf("-top 1:\n%s\nwithout -top:\n%s", strings.Join(got, "\n"), strings.Join(one, "\n"))
	}
	two := predict("-top", "2")
	if got := predict("-top", "7"); strings.Join(got, "\n") != strings.Join(two, "\n") {
		t.Errorf("-top 7 of 2 classes:\n%s\n-top 2:\n%s", strings.Join(got, "\n"), strings.Join(two, "\n"))
	}
	if len(two) != 4 || two[0] != "row,size,probability,size_2,probability_2" {
		t.Fatalf("-top 2:\n%s", strings.Join(two, "\n"))
	}
	for i, line := range two[1:] {
		f := strings.Split(line, ",")
		if len(f) != 5 || !strings.HasPrefix(line, one[i+1]+",") || f[1] == f[3] {
			t.Errorf("row %d: %q, without -top %q", i+1, line, one[i+1])
			continue
		}
		p1, _ := strconv.ParseFloat(f[2], 64)
		p2, _ := strconv.ParseFloat(f[4], 64)
		if p1 < p2 || math.Abs(p1+p2-1) > 2e-4 {
			t.Errorf("row %d: probabilities %v and %v", i+1, p1, p2)
		}
	}
	dir := filepath.Dir(rows)
	reg := trainTabular(t, filepath.Join(dir, "train.csv"), tabular.Config{Target: "x"})
	for _, args := range [][]string{
		{"-model", reg, "-csv", rows, "-top", "2"},
		{"-model", ckpt, "-csv", rows, "-top", "0"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || out.Len() != 0 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing and a message", args, code, out.String(), errb.String())
		}
	}
	regRows := filepath.Join(dir, "reg.csv")
	writeFile(t, regRows, "colour,size\nred,big\n")
	var out, errb bytes.Buffer
	if code := run([]string{"-model", reg, "-csv", regRows}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "row,x\n1,") {
		t.Errorf("the regression without -top: exit %d, %q, %s", code, out.String(), errb.String())
	}
}

// TestPredictRowsWrongWidth: a row of fewer or more fields than the header
// is an error of its own, naming its line, as other bad rows are; the
// other rows are still predicted under their own row numbers, whatever
// lies between (empty lines, a line of spaces, a quoted line break, CRLF
// line ends, a byte order mark), and the exit status is 1.
func TestPredictRowsWrongWidth(t *testing.T) {
	ckpt, rows := rowsFixture(t, "rows.csv", "\ufeffcolour,x\r\n"+ // line 1
		"red,1.9\r\n"+ // line 2, row 1
		"\r\n"+ // line 3
		"blue\r\n"+ // line 4, row 2: a field less
		"  \r\n"+ // line 5
		"\"bl\nue\",0.1,9\n"+ // lines 6 and 7, row 3: a field more
		"blue,0.1\n"+ // line 8, row 4
		"red,\n"+ // line 9, row 5: a missing value
		"blue,1.95") // line 10, row 6
	var out, errb bytes.Buffer
	code := run([]string{"-model", ckpt, "-csv", rows}, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1 (three bad rows): %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "row,size,probability" {
		t.Fatalf("output:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	for i, want := range []string{"1,big,", "4,small,", "6,big,"} {
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i+1], want)
		}
	}
	msgs := strings.Split(strings.TrimSpace(errb.String()), "\n")
	want := []string{
		"predict: " + rows + ` line 4: 1 fields, the header has 2: no value for column "x"`,
		"predict: " + rows + ` line 6: 3 fields, the header has 2: a field after the last column, "x"`,
		"predict: " + rows + " line 9: ",
	}
	if len(msgs) != len(want) {
		t.Fatalf("stderr:\n%s", errb.String())
	}
	for i := range want {
		if !strings.HasPrefix(msgs[i], want[i]) {
			t.Errorf("message %d = %q, want prefix %q", i+1, msgs[i], want[i])
		}
	}
	// A file whose only row is short: that row's error, the header line, exit 1.
	writeFile(t, rows, "colour,x\nred\n")
	out.Reset()
	errb.Reset()
	code = run([]string{"-model", ckpt, "-csv", rows}, &out, &errb)
	if code != 1 || out.String() != "row,size,probability\n" || !strings.Contains(errb.String(), rows+` line 2: 1 fields, the header has 2: no value for column "x"`) {
		t.Errorf("one short row: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}
