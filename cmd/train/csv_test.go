package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/models"
)

// writeTable writes n rows of two numbers and a colour; the class is the
// sign of x − y + (colour = red), the value 3x − 2y + 0.5·(red) + noise.
func writeTable(t *testing.T, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	var b strings.Builder
	b.WriteString("x,y,colour,class,value\n")
	for i := 0; i < n; i++ {
		x, y := rng.NormFloat64(), rng.NormFloat64()
		colour, red := "blue", 0.0
		if rng.IntN(2) == 0 {
			colour, red = "red", 1
		}
		class := "no"
		if x-y+red > 0.5 {
			class = "yes"
		}
		fmt.Fprintf(&b, "%.4f,%.4f,%s,%s,%.4f\n", x, y, colour, class, 3*x-2*y+0.5*red+0.1*rng.NormFloat64())
	}
	path := filepath.Join(t.TempDir(), "table.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

// TestCSVClassification trains on a CSV file (hidden layers chosen by
// cross-validation), then evaluates the checkpoint on the file with -eval.
func TestCSVClassification(t *testing.T) {
	csv, dir := writeTable(t, 300), t.TempDir()
	last := runOK(t, "-csv", csv, "-target", "class", "-out", dir, "-epochs", "60", "-quiet")
	m := regexp.MustCompile(`^test accuracy: (\d+\.\d\d)% \((\d+)/60\)$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q", last)
	}
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 85 {
		t.Errorf("accuracy %s%% on a nearly linear rule", m[1])
	}
	for _, f := range []string{"config.json", "metrics.jsonl", "last.safetensors", "best.safetensors", "curves.png", "rows.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	ev := runOK(t, "-eval", filepath.Join(dir, "best.safetensors"), "-csv", csv, "-out", t.TempDir())
	if !regexp.MustCompile(`^test accuracy: \d+\.\d\d% \(\d+/300\)$`).MatchString(ev) {
		t.Errorf("-eval last line %q", ev)
	}
}

// TestCSVRegression: a float target is a regression; the last line gives
// the test MSE, MAE and R² in the target's unit.
func TestCSVRegression(t *testing.T) {
	csv := writeTable(t, 300)
	last := runOK(t, "-csv", csv, "-target", "value", "-hidden", "", "-out", t.TempDir(), "-quiet")
	m := regexp.MustCompile(`^test mse: (\d+\.\d{4})  mae: (\d+\.\d{4})  r2: (-?\d\.\d{4})$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q", last)
	}
	// The noise has variance 0.01 of a target of variance ≈ 13.
	if mse, _ := strconv.ParseFloat(m[1], 64); mse > 0.1 {
		t.Errorf("test mse %v", mse)
	}
	if r2, _ := strconv.ParseFloat(m[3], 64); r2 < 0.99 {
		t.Errorf("test r2 %v", r2)
	}
}

// TestCSVDelimiter: the same table separated by semicolons, with
// -delimiter ";", trains to the same result as the commas (and -eval
// reads it the same way); without -delimiter its one column is refused
// before any training, with a hint at the delimiter.
func TestCSVDelimiter(t *testing.T) {
	comma := writeTable(t, 120)
	b, err := os.ReadFile(comma)
	if err != nil {
		t.Fatal(err)
	}
	semi := filepath.Join(t.TempDir(), "semi.csv")
	if err := os.WriteFile(semi, bytes.ReplaceAll(b, []byte(","), []byte(";")), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-target", "value", "-hidden", "", "-epochs", "20", "-quiet"}
	want := runOK(t, append(args, "-csv", comma, "-out", t.TempDir())...)
	dir := t.TempDir()
	got := runOK(t, append(args, "-csv", semi, "-delimiter", ";", "-out", dir)...)
	if got != want {
		t.Errorf("semicolons: %q, commas: %q", got, want)
	}
	if ev := runOK(t, "-eval", filepath.Join(dir, "last.safetensors"), "-csv", semi, "-delimiter", ";"); !strings.HasPrefix(ev, "test mse: ") {
		t.Errorf("-eval with -delimiter: %q", ev)
	}
	var out, errb bytes.Buffer
	// Said once, before cross-validation, with the delimiter it probably is.
	code := run(context.Background(), append(args, "-csv", semi, "-out", t.TempDir()), &out, &errb)
	if msg := errb.String(); code != 1 || !strings.Contains(msg, `no column "value"`) || !strings.Contains(msg, `separated by ";"`) || strings.Contains(msg, "fold") {
		t.Errorf("semicolons read as commas: exit %d: %s", code, msg)
	}
}

// TestCSVResumeIsExact: 3 epochs and a resume to 6 are the 6 straight.
func TestCSVResumeIsExact(t *testing.T) {
	csv := writeTable(t, 200)
	args := []string{"-csv", csv, "-target", "value", "-hidden", "8", "-patience", "0", "-quiet"}
	straight, parted := t.TempDir(), t.TempDir()
	want := runOK(t, append(args, "-epochs", "6", "-out", straight)...)
	runOK(t, append(args, "-epochs", "3", "-out", parted)...)
	got := runOK(t, "-resume", filepath.Join(parted, "last.safetensors"), "-epochs", "6", "-quiet")
	if got != want {
		t.Errorf("resumed %q, straight %q", got, want)
	}
	a, _ := os.ReadFile(filepath.Join(straight, "metrics.jsonl"))
	b, _ := os.ReadFile(filepath.Join(parted, "metrics.jsonl"))
	strip := regexp.MustCompile(`"(seconds|samples_per_s)":[^,}]*`)
	if sa, sb := strip.ReplaceAllString(string(a), ""), strip.ReplaceAllString(string(b), ""); sa != sb {
		t.Errorf("metrics differ:\n%s\n%s", sa, sb)
	}
}

// TestFlagsAModeDoesNotUse are refused, never ignored.
func TestFlagsAModeDoesNotUse(t *testing.T) {
	csv := writeTable(t, 40)
	for _, args := range [][]string{
		{"-csv", csv}, // no target
		{"-csv", csv, "-target", "class", "-val", "10"},    // MNIST's -val
		{"-csv", csv, "-target", "class", "-model", "cnn"}, // the model is the data's MLP
		{"-csv", csv, "-target", "class", "-data", "."},    // MNIST's folder
		{"-target", "class"},                               // no -csv
		{"-hidden", "8"},
		{"-eval", "x.safetensors", "-epochs", "3"},
		{"-eval", "x.safetensors", "-init-from", "y.safetensors"},
		{"-eval", "x.safetensors", "-dot", "g.dot"},
		{"-resume", "x.safetensors", "-hidden", "8"},
		{"-csv", csv, "-target", "class", "-task", "guess"},
		{"-csv", csv, "-target", "class", "-delimiter", ";;"},
		{"-csv", csv, "-target", "class", "-delimiter", `"`},
		{"-delimiter", ";"},                                // an MNIST run reads no CSV
		{"-mirrors", "http://example.invalid"},             // mirrors without -download
		{"-mirrors", ""},                                   // the default mirrors, without -download
		{"-eval", "x.safetensors", "-mirrors", "http://x"}, // the same with -eval
		{"-download", "-mirrors", "http://x,,http://y"},    // an empty URL
		{"-download", "-data", "."},                        // -download reads the cache
		{"-csv", csv, "-target", "class", "-download"},     // MNIST's download
		{"-csv", csv, "-target", "class", "-mirrors", "u"}, // and its mirrors
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d (%q), want 2 and a message", args, code, errb.String())
		}
	}
}

// TestCSVTestFile: -test-csv tests on every row of another file instead of
// a held-out 20% of -csv's (rows.json says no test rows of -csv), and the
// test line is that of -eval of the final weights on that file.
func TestCSVTestFile(t *testing.T) {
	b, err := os.ReadFile(writeTable(t, 250))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	dir := t.TempDir()
	trainCSV, testCSV := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	if err := os.WriteFile(trainCSV, []byte(strings.Join(lines[:201], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(testCSV, []byte(lines[0]+strings.Join(lines[201:], "")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	last := runOK(t, "-csv", trainCSV, "-test-csv", testCSV, "-target", "class", "-hidden", "8", "-epochs", "40",
		"-val-fraction", "0", "-patience", "0", "-out", run, "-quiet")
	m := regexp.MustCompile(`^test accuracy: (\d+\.\d\d)% \(\d+/50\)$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q, want the accuracy on the 50 rows of %s", last, testCSV)
	}
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 80 {
		t.Errorf("accuracy %s%% on a nearly linear rule", m[1])
	}
	if ev := runOK(t, "-eval", filepath.Join(run, "last.safetensors"), "-csv", testCSV, "-quiet", "-out", t.TempDir()); ev != last {
		t.Errorf("-eval of the final weights on %s: %q, the run's test line: %q", testCSV, ev, last)
	}
	rows, err := os.ReadFile(filepath.Join(run, "rows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var split map[string][]int
	if err := json.Unmarshal(rows, &split); err != nil {
		t.Fatal(err)
	}
	if len(split["train"]) != 200 || len(split["test"]) != 0 || len(split["validation"]) != 0 {
		t.Errorf("rows.json: %d training rows, test %v, validation %v; want the 200 of %s, no others", len(split["train"]), split["test"], split["validation"], trainCSV)
	}
	// A test file without the target column is refused, naming it.
	noTarget := filepath.Join(dir, "no-target.csv")
	if err := os.WriteFile(noTarget, []byte("x,y,colour,value\n0.1,0.2,red,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCode("-csv", trainCSV, "-test-csv", noTarget, "-target", "class", "-hidden", "8", "-epochs", "1", "-quiet", "-out", t.TempDir())
	if code != 1 || !strings.Contains(stderr, noTarget) || !strings.Contains(stderr, `"class"`) {
		t.Errorf("a test file without the target: exit %d, %q", code, stderr)
	}
}

// TestCSVCategorical: a column of numbers with one typo is an error that
// names the cell; -categorical makes a column of codes written as numbers
// (here the colours as 10 and 20) one-hot features rather than one number
// (the model's inputs go from 4 to 5), saved for -resume; a column
// -categorical names must exist; MNIST runs refuse the flag.
func TestCSVCategorical(t *testing.T) {
	b, err := os.ReadFile(writeTable(t, 120))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	cells := strings.Split(lines[5], ",")
	cells[1] = "0.25x" // line 6, column y
	lines[5] = strings.Join(cells, ",")
	typo := filepath.Join(t.TempDir(), "typo.csv")
	if err := os.WriteFile(typo, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-csv", typo, "-target", "class", "-hidden", "", "-epochs", "3", "-quiet", "-out", t.TempDir()}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `typo.csv:6: column "y": "0.25x" is not a number`) {
		t.Errorf("a typo in a column of numbers: exit %d: %s", code, errb.String())
	}

	codes := filepath.Join(t.TempDir(), "codes.csv")
	coded := strings.NewReplacer(",red,", ",10,", ",blue,", ",20,").Replace(string(b))
	if err := os.WriteFile(codes, []byte(coded), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-csv", codes, "-target", "class", "-hidden", "", "-epochs", "3", "-quiet"}
	inputs := func(dir string) int {
		t.Helper()
		m, _, err := models.Load(filepath.Join(dir, "last.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		return m.InSize(0)
	}
	plain, declared := t.TempDir(), t.TempDir()
	runOK(t, append(args, "-out", plain)...)
	runOK(t, append(args, "-categorical", "colour", "-out", declared)...)
	if a, b := inputs(plain), inputs(declared); a != 4 || b != 5 {
		t.Errorf("inputs %d without -categorical, %d with; want 4 and 5", a, b)
	}
	if got := runOK(t, "-resume", filepath.Join(declared, "last.safetensors"), "-epochs", "4", "-quiet"); !strings.HasPrefix(got, "test accuracy: ") {
		t.Errorf("resumed with the saved -categorical: %q", got)
	}
	errb.Reset()
	if code := run(context.Background(), append(args, "-categorical", "nosuch", "-out", t.TempDir()), &out, &errb); code == 0 || !strings.Contains(errb.String(), "nosuch") {
		t.Errorf("-categorical of a column the file lacks: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"-categorical", "y", "-limit", "100", "-epochs", "1", "-out", t.TempDir()}, &out, &errb); code != 2 {
		t.Errorf("-categorical in an MNIST run: exit %d: %s", code, errb.String())
	}
}
