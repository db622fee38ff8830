//go:build linux

package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
	"github.com/tapestry-ml/tapestry/internal/hostile"
)

var hostileAll = flag.Bool("hostile.all", false, "try every hostile case, not a sample of each class")

// hostileSample is how many cases of each class and fixture a run tries
// without -hostile.all.
const hostileSample = 4

// Environment of the child.
const (
	envFixtures = "TAPESTRY_HOSTILE_PREDICT_FIXTURES"
	envCases    = "TAPESTRY_HOSTILE_PREDICT_CASES"
	envAll      = "TAPESTRY_HOSTILE_ALL"
)

func everyCase() bool { return *hostileAll || os.Getenv(envAll) == "true" }

// TestHostileFiles feeds damaged checkpoints (an MLP, a CNN and a tabular
// model written by the library, and the first-format test file), damaged
// images and CSV files, and paths that are no regular file in the place of
// each, to cmd/predict, in one child process whose address space may grow
// by memlimit.Budget (1 GiB), each with a timeout: every trial that must
// fail does, with a short message naming the file, no panic, in a few
// seconds. -hostile.all tries every case.
func TestHostileFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	fixtures := t.TempDir()
	if _, err := hostile.WriteFixtures(fixtures); err != nil {
		t.Fatal(err)
	}
	if err := writeDigitPNG(filepath.Join(fixtures, "digit.png")); err != nil {
		t.Fatal(err)
	}
	cases, err := os.MkdirTemp("", "hz") // short: a Unix socket's path is at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cases) })
	trials, counts := predictTrials(t, fixtures, cases)
	outs := hostile.RunAll(t, "TestHelperHostilePredict", memlimit.Budget, 30*time.Second, trials,
		envFixtures+"="+fixtures, envCases+"="+cases, fmt.Sprintf("%s=%v", envAll, everyCase()))
	failed, ok := hostile.Check(t, trials, outs, 1200, 10*time.Second)
	sum, slowest := 0.0, 0.0
	for _, o := range outs {
		sum, slowest = sum+o.Seconds, max(slowest, o.Seconds)
	}
	t.Logf("%d trials (%d failed as they should or may, %d accepted) in %.1fs, slowest %.2fs, under a %d MiB budget; cases per class: %v",
		len(trials), failed, ok, sum, slowest, memlimit.Budget>>20, counts)
	t.Logf("per class:%s", hostile.Summary(trials, outs))
}

// TestHelperHostilePredict is the child of TestHostileFiles.
func TestHelperHostilePredict(t *testing.T) {
	fixtures, cases := os.Getenv(envFixtures), os.Getenv(envCases)
	if fixtures == "" {
		t.Skip("the child of TestHostileFiles")
	}
	trials, _ := predictTrials(t, fixtures, cases)
	hostile.Child(t, trials, func(args []string, stdout, stderr io.Writer) int { return run(args, stdout, stderr) })
}

// writeDigitPNG draws a dark "1" on white, as a photographed digit.
func writeDigitPNG(path string) error {
	img := image.NewGray(image.Rect(0, 0, 60, 60))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 10; y < 50; y++ {
		for x := 27; x < 33; x++ {
			img.SetGray(x, y, color.Gray{})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return png.Encode(f, img)
}

// predictTrials builds the trials, the same in the parent and the child.
func predictTrials(t *testing.T, fixtures, cases string) ([]hostile.Trial, map[hostile.Class]int) {
	t.Helper()
	counts := map[hostile.Class]int{}
	sample := func(cs []hostile.Case) []hostile.Case {
		if !everyCase() {
			cs = hostile.Sample(cs, hostileSample)
		}
		for c, n := range hostile.Count(cs) {
			counts[c] += n
		}
		return cs
	}
	digit, csv := filepath.Join(fixtures, "digit.png"), filepath.Join(fixtures, hostile.CSVName)
	mlp, tab := filepath.Join(fixtures, "mlp.safetensors"), filepath.Join(fixtures, "tabular.safetensors")
	var trials []hostile.Trial
	add := func(what string, i int, c hostile.Case, name string, args func(file string) []string) {
		file := filepath.Join(cases, what, fmt.Sprint(i), name)
		trials = append(trials, hostile.Trial{Name: fmt.Sprintf("%s: %s: %s", what, c.Class, c.Name), Case: c, File: file,
			Args: args(file), Watch: filepath.Dir(file), MustFail: c.Scope == hostile.All || what == "v1"})
	}
	for _, f := range []string{"mlp", "cnn", "tabular", "v1"} {
		path := filepath.Join(fixtures, f+".safetensors")
		if f == "v1" {
			path = "../../checkpoint/testdata/v1-mlp.safetensors"
		}
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := hostile.Checkpoint(good)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range sample(append(cs, hostile.Special()...)) {
			add(f, i, c, "model.safetensors", func(file string) []string {
				if f == "tabular" {
					return []string{"-model", file, "-csv", csv}
				}
				return []string{"-model", file, digit}
			})
		}
	}
	for i, c := range sample(append(hostile.Images(), hostile.Special()...)) {
		add("image", i, c, "digit.png", func(file string) []string { return []string{"-model", mlp, file} })
	}
	good, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := hostile.CSV(string(good), "x", "colour")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range sample(append(cs, hostile.Special()...)) {
		add("csv", i, c, "rows.csv", func(file string) []string { return []string{"-model", tab, "-csv", file} })
	}
	return trials, counts
}

// TestNonRegularPathsFailFast: a FIFO as the checkpoint, a folder as an
// image, a FIFO as the CSV file: each is refused at once, saying what it is.
func TestNonRegularPathsFailFast(t *testing.T) {
	fixtures := t.TempDir()
	if _, err := hostile.WriteFixtures(fixtures); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", fifo, "x.png"}, fifo + ": is a named pipe (FIFO), not a regular file"},
		{[]string{"-model", filepath.Join(fixtures, "mlp.safetensors"), dir}, dir + ": is a directory"},
		{[]string{"-model", filepath.Join(fixtures, "tabular.safetensors"), "-csv", fifo}, fifo + ": is a named pipe (FIFO), not a regular file"},
	} {
		var errb bytes.Buffer
		code := -1
		done := make(chan struct{})
		go func() { defer close(done); code = run(c.args, io.Discard, &errb) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: still running after 10s", c.args)
		}
		if code != 1 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, %q; want 1 and %q", c.args, code, errb.String(), c.want)
		}
	}
}
