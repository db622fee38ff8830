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
	return writeFile(filepath.Join(r.dir, "rows.json"), append(b, '\n'))
}

// openRunDir creates the run folder (checking that it can be written before
// any training) and writes config.json: a new run's, or for a resumed run
// config.resume-<time>.json beside the first.
func openRunDir(o Options, tr *train.Trainer, resumed bool) (*runDir, error) {
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
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, errors.Wrap(err, "creating the run folder")
	}
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
	if err := writeFile(filepath.Join(r.dir, name), append(b, '\n')); err != nil {
		return nil, err
	}
	if !resumed {
		// A new run starts a new metrics log.
		if err := writeFile(filepath.Join(r.dir, "metrics.jsonl"), nil); err != nil {
			return nil, err
		}
	}
	return r, nil
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
