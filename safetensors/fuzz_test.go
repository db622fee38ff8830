package safetensors

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzDecode from fuzzSeeds")

// fuzzSeeds are the committed seed corpus of FuzzDecode: valid files of each shape of
// header, and one of each kind of corruption, so the fuzzer starts near every check.
func fuzzSeeds() map[string][]byte {
	var mixed bytes.Buffer
	if err := Encode(&mixed, mixedFile()); err != nil {
		panic(err)
	}
	one := build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  `, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40})
	return map[string][]byte{
		"valid_one_f32":      one,
		"valid_mixed":        mixed.Bytes(),
		"valid_empty":        build("{}      ", nil),
		"valid_metadata":     build(`{"__metadata__":{"k":"v"},"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)),
		"valid_unordered":    build(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, []byte{1, 2, 3, 4, 5}),
		"truncated":          one[:len(one)-3],
		"gap":                build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)),
		"overlap":            build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
		"overflowing_shape":  build(`{"a":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`, nil),
		"huge_tensor":        build(`{"a":{"dtype":"F32","shape":[2500000000],"data_offsets":[0,10000000000]}}`, make([]byte, 8)),
		"huge_header_length": append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "{}"...),
		"bad_metadata":       build(`{"__metadata__":{"k":1}}`, nil),
		"duplicate_name":     build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)),
	}
}

// corpusFile is the file format of go test's fuzzing corpus for one []byte argument.
func corpusFile(b []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
}

// TestFuzzCorpusIsCurrent keeps the committed seed corpus equal to fuzzSeeds; run
// with -update-corpus to rewrite it.
func TestFuzzCorpusIsCurrent(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	seeds := fuzzSeeds()
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		want := corpusFile(seeds[name])
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v): run go test -run TestFuzzCorpusIsCurrent -update-corpus", path, err)
		}
	}
}

// FuzzDecode checks that Decode never panics, that anything it accepts re-encodes and
// decodes to the same tensors and metadata, and that it allocates at most a small
// multiple of the input's size however large the sizes the header claims, or the
// size the caller claims.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		// Measured on the seeds and on large generated headers: 20 to 40 bytes per
		// header byte (a metadata map costs the most) plus about 3 KiB fixed. A header
		// length or tensor size taken on trust would blow far past this.
		limit := 64*uint64(len(data)) + 64<<10

		// A size that overstates the input by a terabyte: whatever the header says
		// fits it, nothing beyond the real bytes may be allocated, and it is an error.
		var err error
		if n := memlimit.Allocated(func() { _, err = Decode(bytes.NewReader(data), int64(len(data))+1<<40, "fuzz") }); n > limit || err == nil {
			t.Fatalf("Decode of %d bytes said to be 1 TiB more allocated %d bytes (limit %d), error %v", len(data), n, limit, err)
		}

		var got *File
		n := memlimit.Allocated(func() { got, err = Decode(bytes.NewReader(data), int64(len(data)), "fuzz") })
		if n > limit {
			t.Fatalf("Decode of %d bytes allocated %d bytes (limit %d)", len(data), n, limit)
		}
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Encode(&b, got); err != nil {
			t.Fatalf("re-encoding a decoded file: %v", err)
		}
		again, err := Decode(bytes.NewReader(b.Bytes()), int64(b.Len()), "re-encoded")
		if err != nil {
			t.Fatalf("decoding a re-encoded file: %v", err)
		}
		if err := sameFile(again, got); err != nil {
			t.Fatalf("round trip changed the file: %v", err)
		}
	})
}
