package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestEncodeExactBytes checks Encode against files written out by hand from the
// format's description: u64 little-endian header length, JSON header padded with
// spaces so that 8+length is a multiple of 8, then little-endian data.
func TestEncodeExactBytes(t *testing.T) {
	tests := []struct {
		name string
		file *File
		want string // hex
	}{
		{
			name: "one F32 tensor [2] = {1, 2}",
			file: &File{Tensors: []Tensor{FromFloat32("a", []int{2}, []float32{1, 2})}},
			want: "3800000000000000" + // header length 56: 54 bytes of JSON + 2 spaces of padding
				hex.EncodeToString([]byte(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  `)) +
				"0000803f" + // 1.0f = 0x3f800000
				"00000040", // 2.0f = 0x40000000
		},
		{
			name: "metadata first, then an F64 scalar and an I32 [1]",
			file: &File{
				Metadata: map[string]string{"z": "1", "a": "<&>"},
				Tensors: []Tensor{
					{Name: "i", DType: I32, Shape: []int{1}, Data: []byte{0xff, 0xff, 0xff, 0xff}},
					FromFloat64("s", nil, []float64{-2}),
				},
			},
			want: "9000000000000000" + // header length 144: 142 bytes of JSON + 2 spaces
				hex.EncodeToString([]byte(`{"__metadata__":{"a":"<&>","z":"1"},`+
					`"i":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},`+
					`"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}  `)) +
				"00000000000000c0" + // -2.0 = 0xc000000000000000, placed first: 8-byte elements lead
				"ffffffff", // int32 -1
		},
		{
			name: "no tensors",
			file: &File{},
			want: "0800000000000000" + hex.EncodeToString([]byte("{}      ")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Encode(&b, tt.file); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b.Bytes()); got != tt.want {
				t.Fatalf("Encode:\n got %s\nwant %s", got, tt.want)
			}
			want, _ := hex.DecodeString(tt.want)
			f, err := Decode(bytes.NewReader(want), int64(len(want)), "hand.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			assertSameFile(t, f, tt.file)
		})
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	f := mixedFile()
	var a, b bytes.Buffer
	if err := Encode(&a, f); err != nil {
		t.Fatal(err)
	}
	// Map iteration order differs between calls; the bytes must not.
	for i := 0; i < 20; i++ {
		b.Reset()
		if err := Encode(&b, f); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("two encodings of the same File differ")
		}
	}
}

func TestEncodeAlignsEachTensor(t *testing.T) {
	f := &File{Tensors: []Tensor{
		{Name: "u", DType: U8, Shape: []int{3}, Data: []byte{1, 2, 3}},
		FromFloat32("f", []int{1}, []float32{1}),
		{Name: "h", DType: F16, Shape: []int{1}, Data: []byte{0, 0x3c}},
		FromFloat64("d", []int{1}, []float64{1}),
	}}
	var b bytes.Buffer
	if err := Encode(&b, f); err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b.Bytes())
	if (8+n)%8 != 0 {
		t.Errorf("data starts at %d, not 8-byte aligned", 8+n)
	}
	var header map[string]struct {
		DType       DType     `json:"dtype"`
		DataOffsets [2]uint64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(b.Bytes()[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	for name, e := range header {
		if e.DataOffsets[0]%uint64(e.DType.Size()) != 0 {
			t.Errorf("tensor %q (%s) starts at %d, not a multiple of its element size", name, e.DType, e.DataOffsets[0])
		}
	}
	// Decoding keeps the order the tensors were given in, not the layout order.
	got, err := Decode(bytes.NewReader(b.Bytes()), int64(b.Len()), "aligned")
	if err != nil {
		t.Fatal(err)
	}
	assertSameFile(t, got, f)
}

func TestEncodeRejectsInvalidFiles(t *testing.T) {
	f32 := FromFloat32("w", []int{1}, []float32{1})
	tests := []struct {
		name string
		file *File
		want string
	}{
		{"duplicate name", &File{Tensors: []Tensor{f32, f32}}, `duplicate tensor name "w"`},
		{"reserved name", &File{Tensors: []Tensor{FromFloat32(metadataKey, nil, []float32{1})}}, "reserved"},
		{"data size", &File{Tensors: []Tensor{{Name: "w", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}}, "needs 8 bytes, data has 4"},
		{"unknown dtype", &File{Tensors: []Tensor{{Name: "w", DType: "f32"}}}, `unknown dtype "f32"`},
		{"invalid UTF-8 name", &File{Tensors: []Tensor{FromFloat32("\xff", nil, []float32{1})}}, "not valid UTF-8"},
		{"invalid UTF-8 metadata", &File{Metadata: map[string]string{"k": "\xff"}}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Encode(&b, tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", b.Len())
			}
		})
	}
}

// mixedFile has one tensor of each kind tapestry writes or may read, and metadata.
func mixedFile() *File {
	return &File{
		Metadata: map[string]string{"format": "pt", "epoch": "3", "config": `{"hidden":[512,512]}`, "": "empty key"},
		Tensors: []Tensor{
			FromFloat32("fc1.weight", []int{2, 3}, []float32{1, -2, 3.5, 0, 1e-30, -1e30}),
			FromFloat32("fc1.bias", []int{2}, []float32{0.5, -0.5}),
			FromFloat64("scale", nil, []float64{0.1}),
			FromInt64("step", []int{1}, []int64{12345}),
			{Name: "mask", DType: U8, Shape: []int{3}, Data: []byte{1, 0, 1}},
			{Name: "half", DType: F16, Shape: []int{1}, Data: []byte{0x00, 0x3c}},
			{Name: "brain", DType: BF16, Shape: []int{1, 1}, Data: []byte{0x80, 0x3f}},
			{Name: "index", DType: I32, Shape: []int{2}, Data: []byte{1, 0, 0, 0, 2, 0, 0, 0}},
			FromFloat32("empty", []int{0, 4}, nil),
		},
	}
}

// assertSameFile fails unless got holds want's tensors, in order, and its metadata.
func assertSameFile(t *testing.T, got, want *File) {
	t.Helper()
	if err := sameFile(got, want); err != nil {
		t.Fatal(err)
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("device full")
	}
	w.after--
	return len(p), nil
}

func TestEncodeReportsWriteErrors(t *testing.T) {
	// Encode writes the length, the header, then one write per tensor, the largest
	// elements first: "scale" is mixedFile's first 8-byte tensor.
	for after, want := range []string{"writing safetensors header", "writing safetensors header", `writing tensor "scale"`} {
		err := Encode(&failingWriter{after: after}, mixedFile())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "device full") {
			t.Errorf("failing after %d writes: %v, want %q", after, err, want)
		}
	}
}
