//go:build linux

package hostile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// A Trial is one case fed to one command line.
type Trial struct {
	// Name says what is tried, for messages: "lenet5 -resume: truncation:
	// cut to 9 of 812345 bytes".
	Name string
	Case Case
	// File is where the case's file is made before the command runs; it is
	// removed after.
	File string
	// Args is the command line, which reads File.
	Args []string
	// Watch is a folder the command must leave as it was if it fails (the
	// run folder), or "".
	Watch string
	// MustFail says the command must fail on this case.
	MustFail bool
	// Setup, if set, runs before the case's file is made: it makes what
	// the command reads beside it.
	Setup func() error
}

// An Outcome is what the command did with a trial.
type Outcome struct {
	Trial    int
	Exit     int
	Panic    string   `json:",omitempty"`
	Message  string   // the end of standard error, cut to 2 KiB
	Length   int      // the length of standard error in bytes
	Names    bool     // standard error names the trial's file
	Seconds  float64  // how long the command took
	Left     []string `json:",omitempty"` // what changed in Watch
	TimedOut bool     `json:",omitempty"`
}

// Main is a command's entry point as the harness calls it: the arguments
// after the command name, and its exit status.
type Main func(args []string, stdout, stderr io.Writer) int

// Environment of the child: the limit per trial in seconds (its presence
// marks the child), the first trial to run, and the budget.
const (
	envRun    = "TAPESTRY_HOSTILE_TRIAL_TIMEOUT"
	envFrom   = "TAPESTRY_HOSTILE_FROM"
	envBudget = "TAPESTRY_HOSTILE_BUDGET"
)

// RunAll runs every trial, in order, in a child process (the test binary
// running only the test named helper, which calls Child) whose address
// space may grow by at most budget bytes (memlimit), each trial under the
// timeout. env is passed to the child (where the fixtures are). A child
// that dies (out of memory, a panic that escaped, a hang) fails t, naming
// the trial it was on. It returns one outcome per trial.
//
// A child that holds more than a quarter of the budget after a trial
// (what trials before it left behind: a compiled graph.Model is never
// freed, see Child) stops, and the next child goes on from the next trial,
// so that every trial runs with at least three quarters of the budget its
// own.
func RunAll(t *testing.T, helper string, budget uint64, timeout time.Duration, trials []Trial, env ...string) []Outcome {
	t.Helper()
	env = append(env, envRun+"="+strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64), envBudget+"="+strconv.FormatUint(budget, 10))
	var outs []Outcome
	for len(outs) < len(trials) {
		total := min(time.Duration(len(trials)-len(outs)+10)*timeout, 20*time.Minute)
		r := memlimit.Run(t, helper, budget, total, append(env, envFrom+"="+strconv.Itoa(len(outs)))...)
		got, began := parseOutcomes(t, r.Output)
		outs = append(outs, got...)
		if r.Crashed() || r.ExitCode != 0 || len(got) == 0 {
			name := "none"
			if began >= 0 && began < len(trials) {
				name = trials[began].Name
			}
			// What the child said after its last outcome is why it died.
			last := r.Output
			if i := strings.LastIndex(last, "HOSTILE-BEGIN "); i >= 0 {
				last = last[i:]
			}
			if len(last) > 3000 {
				last = last[:3000] + "…"
			}
			t.Fatalf("the child died (exit %d, timed out %v) on trial %d (%s) after %d outcomes; its last words:\n%s",
				r.ExitCode, r.TimedOut, began, name, len(outs), last)
		}
	}
	return outs
}

// parseOutcomes reads a child's outcomes, and the trial it began last.
func parseOutcomes(t *testing.T, output string) ([]Outcome, int) {
	var outs []Outcome
	began := -1
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "HOSTILE-BEGIN "); ok {
			began, _ = strconv.Atoi(rest)
		}
		if rest, ok := strings.CutPrefix(line, "HOSTILE-OUTCOME "); ok {
			var o Outcome
			if err := json.Unmarshal([]byte(rest), &o); err != nil {
				t.Fatalf("child's outcome %q: %v", rest, err)
			}
			outs = append(outs, o)
		}
	}
	return outs, began
}

// Child runs the trials in the child process RunAll starts, reporting each
// outcome on standard output; it returns false, at once, in any other
// process, so that the helper test passes over it in a plain run:
//
//	func TestHelperHostile(t *testing.T) {
//		hostile.Child(t, trials(t), main)
//	}
//
// After a trial the child checks what it still holds: a model whose
// programs were compiled is never freed (Gorgonia sets a finalizer on its
// tape machine, and the machine is part of a cycle through the program, so
// the collector never frees it), and what trials leave adds up; past a
// quarter of the budget the child stops for RunAll to start another.
func Child(t *testing.T, trials []Trial, main Main) bool {
	if os.Getenv(envRun) == "" || !memlimit.Child(t) {
		return false
	}
	secs, _ := strconv.ParseFloat(os.Getenv(envRun), 64)
	timeout := time.Duration(secs * float64(time.Second))
	from, _ := strconv.Atoi(os.Getenv(envFrom))
	budget, _ := strconv.ParseUint(os.Getenv(envBudget), 10, 64)
	for i := from; i < len(trials); i++ {
		fmt.Printf("HOSTILE-BEGIN %d\n", i)
		o := runTrial(trials[i], main, timeout)
		o.Trial = i
		b, _ := json.Marshal(o)
		fmt.Printf("HOSTILE-OUTCOME %s\n", b)
		if o.TimedOut {
			os.Exit(4) // the trial's goroutine cannot be stopped
		}
		if held(budget / 4) {
			break
		}
	}
	os.Exit(0)
	return true
}

