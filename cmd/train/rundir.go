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
	// bestVal is the best validation accuracy so far, whose checkpoint is
	// best.safetensors.
	bestVal float64
}

// openRunDir creates the run folder (checking that it can be written before
// any training) and writes config.json: a new run's, or for a resumed run
// config.resume-<time>.json beside the first.
func openRunDir(o Options, tr *train.Trainer, resumed bool) (*runDir, error) {
	r := &runDir{dir: o.Out, model: o.Model, bestVal: math.Inf(-1)}
	for _, h := range tr.History() {
		if v, ok := h.Val["accuracy"]; ok && v > r.bestVal {
			r.bestVal = v
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
	if v, ok := s.Val["accuracy"]; ok && v > r.bestVal {
		r.bestVal = v
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
	pts := make([]report.Epoch, len(hist))
	for i, h := range hist {
		val, ok := h.Val["accuracy"]
		if !ok {
			val = math.NaN()
		}
		pts[i] = report.Epoch{Epoch: h.Epoch, TrainLoss: h.TrainLoss, ValLoss: h.ValLoss, TrainMetric: h.Train["accuracy"], ValMetric: val}
	}
	return report.WriteCurvesPNG(filepath.Join(r.dir, "curves.png"), pts, "accuracy", "tapestry "+r.model)
}

// writeFile replaces path with data atomically.
func writeFile(path string, data []byte) error { return fileio.WriteFile(path, data, 0o644) }
