package train

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/checkpoint"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/internal/fileio"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/report"
)

// runDir is a run folder: config.json, metrics.jsonl, last.safetensors,
// best.safetensors and curves.png.
type runDir struct {
	dir     string
	opts    Options
	hist    []graph.EpochStats
	bestVal float64
}

// epochRecord is one line of metrics.jsonl; ValAcc is null without a
// validation set (JSON has no NaN).
type epochRecord struct {
	graph.EpochStats
	ValAcc *float64 `json:"val_acc"`
}

func toRecord(s graph.EpochStats) epochRecord {
	r := epochRecord{EpochStats: s}
	if !math.IsNaN(s.ValAcc) {
		v := s.ValAcc
		r.ValAcc = &v
	}
	return r
}

func fromRecord(r epochRecord) graph.EpochStats {
	s := r.EpochStats
	s.ValAcc = math.NaN()
	if r.ValAcc != nil {
		s.ValAcc = *r.ValAcc
	}
	return s
}

// open creates the run folder (checking that it can be written before any
// training) and writes config.json.
func (r *runDir) open(o Options, arch graph.Arch, resumed bool) error {
	r.dir = o.Out
	if r.dir == "" {
		r.dir = filepath.Join("runs", time.Now().Format("20060102-150405")+"-"+o.Model)
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return errors.Wrap(err, "creating the run folder")
	}
	probe, err := os.CreateTemp(r.dir, ".write-test-*")
	if err != nil {
		return errors.Wrapf(err, "run folder %s is not writable", r.dir)
	}
	probe.Close()
	os.Remove(probe.Name())
	// Options hides the settings that do not change the numbers from
	// checkpoints; config.json records them too.
	cfg := map[string]any{"options": o, "model_kind": arch.Kind, "model_config": arch.Config,
		"io": map[string]any{"data": o.Data, "download": o.Download, "mirrors": o.Mirrors, "out": r.dir,
			"dot": o.Dot, "cpuprofile": o.CPUProfile, "export_torch": o.ExportTorch, "blas": o.BLAS, "quiet": o.Quiet}}
	if resumed {
		cfg["resumed_from"] = o.Resume
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	name := "config.json"
	if resumed {
		name = fmt.Sprintf("config.resume-%s.json", time.Now().Format("20060102-150405"))
	}
	if err := writeAtomic(filepath.Join(r.dir, name), append(b, '\n')); err != nil {
		return err
	}
	if !resumed {
		// A new run starts a new metrics log.
		return writeAtomic(filepath.Join(r.dir, "metrics.jsonl"), nil)
	}
	return nil
}

// record appends an epoch to metrics.jsonl. The file is rewritten whole and
// atomically from the history, so that a crash never leaves half a line.
func (r *runDir) record(s graph.EpochStats) error {
	r.hist = append(r.hist, s)
	var buf bytes.Buffer
	for _, h := range r.hist {
		b, err := json.Marshal(toRecord(h))
		if err != nil {
			return errors.Wrap(err, "encoding metrics")
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return writeAtomic(filepath.Join(r.dir, "metrics.jsonl"), buf.Bytes())
}

// save writes a checkpoint of the model, optimizer, position and RNG states.
func (r *runDir) save(name string, m *graph.Model, opt optim.Optimizer, pos graph.Position, shuffle, dropout []byte) error {
	ck, err := checkpoint.New(m, opt, pos.Epoch)
	if err != nil {
		return err
	}
	opts, _ := json.Marshal(r.opts)
	posJSON, _ := json.Marshal(pos)
	recs := make([]epochRecord, len(r.hist))
	for i, h := range r.hist {
		recs[i] = toRecord(h)
	}
	hist, err := json.Marshal(recs)
	if err != nil {
		return errors.Wrap(err, "encoding history")
	}
	ck.Meta[metaOptions] = string(opts)
	ck.Meta[metaPosition] = string(posJSON)
	ck.Meta[metaHistory] = string(hist)
	ck.Meta[metaBestVal] = strconv.FormatFloat(r.bestVal, 'g', -1, 64)
	ck.Meta[metaShuffle] = b64(shuffle)
	ck.Meta[metaDropout] = b64(dropout)
	return ck.Save(filepath.Join(r.dir, name), graph.Float32)
}

// resume restores the RNG states, history and optimizer state that save
// wrote, and returns the position to continue from.
func (r *runDir) resume(ck *checkpoint.Checkpoint, shuffle, dropout *rand.PCG, t *graph.Trainer) (graph.Position, error) {
	var pos graph.Position
	if err := json.Unmarshal([]byte(ck.Meta[metaPosition]), &pos); err != nil {
		return pos, errors.New("the checkpoint has no training position")
	}
	if pos.Epoch != ck.Epoch || pos.Batch < 0 {
		return pos, errors.Errorf("inconsistent position %+v for epoch %d", pos, ck.Epoch)
	}
	for key, pcg := range map[string]*rand.PCG{metaShuffle: shuffle, metaDropout: dropout} {
		b, err := base64.StdEncoding.DecodeString(ck.Meta[key])
		if err == nil {
			err = pcg.UnmarshalBinary(b)
		}
		if err != nil {
			return pos, errors.Errorf("the checkpoint's %s state is missing or bad", key)
		}
	}
	var recs []epochRecord
	if err := json.Unmarshal([]byte(ck.Meta[metaHistory]), &recs); err != nil {
		return pos, errors.New("the checkpoint's history is missing or bad")
	}
	r.hist = r.hist[:0]
	for _, rec := range recs {
		r.hist = append(r.hist, fromRecord(rec))
	}
	if v, err := strconv.ParseFloat(ck.Meta[metaBestVal], 64); err == nil {
		r.bestVal = v
	}
	if ck.Optimizer == nil {
		return pos, errors.New("the checkpoint has no optimizer state")
	}
	if ck.Optimizer.Name != t.Optimizer.Config().Name {
		return pos, errors.Errorf("the checkpoint's optimizer is %s, not %s", ck.Optimizer.Name, t.Optimizer.Config().Name)
	}
	st := graph.OptimizerState{Tensors: ck.OptState.Tensors, Steps: ck.OptState.Steps}
	t.ResumeOptimizer(&st)
	return pos, nil
}

// curves draws the loss and accuracy of every epoch into curves.png.
func (r *runDir) curves() error {
	pts := make([]report.Epoch, len(r.hist))
	for i, h := range r.hist {
		pts[i] = report.Epoch{Epoch: h.Epoch, TrainLoss: h.TrainLoss, TrainAcc: h.TrainAcc, ValAcc: h.ValAcc}
	}
	return report.WriteCurvesPNG(filepath.Join(r.dir, "curves.png"), pts, "tapestry "+r.opts.Model)
}

// writeAtomic replaces path with data via a temporary file, fsync and
// rename, so readers never see a partial file.
func writeAtomic(path string, data []byte) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, 0o644)
}
