package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/fileio"
	"github.com/tapestry-ml/tapestry/report"
	"github.com/tapestry-ml/tapestry/train"
)

// runDir is a run folder: config.json, metrics.jsonl, last.safetensors,
// best.safetensors and curves.png.
type runDir struct {
	dir   string
	model string
	// metric is what best.safetensors is chosen by and curves.png draws:
	// "accuracy" for a classifier (higher is better), else "loss".
	metric string
	// best is the best validation figure so far, whose checkpoint is
	// best.safetensors; seen says there is one.
	best float64
	seen bool
	// saved says a checkpoint was written by this run.
	saved bool
	// created are the files this run's start wrote that were not there
	// before, and madeDirs the folders it made, deepest first: what
	// discard takes out again.
	created, madeDirs []string
}

// better reports whether s's validation figure beats the best so far.
func (r *runDir) better(s train.EpochStats) (float64, bool) {
	v, ok := s.Get("val_" + r.metric)
	if !ok || math.IsNaN(v) {
		return 0, false
	}
	if !r.seen {
		return v, true
	}
	if r.metric == "loss" {
		return v, v < r.best
	}
	return v, v > r.best
}

// writeRows writes rows.json, a tabular run's row numbers of each set (0
// for the first row after the header), so that another tool can be measured
// on the same split (bench/peers/tabular_baseline.py).
func (r *runDir) writeRows(d *data) error {
	if d.enc == nil {
		return nil
	}
	b, err := json.Marshal(map[string][]int{"train": d.rows.Train, "validation": d.rows.Validation, "test": d.rows.Test})
	if err != nil {
		return errors.Wrap(err, "encoding rows.json")
	}
	return r.write("rows.json", append(b, '\n'))
}

// openRunDir creates the run folder (checking that it can be written) and
// writes the files a run starts with: config.json (for a resumed run
// config.resume-<time>.json beside the first), a new run's empty
// metrics.jsonl, and a tabular run's rows.json. It is the last step of a
// start, once everything that can fail before training has succeeded; if
// it fails itself, it takes out again what it wrote and the folders it made.
func openRunDir(o Options, tr *train.Trainer, d *data, resumed bool) (_ *runDir, err error) {
	r := &runDir{dir: o.Out, model: o.Model, metric: "loss"}
	if tr.Model.Arch.Loss.Labels() {
		r.metric = "accuracy"
	}
	for _, h := range tr.History() {
		if v, ok := r.better(h); ok {
			r.best, r.seen = v, true
		}
	}
	if r.dir == "" {
		r.dir = filepath.Join("runs", time.Now().Format("20060102-150405")+"-"+o.Model)
	}
	if r.madeDirs, err = mkdirAll(r.dir); err != nil {
		return nil, errors.Wrap(err, "creating the run folder")
	}
	defer func() {
		if err != nil {
			r.discard()
		}
	}()
	probe, err := os.CreateTemp(r.dir, ".write-test-*")
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s is not writable", r.dir)
	}
	probe.Close()
	os.Remove(probe.Name())
	io := o.IO
	io.Out = r.dir
	cfg := map[string]any{"options": o.Numbers, "io": io, "arch": tr.Model.Arch}
	name := "config.json"
	if resumed {
		cfg["resumed_from"] = o.Resume
		name = fmt.Sprintf("config.resume-%s.json", time.Now().Format("20060102-150405"))
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, errors.Wrap(err, "encoding config.json")
	}
	if err := r.write(name, append(b, '\n')); err != nil {
		return nil, err
	}
	if !resumed {
		// A new run starts a new metrics log.
		if err := r.write("metrics.jsonl", nil); err != nil {
			return nil, err
		}
	}
	if err := r.writeRows(d); err != nil {
		return nil, err
	}
	return r, nil
}

// write writes a file of the run folder, remembering it for discard if it
// is new.
func (r *runDir) write(name string, data []byte) error {
	path := filepath.Join(r.dir, name)
	_, err := os.Lstat(path)
	existed := err == nil
	if err := writeFile(path, data); err != nil {
		return err
	}
	if !existed {
		r.created = append(r.created, path)
	}
	return nil
}

// discard takes the files and folders this run created out of the run
// folder again: a run that failed before it saved anything leaves nothing
// behind. Files it rewrote (a resumed run's rows.json) stay.
func (r *runDir) discard() {
	for i := len(r.created) - 1; i >= 0; i-- {
		os.Remove(r.created[i])
	}
	r.created = nil
	for _, d := range r.madeDirs {
		os.Remove(d) // only if empty: never what someone else put there
	}
	r.madeDirs = nil
}

// mkdirAll is os.MkdirAll that returns the folders it made, deepest first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return missing, nil
}

// epochDone records the epoch in metrics.jsonl, saves last.safetensors, and
// best.safetensors if the validation accuracy is the best yet.
func (r *runDir) epochDone(tr *train.Trainer, s train.EpochStats) error {
	if err := r.record(tr.History()); err != nil {
		return err
	}
	if err := tr.Save(filepath.Join(r.dir, "last.safetensors")); err != nil {
		return err
	}
	r.saved = true
	if v, ok := r.better(s); ok {
		r.best, r.seen = v, true
		return tr.Save(filepath.Join(r.dir, "best.safetensors"))
	}
	return nil
}

// record rewrites metrics.jsonl, one line an epoch, whole and atomically,
// so that a crash never leaves half a line.
func (r *runDir) record(hist []train.EpochStats) error {
	var buf bytes.Buffer
	for _, h := range hist {
		b, err := json.Marshal(h)
		if err != nil {
			return errors.Wrap(err, "encoding metrics")
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return writeFile(filepath.Join(r.dir, "metrics.jsonl"), buf.Bytes())
}

// curves draws the loss and accuracy of every epoch into curves.png.
func (r *runDir) curves(hist []train.EpochStats) error {
	metric := "accuracy"
	if r.metric == "loss" {
		metric = "r2"
	}
	pts := make([]report.Epoch, len(hist))
	for i, h := range hist {
		pts[i] = report.Epoch{Epoch: h.Epoch, TrainLoss: h.TrainLoss, ValLoss: h.ValLoss,
			TrainMetric: figure(h, "train_"+metric), ValMetric: figure(h, "val_"+metric)}
	}
	return report.WriteCurvesPNG(filepath.Join(r.dir, "curves.png"), pts, metric, "tapestry "+r.model)
}

// writeFile replaces path with data atomically.
func writeFile(path string, data []byte) error { return fileio.WriteFile(path, data, 0o644) }

// figure is a named figure of an epoch, NaN when it has none.
func figure(s train.EpochStats, name string) float64 {
	if v, ok := s.Get(name); ok {
		return v
	}
	return math.NaN()
}
