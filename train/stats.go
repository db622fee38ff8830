package train

import (
	"encoding/json"
	"math"
)

// EpochStats are the figures of one training epoch.
type EpochStats struct {
	Epoch     int     `json:"epoch"` // 1-based
	Steps     int64   `json:"steps"` // optimizer steps taken so far, in all epochs
	LR        float64 `json:"lr"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	// ValAcc is NaN when there is no validation set (null in JSON, which
	// has no NaN).
	ValAcc        float64 `json:"val_acc"`
	Seconds       float64 `json:"seconds"`
	SamplesPerSec float64 `json:"samples_per_s"`
}

// epochJSON is EpochStats with a nullable validation accuracy.
type epochJSON struct {
	Epoch         int      `json:"epoch"`
	Steps         int64    `json:"steps"`
	LR            float64  `json:"lr"`
	TrainLoss     float64  `json:"train_loss"`
	TrainAcc      float64  `json:"train_acc"`
	ValAcc        *float64 `json:"val_acc"`
	Seconds       float64  `json:"seconds"`
	SamplesPerSec float64  `json:"samples_per_s"`
}

// MarshalJSON writes a NaN ValAcc as null.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	j := epochJSON{Epoch: s.Epoch, Steps: s.Steps, LR: s.LR, TrainLoss: s.TrainLoss, TrainAcc: s.TrainAcc,
		Seconds: s.Seconds, SamplesPerSec: s.SamplesPerSec}
	if !math.IsNaN(s.ValAcc) {
		v := s.ValAcc
		j.ValAcc = &v
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a null (or missing) val_acc as NaN.
func (s *EpochStats) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = EpochStats{Epoch: j.Epoch, Steps: j.Steps, LR: j.LR, TrainLoss: j.TrainLoss, TrainAcc: j.TrainAcc,
		ValAcc: math.NaN(), Seconds: j.Seconds, SamplesPerSec: j.SamplesPerSec}
	if j.ValAcc != nil {
		s.ValAcc = *j.ValAcc
	}
	return nil
}

// StepInfo is passed to Trainer.OnStep after each optimizer step.
type StepInfo struct {
	Epoch, Batch, Batches int
	Loss                  float64
}

// Position is where training stands: Epoch whole epochs done, and Batch
// batches done of the next one, with that epoch's running sums so that its
// figures come out the same when it is resumed.
type Position struct {
	Epoch   int     `json:"epoch"`
	Batch   int     `json:"batch"`
	LossSum float64 `json:"loss_sum"`
	Correct int     `json:"correct"`
	Seen    int     `json:"seen"`
	Seconds float64 `json:"seconds"`
}
