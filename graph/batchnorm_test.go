package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestBatchNormGradients(t *testing.T) {
	cases := []struct {
		name     string
		layer    Layer
		in       []int
		training bool
	}{
		// In training the gradient flows through the batch mean and
		// variance too.
		{"2d-train", BatchNorm{Name: "bn", Features: 4}, []int{4}, true},
		{"4d-train", BatchNorm{Name: "bn", Features: 2}, []int{2, 3, 3}, true},
		{"2d-infer", BatchNorm{Name: "bn", Features: 4}, []int{4}, false},
		{"4d-infer", BatchNorm{Name: "bn", Features: 2}, []int{2, 3, 3}, false},
		{"eps-momentum", BatchNorm{Name: "bn", Features: 3, Momentum: 0.5, Eps: 0.1}, []int{3, 2, 2}, true},
		{"conv-bn-relu", NewSequential(
			Conv2D{Name: "c", In: 1, Out: 3, Kernel: [2]int{2, 2}, NoBias: true},
			BatchNorm{Name: "bn", Features: 3}, ReLU{}), []int{1, 4, 4}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := CheckLayer(c.layer, c.in, 3, c.training, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol || res.Checked == 0 {
				t.Errorf("gradient mismatch %.3g > %g at %s (%d checked)", res.MaxRelErr, gradTol, res.Worst, res.Checked)
			}
		})
	}
}

// bnInput is a [4, 2] batch, one example a row. Feature 0 is 1, 3, 5, 7:
// mean 4, biased variance (9+1+1+9)/4 = 5, unbiased 20/3. Feature 1 is 0, 0,
// 4, 4: mean 2, biased variance 4, unbiased 16/3.
var bnInput = []float64{1, 0, 3, 0, 5, 4, 7, 4}

func TestBatchNormTrainingByHand(t *testing.T) {
	const eps = 1e-5 // the default
	for _, dt := range []tensor.Dtype{Float32, Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			bn := BatchNorm{Name: "bn", Features: 2}
			params := bnParams(t, bn, dt)
			opTestSet(t, params, "bn.weight", []float64{2, 1})
			opTestSet(t, params, "bn.bias", []float64{0.5, -1})
			got, _ := opTestForward(t, bn, params, []int{4, 2}, bnInput, true)
			want := make([]float64, 8)
			for i := range 4 {
				want[2*i] = 2*(bnInput[2*i]-4)/math.Sqrt(5+eps) + 0.5
				want[2*i+1] = 1*(bnInput[2*i+1]-2)/math.Sqrt(4+eps) - 1
			}
			opTestClose(t, got, want, 1e-6)
			// running = 0.9·running + 0.1·batch, from mean 0 and variance 1,
			// with the unbiased variance.
			opTestClose(t, params.Float64s("bn.running_mean"), []float64{0.1 * 4, 0.1 * 2}, 1e-6)
			opTestClose(t, params.Float64s("bn.running_var"), []float64{0.9 + 0.1*20.0/3, 0.9 + 0.1*16.0/3}, 1e-6)
		})
	}
}

func TestBatchNormInferenceByHand(t *testing.T) {
	const eps = 1e-5
	for _, dt := range []tensor.Dtype{Float32, Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			bn := BatchNorm{Name: "bn", Features: 2}
			params := bnParams(t, bn, dt)
			opTestSet(t, params, "bn.weight", []float64{2, 1})
			opTestSet(t, params, "bn.bias", []float64{0.5, -1})
			opTestSet(t, params, "bn.running_mean", []float64{1, -1})
			opTestSet(t, params, "bn.running_var", []float64{4, 0.25})
			got, _ := opTestForward(t, bn, params, []int{4, 2}, bnInput, false)
			want := make([]float64, 8)
			for i := range 4 {
				want[2*i] = 2*(bnInput[2*i]-1)/math.Sqrt(4+eps) + 0.5
				want[2*i+1] = (bnInput[2*i+1]+1)/math.Sqrt(0.25+eps) - 1
			}
			opTestClose(t, got, want, 1e-6)
			opTestClose(t, params.Float64s("bn.running_mean"), []float64{1, -1}, 0)
			opTestClose(t, params.Float64s("bn.running_var"), []float64{4, 0.25}, 0)
		})
	}
}

