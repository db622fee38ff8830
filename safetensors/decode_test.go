package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// build returns a safetensors file with the given header text and data buffer.
func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestWriteFileReadFileRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		file *File
	}{
		{"F32", &File{Tensors: []Tensor{FromFloat32("w", []int{2, 2}, []float32{1, 2, 3, 4})}}},
		{"F64", &File{Tensors: []Tensor{FromFloat64("w", []int{3}, []float64{1e-300, 2, 3})}, Metadata: map[string]string{"k": "v"}}},
		{"mixed with metadata", mixedFile()},
		{"empty", &File{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.safetensors")
			if err := WriteFile(path, tt.file); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			assertSameFile(t, got, tt.file)
		})
	}
}

func TestDecodeAcceptsValidVariants(t *testing.T) {
	f32x1 := []byte{0, 0, 0x80, 0x3f} // 1.0f
	tests := []struct {
		name   string
		header string
		data   []byte
		want   *File
	}{
		{"unpadded header", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x1,
			&File{Tensors: []Tensor{FromFloat32("a", []int{1}, []float32{1})}}},
		{"whitespace in and after the JSON", "{ \"a\" : {\"shape\":[ 1 ],\"data_offsets\":[0,4],\"dtype\":\"F32\"} }\n   ", f32x1,
			&File{Tensors: []Tensor{FromFloat32("a", []int{1}, []float32{1})}}},
		{"header order differs from data order", `{"b":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, append(f32x1, 7),
			&File{Tensors: []Tensor{{Name: "b", DType: U8, Shape: []int{1}, Data: []byte{7}}, FromFloat32("a", nil, []float32{1})}}},
		{"null metadata", `{"__metadata__":null}`, nil, &File{}},
		{"zero-size tensors", `{"a":{"dtype":"F64","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"I64","shape":[3,0],"data_offsets":[0,0]}}`, nil,
			&File{Tensors: []Tensor{FromFloat64("a", []int{0}, nil), FromInt64("b", []int{3, 0}, nil)}}},
		{"escaped name and metadata", `{"__metadata__":{"\u00e9":"a\"b\\c\n"},"\u0041":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{9},
			&File{Metadata: map[string]string{"é": "a\"b\\c\n"}, Tensors: []Tensor{{Name: "A", DType: U8, Shape: nil, Data: []byte{9}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := build(tt.header, tt.data)
			got, err := Decode(bytes.NewReader(b), int64(len(b)), "valid.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			assertSameFile(t, got, tt.want)
		})
	}
}

func TestDecodeRejectsCorruptFiles(t *testing.T) {
	valid := build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8))
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "too short for the 8-byte header length"},
		{"truncated in the length", valid[:5], "too short"},
		{"truncated in the header", valid[:30], "exceeds the 22 bytes that follow it"},
		{"truncated in the data", valid[:len(valid)-1], "past the end of the 7-byte data buffer"},
		{"header length larger than file", build("{}", nil)[:8], "header length 2 exceeds the 0 bytes"},
		{"header length 2^64-1", binary.LittleEndian.AppendUint64(nil, ^uint64(0)), "exceeds"},
		{"bad JSON", build(`{"a":{"dtype":"F32",`, nil), "invalid JSON"},
		{"not an object", build(`["a"]`, nil), "does not start with '{'"},
		{"leading space", build(` {}`, nil), "does not start with '{'"},
		{"garbage after the JSON", build(`{} x`, nil), "unexpected bytes after the JSON object"},
		{"two objects", build(`{}{}`, nil), "unexpected bytes after the JSON object"},
		{"invalid UTF-8", build("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"offsets out of range", build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8)), "past the end of the 8-byte data buffer"},
		{"begin after end", build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8)), "begin after end"},
		{"three offsets", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}`, make([]byte, 4)), "want [begin, end]"},
		{"negative offset", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, make([]byte, 4)), "data_offsets"},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)),
			`bytes 4 to 8 of the data buffer belong to no tensor (a gap before tensor "b")`},
		{"gap at the start", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "bytes 0 to 4"},
		{"unused bytes at the end", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)), "bytes 4 to 8 of the data buffer belong to no tensor"},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
			`tensor "b" (bytes 4 to 8) overlaps tensor "a", which ends at byte 8`},
		{"same range twice", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "overlaps"},
		{"shape/size mismatch", build(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), "F32 shape [3] needs 12 bytes, data_offsets [0 8] span 8"},
		{"dtype/size mismatch", build(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)), "needs 16 bytes"},
		// 2^32 * 2^32 = 2^64 elements: the product wraps to 0 in 64-bit arithmetic.
		{"element count overflows", build(`{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), "more elements than fit in 64 bits"},
		{"overflow hidden by a zero dim", build(`{"a":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`, nil), "more elements than fit in 64 bits"},
		// 2^62 F32 elements are 2^64 bytes: the byte count wraps to 0.
		{"byte count overflows", build(`{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}`, nil), "more bytes than fit in 64 bits"},
		{"dimension beyond int64", build(`{"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}}`, nil), "shape"},
		{"negative dimension", build(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, nil), "dimension -1 out of range"},
		{"fractional dimension", build(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,6]}}`, make([]byte, 6)), "shape"},
		{"10 GB tensor in a small file", build(`{"a":{"dtype":"F32","shape":[2500000000],"data_offsets":[0,10000000000]}}`, make([]byte, 8)), "past the end of the 8-byte data buffer"},
		{"10 GB shape over 8 bytes", build(`{"a":{"dtype":"F32","shape":[2500000000],"data_offsets":[0,8]}}`, make([]byte, 8)), "needs 10000000000 bytes"},
		{"duplicate name", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), `duplicate key "a"`},
		{"duplicate field", build(`{"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), `duplicate key "dtype"`},
		{"unknown dtype", build(`{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `unknown dtype "F31"`},
		{"dtype not a string", build(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "dtype is 4, not a string"},
		{"shape null", build(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, make([]byte, 4)), "shape is null, not an array"},
		{"missing shape", build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), "missing shape"},
		{"missing dtype", build(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "missing dtype"},
		{"missing offsets", build(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), "missing data_offsets"},
		{"unknown field", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"strides":[1]}}`, make([]byte, 4)), `unknown field "strides"`},
		{"entry not an object", build(`{"a":[1]}`, nil), "expected a JSON object"},
		{"entry null", build(`{"a":null}`, nil), "expected a JSON object, found null"},
		{"non-string metadata", build(`{"__metadata__":{"epoch":3}}`, nil), `value of "epoch" is 3, not a string`},
		{"null metadata value", build(`{"__metadata__":{"epoch":null}}`, nil), `value of "epoch" is null, not a string`},
		{"metadata not an object", build(`{"__metadata__":"x"}`, nil), "__metadata__: expected a JSON object"},
		{"duplicate metadata key", build(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate key "k"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(bytes.NewReader(tt.file), int64(len(tt.file)), "corrupt.safetensors")
			if err == nil {
				t.Fatalf("decoded %+v, want an error containing %q", f, tt.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "reading corrupt.safetensors: ") || !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q, want one naming the file and containing %q", msg, tt.want)
			}
		})
	}
}

// zeros is a ReaderAt over a long file: its 8-byte prefix, then zeros.
type zeros struct{ prefix []byte }

func (z zeros) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		p[i] = 0
		if off+int64(i) < int64(len(z.prefix)) {
			p[i] = z.prefix[off+int64(i)]
		}
	}
	return len(p), nil
}

