package safetensors

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/pkg/errors"
)

// Tensor is one named tensor: its dtype, its shape (empty for a scalar) and its
// elements in row-major order as little-endian bytes, as they lie in the file.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// FromFloat32 returns an F32 tensor holding a copy of data. It panics if len(data) is
// not the product of shape, a programmer error.
func FromFloat32(name string, shape []int, data []float32) Tensor {
	t := newTensor(name, F32, shape, len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(v))
	}
	return t
}

// FromFloat64 returns an F64 tensor holding a copy of data. It panics if len(data) is
// not the product of shape.
func FromFloat64(name string, shape []int, data []float64) Tensor {
	t := newTensor(name, F64, shape, len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(t.Data[8*i:], math.Float64bits(v))
	}
	return t
}

// FromInt64 returns an I64 tensor holding a copy of data. It panics if len(data) is
// not the product of shape.
func FromInt64(name string, shape []int, data []int64) Tensor {
	t := newTensor(name, I64, shape, len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(t.Data[8*i:], uint64(v))
	}
	return t
}

func newTensor(name string, dtype DType, shape []int, n int) Tensor {
	size, err := byteLen(dtype, shape)
	if err != nil || size != uint64(n*dtype.Size()) {
		panic(errors.Errorf("safetensors: tensor %q: %d values do not fill shape %v", name, n, shape))
	}
	return Tensor{Name: name, DType: dtype, Shape: append([]int{}, shape...), Data: make([]byte, n*dtype.Size())}
}

// Float32s returns the elements of an F32, F16 or BF16 tensor as float32 (F16 and
// BF16 widen exactly). Other dtypes are an error: narrowing F64 would lose precision
// silently.
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	n := len(t.Data) / t.DType.Size()
	out := make([]float32, n)
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = halfToFloat32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range out {
			// bfloat16 is the top half of a float32.
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.Data[2*i:])) << 16)
		}
	default:
		return nil, errors.Errorf("tensor %.40q: dtype %s does not convert to float32", t.Name, t.DType)
	}
	return out, nil
}

// Float64s returns the elements of an F64, F32, F16 or BF16 tensor as float64.
func (t Tensor) Float64s() ([]float64, error) {
	if t.DType != F64 {
		f, err := t.Float32s()
		if err != nil {
			return nil, errors.Wrap(err, "converting to float64")
		}
		out := make([]float64, len(f))
		for i, v := range f {
			out[i] = float64(v)
		}
		return out, nil
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	out := make([]float64, len(t.Data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// Int64s returns the elements of an I64, I32 or U8 tensor as int64.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Data)/t.DType.Size())
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
	case U8:
		for i, b := range t.Data {
			out[i] = int64(b)
		}
	default:
		return nil, errors.Errorf("tensor %.40q: dtype %s does not convert to int64", t.Name, t.DType)
	}
	return out, nil
}

// check reports whether t's dtype is known, its shape valid and its data exactly the
// size the shape calls for.
func (t Tensor) check() error {
	n, err := byteLen(t.DType, t.Shape)
	if err != nil {
		return errors.Wrapf(err, "tensor %.40q", t.Name)
	}
	if uint64(len(t.Data)) != n {
		return errors.Errorf("tensor %.40q: %s shape %s needs %d bytes, data has %d", t.Name, t.DType, short(t.Shape), n, len(t.Data))
	}
	return nil
}

// byteLen returns the number of bytes a tensor of this dtype and shape occupies.
func byteLen(dtype DType, shape []int) (uint64, error) {
	size := dtype.Size()
	if size == 0 {
		return 0, errors.Errorf("unknown dtype %.40q", string(dtype))
	}
	for _, d := range shape {
		if d < 0 {
			return 0, errors.Errorf("shape %s has a negative dimension", short(shape))
		}
	}
	count, ok := elementCount(shape)
	if !ok {
		return 0, errors.Errorf("shape %s has more elements than fit in 64 bits", short(shape))
	}
	hi, n := bits.Mul64(count, uint64(size))
	if hi != 0 {
		return 0, errors.Errorf("shape %s of %s has more bytes than fit in 64 bits", short(shape), dtype)
	}
	return n, nil
}

// elementCount returns the product of the non-negative dims of shape, and false if it
// overflows a uint64. A zero dim makes the product zero, but an overflow before it is
// still reported, as the reference implementation does.
func elementCount(shape []int) (uint64, bool) {
	count := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(count, uint64(d))
		if hi != 0 {
			return 0, false
		}
		count = lo
	}
	return count, true
}

// halfToFloat32 widens an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN, payload kept
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant * 2^-24
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	}
	// Rebias the exponent from 15 to 127.
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