// held reports whether the heap holds more than limit bytes once its
// garbage is collected (which is only done when it may).
func held(limit uint64) bool {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc <= limit {
		return false
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc > limit
}

// runTrial makes the case's file, runs the command on it and looks at what
// it did.
func runTrial(tr Trial, main Main, timeout time.Duration) Outcome {
	var o Outcome
	if err := os.MkdirAll(filepath.Dir(tr.File), 0o755); err != nil {
		return Outcome{Exit: -1, Message: err.Error()}
	}
	if tr.Setup != nil {
		if err := tr.Setup(); err != nil {
			return Outcome{Exit: -1, Message: "setting up: " + err.Error()}
		}
	}
	if err := tr.Case.Write(tr.File); err != nil {
		return Outcome{Exit: -1, Message: "making the case: " + err.Error()}
	}
	defer os.RemoveAll(tr.File)
	before := snapshot(tr.Watch, tr.File)
	var stdout, stderr bytes.Buffer
	done := make(chan struct{})
	began := time.Now()
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				o.Panic = fmt.Sprint(p)
				o.Exit = -2
			}
		}()
		o.Exit = main(tr.Args, &stdout, &stderr)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		return Outcome{TimedOut: true, Exit: -3, Seconds: time.Since(began).Seconds()}
	}
	o.Seconds = time.Since(began).Seconds()
	msg := stderr.String()
	o.Length, o.Message = len(msg), tail(msg, 2048)
	// A message may name the file by its folder and its name (a data
	// folder that lacks one file of four).
	o.Names = strings.Contains(msg, tr.File) || strings.Contains(msg, filepath.Dir(tr.File)) && strings.Contains(msg, filepath.Base(tr.File))
	o.Left = changed(before, snapshot(tr.Watch, tr.File))
	return o
}

// snapshot lists the files under dir (but skip) with their sizes and times.
func snapshot(dir, skip string) map[string]string {
	if dir == "" {
		return nil
	}
	m := map[string]string{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == skip || path == dir {
			return nil
		}
		info, err := os.Lstat(path)
		if err == nil {
			m[path] = fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return m
}

// changed lists the paths added, removed or changed between two snapshots.
func changed(a, b map[string]string) []string {
	var out []string
	for p, v := range b {
		if a[p] != v {
			out = append(out, p)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p+" (removed)")
		}
	}
	sort.Strings(out)
	return out
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + strings.ToValidUTF8(s[len(s)-n:], "")
}

// Check reports through t every outcome that breaks the harness's rules: a
// panic; success where the trial must fail; a failure whose message does not
// name the file, is longer than maxMessage bytes, or left something in the
// watched folder; a trial slower than slow. It returns how many trials
// failed and how many succeeded.
func Check(t *testing.T, trials []Trial, outs []Outcome, maxMessage int, slow time.Duration) (failed, succeeded int) {
	t.Helper()
	for i, o := range outs {
		tr := trials[i]
		switch {
		case o.Panic != "":
			t.Errorf("%s: panicked: %s", tr.Name, o.Panic)
		case o.Exit == 0 && tr.MustFail:
			t.Errorf("%s: accepted (exit 0)", tr.Name)
		case o.Exit != 0 && !o.Names:
			t.Errorf("%s: exit %d with a message that does not name %s: %q", tr.Name, o.Exit, tr.File, o.Message)
		case o.Exit != 0 && o.Length > maxMessage:
			t.Errorf("%s: a message of %d bytes: …%.300s", tr.Name, o.Length, o.Message)
		case o.Exit != 0 && len(o.Left) > 0:
			t.Errorf("%s: failed and left behind %v", tr.Name, o.Left)
		}
		if o.Seconds > slow.Seconds() {
			t.Errorf("%s: took %.1fs", tr.Name, o.Seconds)
		} else if o.Seconds > slow.Seconds()/5 {
			t.Logf("%s: took %.1fs (exit %d)", tr.Name, o.Seconds, o.Exit)
		}
		if o.Exit == 0 {
			succeeded++
		} else {
			failed++
		}
	}
	return failed, succeeded
}

// Summary says, for each class, how many trials were run, how many had to
// fail, how many failed and the slowest: the harness's report.
func Summary(trials []Trial, outs []Outcome) string {
	type row struct {
		n, must, failed int
		slowest         float64
	}
	rows := map[Class]*row{}
	for i, o := range outs {
		c := trials[i].Case.Class
		if rows[c] == nil {
			rows[c] = &row{}
		}
		r := rows[c]
		r.n++
		if trials[i].MustFail {
			r.must++
		}
		if o.Exit != 0 {
			r.failed++
		}
		r.slowest = max(r.slowest, o.Seconds)
	}
	classes := make([]string, 0, len(rows))
	for c := range rows {
		classes = append(classes, string(c))
	}
	sort.Strings(classes)
	var b strings.Builder
	for _, c := range classes {
		r := rows[Class(c)]
		fmt.Fprintf(&b, "\n  %-20s %5d trials, %5d must fail, %5d failed, slowest %.2fs", c, r.n, r.must, r.failed, r.slowest)
	}
	return b.String()
}
