package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/safetensors"
	"github.com/tapestry-ml/tapestry/train"
)

var (
	verbose = flag.Bool("hostile.v", false, "log every case and what the load path did with it")
	every   = flag.Bool("hostile.all", false, "try every case, not a sample of each class")
)

// perClass is how many cases of each class a run tries without
// -hostile.all: enough to cover each kind of edit in a few seconds.
const perClass = 24

// libraryMustFail says whether the library's load path (decode, build,
// restore, the first step of Fit) must refuse c: every case of scope All,
// and, when it resumes (withTrainer), those of scope Resume that the
// library itself reads. The saved run options and an architecture other
// than the one that trained are cmd/train's to refuse (its harness tries
// those).
func libraryMustFail(c Case, withTrainer bool) bool {
	if c.Class == Options || commandKey(c.Name) {
		return false
	}
	switch c.Scope {
	case All:
		return true
	case Resume:
		return withTrainer && c.Class != Spec
	}
	return false
}

// commandKey says whether a case edits metadata only a command reads: the
// run options and a tabular run's encoder.
func commandKey(name string) bool {
	return strings.HasPrefix(name, keyOptions) || strings.HasPrefix(name, tabular.MetaKey)
}

// loadPath takes a checkpoint file's bytes (or, for a file that is no
// regular file, its path) through the library's whole load path for a
// resume of fixture f: decode, build the model, make the trainer, restore,
// and one step of Fit. It says how far it got. Allocation up to the built
// model is returned too: it must be bounded by the file's size.
func loadPath(f Fixture, c Case, path string) (stage string, alloc uint64, err error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var ck *checkpoint.Checkpoint
	if c.Special != nil {
		ck, err = checkpoint.Load(path)
	} else {
		ck, err = checkpoint.Decode(bytes.NewReader(c.Data), int64(len(c.Data)), path)
	}
	// c.Data was made before the measurement began.
	if err != nil {
		return "decode", 0, err
	}
	m, err := models.FromCheckpoint(ck)
	runtime.ReadMemStats(&after)
	alloc = after.TotalAlloc - before.TotalAlloc
	if err != nil {
		return "build", alloc, err
	}
	a, _ := json.Marshal(m.Arch)
	b, _ := json.Marshal(f.Arch)
	if f.Source == nil || !bytes.Equal(a, b) {
		return "built another architecture", alloc, nil
	}
	opt := optim.Config{Name: "adam"}
	if ck.Optimizer != nil {
		opt = *ck.Optimizer
	}
	tr, err := f.Trainer(m, opt)
	if err != nil {
		return "trainer", alloc, err
	}
	defer tr.Close()
	if err := tr.Restore(ck); err != nil {
		return "restore", alloc, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one step, then an interruption: enough to load the optimizer state
	if err := tr.Fit(ctx, f.Source, nil); err != nil && !errors.Is(err, train.ErrInterrupted) {
		return "fit", alloc, err
	}
	return "resumed", alloc, nil
}

// TestLibraryLoadPath feeds every damaged copy of three checkpoints written
// by the library (an MLP, a CNN and a tabular MLP with its encoder), of the
// first-format test file, and every path that is no regular file, to the
// library's load path: each must be refused where its scope says, with a
// short error naming the file, without a panic, within a bounded
// allocation and in well under a second.
func TestLibraryLoadPath(t *testing.T) {
	dir := t.TempDir()
	fixtures, err := WriteFixtures(dir)
	if err != nil {
		t.Fatal(err)
	}
	fixtures = append(fixtures, Fixture{Name: "v1", Path: "../../checkpoint/testdata/v1-mlp.safetensors"})
	total := map[Class]int{}
	for _, f := range fixtures {
		good, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if stage, _, err := loadPath(f, Case{Data: good}, f.Path); err != nil || (f.Source != nil && stage != "resumed") {
			t.Fatalf("%s: the good file got to %s: %v", f.Name, stage, err)
		}
		cases, err := Checkpoint(good)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, Special()...)
		if !*every {
			cases = Sample(cases, perClass)
		}
		for i, c := range cases {
			if c.Data, err = c.Content(); err != nil {
				t.Fatalf("%s: making %s: %v", f.Name, c.Name, err)
			}
			total[c.Class]++
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.safetensors", f.Name, i))
			if c.Special != nil {
				if err := c.Write(path); err != nil {
					t.Fatal(err)
				}
			}
			began := time.Now()
			stage, alloc, err := safely(func() (string, uint64, error) { return loadPath(f, c, path) })
			took := time.Since(began)
			name := fmt.Sprintf("%s: %s: %s", f.Name, c.Class, c.Name)
			if *verbose {
				t.Logf("%s → %s %.300v", name, stage, errString(err))
			}
			switch {
			case err == nil && libraryMustFail(c, f.Source != nil):
				t.Errorf("%s: accepted (got to %s)", name, stage)
			case err != nil && (!strings.Contains(err.Error(), path) || len(err.Error()) > 1000):
				t.Errorf("%s: %s error of %d bytes, not naming the file or too long: %.400s", name, stage, len(err.Error()), err.Error())
			case took > 10*time.Second: // a hang, not a slow load: CI machines are shared and -race is slow
				t.Errorf("%s: took %v", name, took)
			}
			if limit := 32*uint64(len(c.Data)) + 64<<20; alloc > limit {
				t.Errorf("%s: decoding and building allocated %d bytes for a file of %d", name, alloc, len(c.Data))
			}
		}
	}
	t.Logf("cases per class: %v", total)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// safely calls fn, turning a panic into an error that says so.
func safely(fn func() (string, uint64, error)) (stage string, alloc uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			stage, err = "panic", errors.Errorf("PANIC: %v", p)
		}
	}()
	return fn()
}

// TestDigestAgrees: the digest this package forges is the one package
// checkpoint checks, so that a resealed edit is judged on what it says.
func TestDigestAgrees(t *testing.T) {
	fixtures, err := WriteFixtures(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		sf, err := safetensors.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Digest(sf), sf.Metadata[keyDigest]; got != want {
			t.Errorf("%s: forged digest %s, the file's %s", f.Name, got, want)
		}
	}
}
