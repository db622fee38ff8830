package graph

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestPoolGradients(t *testing.T) {
	cases := []struct {
		name  string
		layer Layer
		in    []int
	}{
		{"max-2x2", MaxPool2D{Kernel: [2]int{2, 2}}, []int{2, 4, 4}},
		{"max-3x3-stride2", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}}, []int{2, 5, 5}},
		{"max-3x3-stride2-pad1", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []int{1, 5, 4}},
		{"max-2x3-overlap", MaxPool2D{Kernel: [2]int{2, 3}, Stride: [2]int{1, 1}}, []int{2, 3, 5}},
		{"avg-2x2", AvgPool2D{Kernel: [2]int{2, 2}}, []int{2, 4, 4}},
		{"avg-3x3-stride2-pad1", AvgPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []int{2, 5, 4}},
		{"avg-2x2-pad1", AvgPool2D{Kernel: [2]int{2, 2}, Pad: [2]int{1, 1}}, []int{1, 3, 3}},
		{"conv-max", NewSequential(
			Conv2D{Name: "c", In: 1, Out: 2, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}},
			MaxPool2D{Kernel: [2]int{2, 2}}), []int{1, 4, 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Random inputs have no ties, so every maximum is unique.
			res, err := CheckLayer(c.layer, c.in, 3, true, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > gradTol || res.Checked == 0 {
				t.Errorf("gradient mismatch %.3g > %g at %s (%d checked)", res.MaxRelErr, gradTol, res.Worst, res.Checked)
			}
		})
	}
}

func TestPoolForwardByHand(t *testing.T) {
	cases := []struct {
		name  string
		layer Layer
		want  []float64
	}{
		// 2×2 windows of image1to16 (conv2d_test.go): {1,2,5,6} {3,4,7,8}
		// {9,10,13,14} {11,12,15,16}.
		{"max-2x2", MaxPool2D{Kernel: [2]int{2, 2}}, []float64{6, 8, 14, 16}},
		{"avg-2x2", AvgPool2D{Kernel: [2]int{2, 2}}, []float64{14.0 / 4, 22.0 / 4, 46.0 / 4, 54.0 / 4}},
		// 3×3 stride 2 pad 1: H' = (4 + 2 − 3)/2 + 1 = 2; the windows cover
		// rows/columns {0,1} or {1,2,3} of the image:
		//   (0,0) {1,2,5,6}                 max 6,  sum 14
		//   (0,1) {2,3,4,6,7,8}             max 8,  sum 30
		//   (1,0) {5,6,9,10,13,14}          max 14, sum 57
		//   (1,1) {6,7,8,10,11,12,14,15,16} max 16, sum 99
		// and the average divides by 9 whatever the padding.
		{"max-3x3-s2-p1", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []float64{6, 8, 14, 16}},
		{"avg-3x3-s2-p1", AvgPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, []float64{14.0 / 9, 30.0 / 9, 57.0 / 9, 99.0 / 9}},
		// 3×3 stride 1: the window at (0,0) is {1,2,3,5,6,7,9,10,11}.
		{"max-3x3-s1", MaxPool2D{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}}, []float64{11, 12, 15, 16}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{Float32, Float64} {
			t.Run(c.name+"-"+dt.String(), func(t *testing.T) {
				got, shape := opTestForward(t, c.layer, NewParams(dt), []int{1, 1, 4, 4}, image1to16, false)
				if want := (tensor.Shape{1, 1, 2, 2}); !tensor.Shape(shape).Eq(want) {
					t.Fatalf("shape %v, want %v", shape, want)
				}
				opTestClose(t, got, c.want, 1e-6) // float32 rounding of 99/9
			})
		}
	}
}

func TestPoolOutShapeErrors(t *testing.T) {
	for _, c := range []struct {
		layer Layer
		in    []int
		want  string
	}{
		{MaxPool2D{Kernel: [2]int{2, 2}}, []int{64, 1, 1}, "max pool: 64×1×1 input (padded to 1×1) is smaller than the 2×2 window"},
		{AvgPool2D{Kernel: [2]int{3, 3}, Pad: [2]int{2, 2}}, []int{1, 8, 8}, "avg pool 3×3: padding 2×2 must be between 0 and half the kernel"},
		{MaxPool2D{}, []int{1, 8, 8}, "kernel 0×0 must be positive"},
		{MaxPool2D{Kernel: [2]int{2, 2}}, []int{8, 8}, "expects input [C, H, W]"},
	} {
		_, err := c.layer.OutShape(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OutShape(%v) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}
