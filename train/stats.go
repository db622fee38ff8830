package train

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// EpochStats are the figures of one training epoch.
type EpochStats struct {
	Epoch int   // 1-based
	Steps int64 // optimizer steps taken so far, in all epochs
	// LR is the learning rate of the epoch's last step.
	LR float64
	// TrainLoss is the mean loss over the epoch's training batches, and
	// Train the task's metrics over them (with dropout on): "accuracy" (and
	// "top<k>_accuracy") for a classifier, "mse", "mae" and "r2" for a
	// regression.
	TrainLoss float64
	Train     map[string]float64
	// ValLoss and Val are the same over the validation set, with the model
	// in inference mode; ValLoss is NaN and Val nil without one.
	ValLoss       float64
	Val           map[string]float64
	Seconds       float64
	SamplesPerSec float64
}

// Get returns a figure by the name Keras would give it: "train_loss",
// "val_loss", "train_accuracy", "val_mse", …
func (s EpochStats) Get(name string) (float64, bool) {
	switch name {
	case "loss", "train_loss":
		return s.TrainLoss, true
	case "val_loss":
		return s.ValLoss, !math.IsNaN(s.ValLoss)
	}
	if m, ok := strings.CutPrefix(name, "val_"); ok {
		v, ok := s.Val[m]
		return v, ok
	}
	v, ok := s.Train[strings.TrimPrefix(name, "train_")]
	return v, ok
}

// Names returns the names Get knows for this epoch, in a fixed order:
// train_loss, train_<metric>… sorted, then val_loss and val_<metric>…
// sorted if the epoch was validated.
func (s EpochStats) Names() []string {
	names := []string{"train_loss"}
	for _, k := range slices.Sorted(maps.Keys(s.Train)) {
		names = append(names, "train_"+k)
	}
	if !math.IsNaN(s.ValLoss) {
		names = append(names, "val_loss")
		for _, k := range slices.Sorted(maps.Keys(s.Val)) {
			names = append(names, "val_"+k)
		}
	}
	return names
}

// MarshalJSON writes one flat object: epoch, steps, lr, train_loss,
// train_<metric>…, val_loss, val_<metric>… (val_loss null without a
// validation set), seconds, samples_per_s.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	field := func(k string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			b.WriteString("null")
			return
		}
		vb, _ := json.Marshal(v)
		b.Write(vb)
	}
	b.WriteByte('{')
	field("epoch", s.Epoch)
	field("steps", s.Steps)
	field("lr", s.LR)
	field("train_loss", s.TrainLoss)
	for _, k := range sortedNames(s.Train) {
		field("train_"+k, s.Train[k])
	}
	field("val_loss", s.ValLoss)
	for _, k := range sortedNames(s.Val) {
		field("val_"+k, s.Val[k])
	}
	field("seconds", s.Seconds)
	field("samples_per_s", s.SamplesPerSec)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes, and the first format's
// train_acc and val_acc (null when there was no validation set).
func (s *EpochStats) UnmarshalJSON(b []byte) error {
	var raw map[string]*float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	get := func(k string) float64 {
		if v := raw[k]; v != nil {
			return *v
		}
		return math.NaN()
	}
	*s = EpochStats{Epoch: int(get("epoch")), Steps: int64(get("steps")), LR: get("lr"), TrainLoss: get("train_loss"),
		ValLoss: get("val_loss"), Seconds: get("seconds"), SamplesPerSec: get("samples_per_s"), Train: map[string]float64{}}
	if raw["epoch"] == nil {
		return errors.New("epoch figures without an epoch")
	}
	for k, v := range raw {
		if v == nil {
			continue
		}
		switch {
		case k == "train_acc": // the first format
			s.Train["accuracy"] = *v
		case k == "val_acc":
			s.setVal("accuracy", *v)
		case k == "train_loss" || k == "val_loss":
		case strings.HasPrefix(k, "train_"):
			s.Train[k[len("train_"):]] = *v
		case strings.HasPrefix(k, "val_"):
			s.setVal(k[len("val_"):], *v)
		}
	}
	return nil
}

func (s *EpochStats) setVal(k string, v float64) {
	if s.Val == nil {
		s.Val = map[string]float64{}
	}
	s.Val[k] = v
}

func sortedNames(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String shows the figures on one line, for logs: "epoch 3  loss 0.1234
// accuracy 97.50%  val loss 0.0987  val accuracy 98.02%".
func (s EpochStats) String() string {
	var b strings.Builder
	b.WriteString("epoch " + strconv.Itoa(s.Epoch))
	b.WriteString("  loss " + strconv.FormatFloat(s.TrainLoss, 'f', 4, 64))
	writeMetrics(&b, "", s.Train)
	if !math.IsNaN(s.ValLoss) {
		b.WriteString("  val loss " + strconv.FormatFloat(s.ValLoss, 'f', 4, 64))
		writeMetrics(&b, "val ", s.Val)
	}
	return b.String()
}

func writeMetrics(b *strings.Builder, prefix string, m map[string]float64) {
	for _, k := range sortedNames(m) {
		v := m[k]
		if strings.HasSuffix(k, "accuracy") {
			b.WriteString("  " + prefix + strings.ReplaceAll(k, "_", " ") + " " + strconv.FormatFloat(100*v, 'f', 2, 64) + "%")
		} else {
			b.WriteString("  " + prefix + k + " " + strconv.FormatFloat(v, 'g', 4, 64))
		}
	}
}

// StepInfo is passed to Trainer.OnStep after each optimizer step.
type StepInfo struct {
	Epoch, Batch, Batches int
	Loss, LR              float64
}

// Position is where training stands: Epoch whole epochs done, and Batch
// batches done of the next one, with that epoch's running sums so that its
// figures come out the same when it is resumed.
type Position struct {
	Epoch   int     `json:"epoch"`
	Batch   int     `json:"batch"`
	Seconds float64 `json:"seconds"`
	sums
}
