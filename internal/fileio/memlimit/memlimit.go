//go:build linux

// Package memlimit runs part of a test in a child process under a hard memory limit,
// so that a test can show that a reader given a hostile file fails with an error, and
// does not crash the process by allocating what the file claims.
//
// The child is the test binary itself, re-executed to run only one helper test:
//
//	func TestLoadHostileFilesUnderAMemoryLimit(t *testing.T) {
//		r := memlimit.Run(t, "TestHelperLoad", memlimit.Budget, 30*time.Second, "FILE="+path)
//		// r.ExitCode, r.Output ...
//	}
//
//	func TestHelperLoad(t *testing.T) {
//		if !memlimit.Child(t) {
//			return // run only as Run's child
//		}
//		_, err := Load(os.Getenv("FILE"))
//		memlimit.Exit(err)
//	}
//
// The limit is on the address space (RLIMIT_AS), set by the child on itself before it
// loads anything: the child's address space when it starts plus the budget. A limit
// set before exec would have to cover the Go runtime's own reservations, which are
// over a gigabyte of address space on amd64 before main runs and differ between
// versions; measuring them in the child keeps the budget what the load itself may map.
// When the budget runs out, mmap fails and the Go runtime dies with "fatal error: out
// of memory" (under the race detector, "fatal error: too many address space
// collisions"), which Result.Crashed reports. Under the race detector the budget is
// four times larger, for the detector's shadow memory, so a limit test proves less
// there: what it still shows is an orderly error rather than a panic or a hang.
package memlimit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Budget is the address space a child may map beyond what it had at its start: 1 GiB,
// a tenth of what the hostile files in tapestry's tests claim and several times what
// the legitimate loads need (MNIST's training images are 47 MB).
const Budget = 1 << 30

// envBudget carries the budget, in bytes, to the child; its presence marks the child.
const envBudget = "TAPESTRY_MEMLIMIT_BUDGET"

// Result is what a child did.
type Result struct {
	Output   string // its standard output and error, interleaved
	ExitCode int    // -1 if it was killed
	TimedOut bool
}

// Crashed reports whether the child died of something other than an orderly exit:
// a panic, the runtime running out of memory, a signal, the timeout, or the race
// detector failing to map its shadow memory (which exits 66).
func (r Result) Crashed() bool {
	return r.TimedOut || r.ExitCode < 0 || r.ExitCode == 2 || r.ExitCode == 66 ||
		strings.Contains(r.Output, "panic:") ||
		strings.Contains(r.Output, "fatal error:") ||
		strings.Contains(r.Output, "out of memory") ||
		strings.Contains(r.Output, "ThreadSanitizer")
}

// Run re-executes the test binary to run only the test helper, with env added to its
// environment, under an address-space budget of budget bytes (see the package doc), and
// kills it after timeout.
func Run(t *testing.T, helper string, budget uint64, timeout time.Duration, env ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+helper+"$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), envBudget+"="+strconv.FormatUint(budget, 10))
	cmd.Env = append(cmd.Env, env...)
	// A crash prints the failing goroutine only, which keeps Output short.
	cmd.Env = append(cmd.Env, "GOTRACEBACK=single")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	r := Result{Output: out.String(), TimedOut: ctx.Err() != nil}
	switch e := err.(type) {
	case nil:
	case *exec.ExitError:
		r.ExitCode = e.ExitCode()
	default:
		t.Fatalf("running %s: %v", helper, err)
	}
	return r
}

// Child reports whether this process is a child started by Run; if it is, it first
// sets the address-space limit. A helper test returns at once when it is false, so
// that a plain `go test` run passes over it.
func Child(t *testing.T) bool {
	s := os.Getenv(envBudget)
	if s == "" {
		return false
	}
	budget, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "memlimit: bad %s=%q\n", envBudget, s)
		os.Exit(3)
	}
	now, err := addressSpace()
	if err != nil {
		fmt.Fprintf(os.Stderr, "memlimit: %v\n", err)
		os.Exit(3)
	}
	budget *= raceFactor
	lim := &unix.Rlimit{Cur: now + budget, Max: now + budget}
	if err := unix.Setrlimit(unix.RLIMIT_AS, lim); err != nil {
		fmt.Fprintf(os.Stderr, "memlimit: setting RLIMIT_AS: %v\n", err)
		os.Exit(3)
	}
	return true
}

// Exit ends the child: status 1 with the error on standard error, as a command
// would, or status 0 if err is nil.
func Exit(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// addressSpace returns this process's mapped address space in bytes (VmSize).
func addressSpace() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmSize %q: %v", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmSize in /proc/self/status")
}
