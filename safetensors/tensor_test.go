package safetensors

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestFloat32sConvertsHalfPrecision(t *testing.T) {
	// Bit patterns from IEEE 754 binary16 and bfloat16 tables.
	tests := []struct {
		name string
		t    Tensor
		want []float32
	}{
		{"F16", Tensor{DType: F16, Shape: []int{8}, Data: []byte{
			0x00, 0x3c, // 1
			0x00, 0xc0, // -2
			0xff, 0x7b, // 65504, the largest finite half
			0x01, 0x00, // 2^-24, the smallest subnormal
			0xff, 0x03, // 1023 * 2^-24, the largest subnormal
			0x00, 0x7c, // +Inf
			0x00, 0xfc, // -Inf
			0x00, 0x80, // -0
		}}, []float32{1, -2, 65504, 0x1p-24, 1023 * 0x1p-24, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}},
		{"BF16", Tensor{DType: BF16, Shape: []int{2}, Data: []byte{
			0x80, 0x3f, // 1
			0x49, 0xc0, // -3.140625 (pi truncated to 8 bits of mantissa)
		}}, []float32{1, -3.140625}},
		{"F32", FromFloat32("x", []int{2, 1}, []float32{1.5, -0.25}), []float32{1.5, -0.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(tt.want[i]) {
					t.Errorf("element %d = %g, want %g", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestHalfNaNStaysNaN(t *testing.T) {
	got, err := Tensor{DType: F16, Shape: []int{1}, Data: []byte{0x00, 0x7e}}.Float32s()
	if err != nil || !math.IsNaN(float64(got[0])) {
		t.Fatalf("F16 0x7e00 = %v, %v; want NaN", got, err)
	}
}

func TestFloat64sAndInt64s(t *testing.T) {
	f64, err := FromFloat64("x", []int{3}, []float64{1e300, -1, 0.1}).Float64s()
	if err != nil || !reflect.DeepEqual(f64, []float64{1e300, -1, 0.1}) {
		t.Errorf("F64: %v, %v", f64, err)
	}
	widened, err := FromFloat32("x", []int{1}, []float32{0.1}).Float64s()
	if err != nil || widened[0] != float64(float32(0.1)) {
		t.Errorf("F32 as float64: %v, %v", widened, err)
	}
	i64, err := FromInt64("x", []int{2}, []int64{math.MinInt64, 7}).Int64s()
	if err != nil || !reflect.DeepEqual(i64, []int64{math.MinInt64, 7}) {
		t.Errorf("I64: %v, %v", i64, err)
	}
	i32, err := Tensor{DType: I32, Shape: []int{1}, Data: []byte{0xfe, 0xff, 0xff, 0xff}}.Int64s()
	if err != nil || i32[0] != -2 {
		t.Errorf("I32 0xfffffffe: %v, %v; want -2", i32, err)
	}
	u8, err := Tensor{DType: U8, Shape: []int{2}, Data: []byte{0, 255}}.Int64s()
	if err != nil || !reflect.DeepEqual(u8, []int64{0, 255}) {
		t.Errorf("U8: %v, %v", u8, err)
	}
}

func TestConversionErrors(t *testing.T) {
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"F64 to float32", func() error { _, err := FromFloat64("w", nil, []float64{1}).Float32s(); return err }, "does not convert to float32"},
		{"I64 to float64", func() error { _, err := FromInt64("w", nil, []int64{1}).Float64s(); return err }, "does not convert to float32"},
		{"F32 to int64", func() error { _, err := FromFloat32("w", nil, []float32{1}).Int64s(); return err }, "does not convert to int64"},
		{"short data", func() error {
			_, err := Tensor{Name: "w", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}.Float32s()
			return err
		}, "needs 8 bytes, data has 7"},
		{"unknown dtype", func() error { _, err := Tensor{Name: "w", DType: "F31"}.Float32s(); return err }, `unknown dtype "F31"`},
		{"negative dim", func() error { _, err := Tensor{Name: "w", DType: F32, Shape: []int{-1}}.Float32s(); return err }, "negative dimension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"w"`) {
				t.Fatalf("error %v, want one naming tensor \"w\" and containing %q", err, tt.want)
			}
		})
	}
}

func TestFromFloat32PanicsOnShapeMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("FromFloat32 with 3 values for shape [2] did not panic")
		}
	}()
	FromFloat32("x", []int{2}, []float32{1, 2, 3})
}

func TestFromFloat32CopiesShape(t *testing.T) {
	shape := []int{2}
	x := FromFloat32("x", shape, []float32{1, 2})
	shape[0] = 5
	if x.Shape[0] != 2 {
		t.Fatal("tensor shares the caller's shape slice")
	}
}