func TestDecodeAllocatesNothingAnUntrustedLengthAsks(t *testing.T) {
	const limit = 1 << 20 // 1 MiB: far below every length these headers claim
	bigTensor := build(`{"a":{"dtype":"F32","shape":[2500000000],"data_offsets":[0,10000000000]}}`, make([]byte, 1000))
	tests := []struct {
		name string
		r    func() (*File, error)
	}{
		{"10 GB tensor in a 1 KB file", func() (*File, error) {
			return Decode(bytes.NewReader(bigTensor), int64(len(bigTensor)), "big")
		}},
		{"header of 2^64-1 bytes in a 1 KB file", func() (*File, error) {
			b := append(binary.LittleEndian.AppendUint64(nil, ^uint64(0)), make([]byte, 1000)...)
			return Decode(bytes.NewReader(b), int64(len(b)), "big")
		}},
		{"header of 200 MiB in a 1 TiB file", func() (*File, error) {
			return Decode(zeros{binary.LittleEndian.AppendUint64(nil, 200<<20)}, 1<<40, "big")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := memlimit.Allocated(func() { _, err = tt.r() })
			if err == nil {
				t.Fatal("no error")
			}
			if n > limit {
				t.Fatalf("allocated %d bytes before failing (%v)", n, err)
			}
		})
	}
}

func TestReadFileErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.safetensors")
	if _, err := ReadFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadFile(dir); err == nil || err.Error() != "reading "+dir+": is a directory" {
		t.Errorf("folder: %v, want \"reading %s: is a directory\"", err, dir)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("text file: %v", err)
	}
}

func TestGet(t *testing.T) {
	f := mixedFile()
	got, ok := f.Get("step")
	if !ok || got.DType != I64 {
		t.Fatalf("Get(step) = %+v, %v", got, ok)
	}
	if _, ok := f.Get("nope"); ok {
		t.Fatal("Get found a tensor that is not there")
	}
}

func TestDecodeInputShorterThanItsSize(t *testing.T) {
	// A caller's size may be wrong (a file truncated since its size was taken): the
	// bytes that are not there are an error, not zeros.
	b := build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8))
	_, err := Decode(bytes.NewReader(b), int64(len(b)+8), "shrinking.safetensors")
	if err == nil || err.Error() != "reading shrinking.safetensors: the input ends before the 79 bytes it is said to hold: unexpected EOF" {
		t.Fatalf("error %v, want one saying the input ends before its size", err)
	}
}

func TestDecodeDoesNotTrustAnOverstatedSize(t *testing.T) {
	// A header and a size that agree on a 10 GB tensor, over an input of 100 bytes:
	// every length fits the size, so only reading shows the bytes are not there,
	// and that must happen before 10 GB are allocated for them.
	header := `{"a":{"dtype":"U8","shape":[10000000000],"data_offsets":[0,10000000000]}}`
	b := build(header, make([]byte, 100))
	size := int64(8+len(header)) + 10_000_000_000
	var err error
	n := memlimit.Allocated(func() { _, err = Decode(bytes.NewReader(b), size, "overstated.safetensors") })
	if err == nil || !strings.Contains(err.Error(), "the input ends before the") {
		t.Fatalf("error %v, want one saying the input ends before its size", err)
	}
	if n > 1<<20 {
		t.Fatalf("allocated %d bytes for a 100-byte input", n)
	}
}
