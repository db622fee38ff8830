package mnist

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
)

// The fuzz targets feed arbitrary bytes to the IDX decoders, as they are
// and gzipped, with the size known and unknown. Properties: no panic; an
// error or a valid result; all four ways agree; allocation bounded by the
// bytes actually there (decompressed, for gzip), never by what a header
// claims nor by a ratio bound on the compressed size. Seeds:
// testdata/fuzz/<FuzzName>/.

func FuzzDecodeImages(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, 16, func(r io.Reader, size int64) ([]byte, error) {
			px, n, err := DecodeImages(r, size, "fuzz-input")
			if err == nil && len(px) != n*Pixels {
				t.Fatalf("%d images but %d pixels", n, len(px))
			}
			return px, err
		})
	})
}

func FuzzDecodeLabels(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, 8, func(r io.Reader, size int64) ([]byte, error) {
			labels, err := DecodeLabels(r, size, "fuzz-input")
			for i, l := range labels {
				if l >= Classes {
					t.Fatalf("label %d is %d without an error", i, l)
				}
			}
			return labels, err
		})
	})
}

// heapAllocs returns the bytes allocated so far. Unlike runtime.ReadMemStats
// it does not stop the world, which made fuzzing crawl on a busy machine;
// small objects are counted a span at a time (so late and in lumps), large
// ones (what a lying header would cause) exactly.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// One gzip writer of stored (uncompressed) blocks, reset per input: a
// compressing one costs more than the decoding under test, and fuzz speed
// decides how far minimization gets. The stream is still real gzip, with
// header and CRC; arbitrary compressed data comes from the fuzzer's own
// inputs that start with the gzip magic.
var gzipMu sync.Mutex
var gzipW, _ = gzip.NewWriterLevel(nil, gzip.NoCompression)

func gzipFast(b []byte) []byte {
	gzipMu.Lock()
	defer gzipMu.Unlock()
	var out bytes.Buffer
	gzipW.Reset(&out)
	gzipW.Write(b)
	gzipW.Close()
	return out.Bytes()
}

// dataThere is how many bytes in holds once decompressed: its length, or for a
// gzip stream (read as the decoders read it, members and all) what it inflates
// to, counted without keeping it, up to 1 GiB.
func dataThere(in []byte) int64 {
	if len(in) < 2 || in[0] != 0x1f || in[1] != 0x8b {
		return int64(len(in))
	}
	zr, err := gzip.NewReader(bytes.NewReader(in))
	if err != nil {
		return int64(len(in))
	}
	n, _ := io.CopyN(io.Discard, zr, 1<<30)
	return max(n, int64(len(in)))
}

// fuzzDecode checks decode on data in four ways; header is the IDX header
// length, after which a valid raw file holds exactly the decoded bytes.
func fuzzDecode(t *testing.T, data []byte, header int, decode func(io.Reader, int64) ([]byte, error)) {
	isGzip := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
	zipped := gzipFast(data)

	type result struct {
		out []byte
		err error
	}
	run := func(in []byte, there, size int64) result {
		before := heapAllocs()
		out, err := decode(bytes.NewReader(in), size)
		// Readers and gzip state take well under 1 MiB, and the counter may
		// charge a few spans the fuzzer itself filled before (a 16-byte input
		// once showed 1.16 MiB): 8 MiB of slack. The doubling buffers sum to
		// under four times the bytes that arrived (startCap). A claim of 2^31
		// images would be 1.7 TB; one of 60,000, 47 MB.
		if got, limit := heapAllocs()-before, uint64(8<<20+4*there); got > limit {
			t.Errorf("size %d: allocated %d bytes for a %d-byte input holding %d bytes, want <= %d", size, got, len(in), there, limit)
		}
		if err != nil && !strings.Contains(err.Error(), "fuzz-input") {
			t.Errorf("error %q does not name the input", err)
		}
		return result{out, err}
	}
	thereRaw, thereZipped := dataThere(data), dataThere(zipped)
	raw, rawUnknown := run(data, thereRaw, int64(len(data))), run(data, thereRaw, -1)
	gz, gzUnknown := run(zipped, thereZipped, int64(len(zipped))), run(zipped, thereZipped, -1)

	same := func(a, b result) bool { return (a.err == nil) == (b.err == nil) && bytes.Equal(a.out, b.out) }
	if !same(raw, rawUnknown) {
		t.Fatalf("known size: %v; unknown size: %v", raw.err, rawUnknown.err)
	}
	if !same(gz, gzUnknown) {
		t.Fatalf("gzipped, known size: %v; unknown size: %v", gz.err, gzUnknown.err)
	}
	// Gzipping a gzip file gives a gzip file inside gzip, which is not IDX.
	if !isGzip && !same(raw, gz) {
		t.Fatalf("raw: %v; gzipped: %v", raw.err, gz.err)
	}
	if raw.err == nil && !isGzip && !bytes.Equal(raw.out, data[header:]) {
		t.Fatalf("decoded data differs from the bytes after the header")
	}
}
