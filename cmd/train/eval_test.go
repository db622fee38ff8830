package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tabularRuns trains, in a few seconds, a classifier and a regression on
// the same table and returns the table and the two run folders.
func tabularRuns(t *testing.T) (csv, classifier, regression string) {
	t.Helper()
	csv, classifier, regression = writeTable(t, 100), t.TempDir(), t.TempDir()
	runOK(t, "-csv", csv, "-target", "class", "-hidden", "8", "-epochs", "3", "-out", classifier, "-quiet")
	runOK(t, "-csv", csv, "-target", "value", "-hidden", "", "-epochs", "3", "-out", regression, "-quiet")
	return csv, classifier, regression
}

// runCode runs the command and returns its exit status, stdout and stderr.
func runCode(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestEvalCPUProfile: -cpuprofile with -eval profiles the evaluation, as it
// profiles a run.
func TestEvalCPUProfile(t *testing.T) {
	csv, dir, _ := tabularRuns(t)
	prof := filepath.Join(t.TempDir(), "eval.pprof")
	runOK(t, "-eval", filepath.Join(dir, "best.safetensors"), "-csv", csv, "-cpuprofile", prof, "-quiet", "-out", t.TempDir())
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatalf("-eval -cpuprofile wrote no profile: %v", err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b { // pprof's gzipped protocol buffer
		t.Errorf("-eval -cpuprofile wrote %d bytes that are no pprof profile", len(b))
	}
}

// TestFlagsATabularCheckpointDoesNotUse: the flags that find MNIST are
// refused by -eval and -resume of a tabular run's checkpoint (exit 2, a
// message saying why), before anything is written; so are -out for the
// evaluation of a regression, which writes no file, and both -csv and
// -test-csv with -eval, which reads one file.
func TestFlagsATabularCheckpointDoesNotUse(t *testing.T) {
	csv, cdir, rdir := tabularRuns(t)
	best, last := filepath.Join(cdir, "best.safetensors"), filepath.Join(cdir, "last.safetensors")
	before := listDir(t, cdir)
	export := filepath.Join(t.TempDir(), "torch.safetensors")
	out, prof := filepath.Join(t.TempDir(), "eval"), filepath.Join(t.TempDir(), "cpu.pprof")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-eval", best, "-csv", csv, "-data", "."}, "-data cannot be given with -eval of " + best + ", a tabular model evaluated on the rows of -csv: -data finds MNIST"},
		{[]string{"-eval", best, "-csv", csv, "-download"}, "-download cannot be given with -eval of " + best},
		{[]string{"-eval", best, "-csv", csv, "-download", "-mirrors", "http://example.invalid"}, "-download and -mirrors cannot be given with -eval of " + best},
		{[]string{"-eval", best, "-csv", csv, "-data", ".", "-export-torch", export, "-cpuprofile", prof}, "-data finds MNIST"},
		{[]string{"-eval", best, "-csv", csv, "-test-csv", csv}, "-csv and -test-csv cannot both be given with -eval of " + best},
		{[]string{"-eval", best}, "say the rows to evaluate on with -csv FILE"},
		{[]string{"-resume", last, "-epochs", "10", "-data", "."}, "-data cannot be given with -resume of " + last + ", a tabular run's checkpoint, which reads its own CSV file"},
		{[]string{"-resume", last, "-epochs", "10", "-download"}, "-download finds MNIST"},
		{[]string{"-resume", last, "-download", "-mirrors", ""}, "-download and -mirrors find MNIST"},
		{[]string{"-eval", filepath.Join(rdir, "best.safetensors"), "-csv", csv, "-out", out, "-export-torch", export},
			"-out cannot be given with -eval of " + filepath.Join(rdir, "best.safetensors") + ": -out is the folder of confusion.png"},
	} {
		code, stdout, stderr := runCode(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
		if stdout != "" {
			t.Errorf("%v: printed %q", c.args, stdout)
		}
	}
	for _, f := range []string{export, out, prof} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("a refused command wrote %s", f)
		}
	}
	if after := listDir(t, cdir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("the run folder went from %v to %v", before, after)
	}
}

// TestEvalOut: -out is where -eval of a classifier draws confusion.png,
// created if need be, with -quiet as without (which prints only the last
// line); without -out it goes beside the checkpoint. A regression's
// evaluation writes nothing, here or there.
func TestEvalOut(t *testing.T) {
	csv, cdir, rdir := tabularRuns(t)
	best := filepath.Join(cdir, "best.safetensors")
	for _, quiet := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "new", "folder")
		args := []string{"-eval", best, "-csv", csv, "-out", out}
		if quiet {
			args = append(args, "-quiet")
		}
		code, stdout, stderr := runCode(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "confusion.png")); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if quiet != (len(lines) == 1) || !regexp.MustCompile(`^test accuracy: \d+\.\d\d% \(\d+/100\)$`).MatchString(lines[len(lines)-1]) {
			t.Errorf("%v printed:\n%s", args, stdout)
		}
	}
	os.Remove(filepath.Join(cdir, "confusion.png"))
	runOK(t, "-eval", best, "-csv", csv, "-quiet")
	if _, err := os.Stat(filepath.Join(cdir, "confusion.png")); err != nil {
		t.Errorf("-eval -quiet without -out: %v", err)
	}
	before := listDir(t, rdir)
	if last := runOK(t, "-eval", filepath.Join(rdir, "best.safetensors"), "-csv", csv); !strings.HasPrefix(last, "test mse: ") {
		t.Errorf("-eval of the regression: %q", last)
	}
	if after := listDir(t, rdir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("-eval of the regression went from %v to %v", before, after)
	}
}