// TestBatchNormTrainInferSplit compiles a training and an inference program
// of one model: they share the parameter tensors, each training run moves
// the running statistics once, and inference reads them without moving them.
func TestBatchNormTrainInferSplit(t *testing.T) {
	arch := Arch{Net: NewSequential(BatchNorm{Name: "bn", Features: 2}, Dense{Name: "fc", In: 2, Out: 3}),
		InShape: []int{2}}
	model, err := NewModel(arch, Float64, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	train, err := model.Train(4, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	infer, err := model.Infer(4)
	if err != nil {
		t.Fatal(err)
	}
	opTestFill(t, train.X, bnInput)
	opTestFill(t, train.Y, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0})
	opTestFill(t, infer.X, bnInput)

	for step := 1; step <= 2; step++ {
		if err := train.Run(); err != nil {
			t.Fatal(err)
		}
		// After k runs on the same batch from mean 0 and variance 1:
		// running = 0.9^k·initial + (1 − 0.9^k)·batch.
		k := 1 - math.Pow(0.9, float64(step))
		opTestClose(t, model.Params.Float64s("bn.running_mean"), []float64{k * 4, k * 2}, 1e-12)
		opTestClose(t, model.Params.Float64s("bn.running_var"), []float64{1 - k + k*20.0/3, 1 - k + k*16.0/3}, 1e-12)
	}
	ps, err := train.Params()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		// Same memory (a bias is bound as a [1, N] view of the store's [N]).
		if &p.Value.Float64s()[0] != &model.Params.Get(p.Name).Float64s()[0] {
			t.Errorf("the training program's %s does not share the store's memory", p.Name)
		}
	}

	mean, variance := model.Params.Float64s("bn.running_mean"), model.Params.Float64s("bn.running_var")
	if err := infer.Run(); err != nil {
		t.Fatal(err)
	}
	opTestClose(t, model.Params.Float64s("bn.running_mean"), mean, 0)
	opTestClose(t, model.Params.Float64s("bn.running_var"), variance, 0)

	// The inference logits, by hand from the store: BN with the running
	// statistics, then x·W + b.
	gamma, beta := model.Params.Float64s("bn.weight"), model.Params.Float64s("bn.bias")
	w, b := model.Params.Float64s("fc.weight"), model.Params.Float64s("fc.bias")
	want := make([]float64, 12)
	for i := range 4 {
		var h [2]float64
		for f := range 2 {
			h[f] = gamma[f]*(bnInput[2*i+f]-mean[f])/math.Sqrt(variance[f]+1e-5) + beta[f]
		}
		for o := range 3 {
			want[3*i+o] = h[0]*w[o] + h[1]*w[3+o] + b[o]
		}
	}
	opTestClose(t, toFloat64s(infer.Output()), want, 1e-12)
}

func TestBatchNormErrors(t *testing.T) {
	for _, c := range []struct {
		layer BatchNorm
		in    []int
		want  string
	}{
		{BatchNorm{Name: "bn", Features: 3}, []int{4}, "batch norm bn expects input [3] or [3, H, W], got [4]"},
		{BatchNorm{Name: "bn", Features: 3}, []int{3, 2}, "expects input [3] or [3, H, W]"},
		{BatchNorm{Name: "bn", Features: 3, Momentum: 1.5}, []int{3}, "momentum 1.5 not in (0, 1]"},
		{BatchNorm{Name: "bn", Features: 3, Eps: -1}, []int{3}, "eps -1 must be positive"},
		{BatchNorm{Name: "bn"}, []int{3}, "0 features"},
	} {
		_, err := c.layer.OutShape(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OutShape(%v) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
	// One value per feature has no variance to normalize by.
	bn := BatchNorm{Name: "bn", Features: 2}
	params := bnParams(t, bn, Float64)
	b := NewBuilder(params, 1, true)
	x, _ := b.Input("x", []int{2})
	if _, err := bn.Forward(b, x); err == nil || !strings.Contains(err.Error(), "more than one value per feature") {
		t.Errorf("training on a batch of 1: %v", err)
	}
}

func bnParams(t *testing.T, bn BatchNorm, dt tensor.Dtype) *Params {
	t.Helper()
	params := NewParams(dt)
	for _, spec := range bn.Params() {
		if _, err := params.Add(spec, nil); err != nil {
			t.Fatal(err)
		}
	}
	return params
}
