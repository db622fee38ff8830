package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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
func tabularModel(t *testing.T, csvPath string) string {
	t.Helper()
	table, err := tabular.Read(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]int, table.Len())
	for i := range rows {
		rows[i] = i
	}
	enc, err := tabular.Fit(table, rows, tabular.Config{Target: "size"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := enc.Encode(table, rows)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := mlp.New(mlp.Config{Inputs: enc.Width(), Hidden: []int{16}, NoDropout: true, Outputs: 2})
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
	dir := t.TempDir()
	trainCSV := filepath.Join(dir, "train.csv")
	writeCSV(t, trainCSV, 300)
	ckpt := tabularModel(t, trainCSV)
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("colour,x\nred,1.9\nblue,0.1\ngreen,1\nred,\nblue,1.95\n"), 0o644)
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
	dir := t.TempDir()
	trainCSV := filepath.Join(dir, "train.csv")
	writeCSV(t, trainCSV, 300)
	ckpt := tabularModel(t, trainCSV)
	rows := filepath.Join(dir, "rows.tsv")
	os.WriteFile(rows, []byte("colour\tx\nred\t1.9\nblue\t0.1\n"), 0o644)
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
