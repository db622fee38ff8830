package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// MaxHeaderSize is the largest JSON header Decode accepts, the limit of the reference
// implementation (100 MiB). With the check against the real input size it bounds what
// a corrupt header length can make Decode allocate.
const MaxHeaderSize = 100 << 20

// metadataKey is the header entry that holds the file's string metadata.
const metadataKey = "__metadata__"

// Decode reads and validates a safetensors file of size bytes from r; name is used in
// errors. It reads only the header and the tensors' bytes, and allocates nothing larger
// than size: every length in the header is checked against size first, and size
// itself is checked by reading the input's last byte, so that a size that overstates
// the input (a file truncated while it is read, a caller's mistake) cannot make it
// allocate what is not there.
func Decode(r io.ReaderAt, size int64, name string) (*File, error) {
	f, err := decode(r, size)
	if err != nil {
		return nil, errors.Wrapf(err, "reading %s", name)
	}
	return f, nil
}

func decode(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, errors.Errorf("file is %d bytes, too short for the 8-byte header length", size)
	}
	var prefix [8]byte
	if err := readAt(r, prefix[:], 0); err != nil {
		return nil, errors.Wrap(err, "reading the header length")
	}
	var last [1]byte
	if err := readAt(r, last[:], size-1); err != nil {
		return nil, errors.Wrapf(err, "the input ends before the %d bytes it is said to hold", size)
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > uint64(size-8) {
		return nil, errors.Errorf("header length %d exceeds the %d bytes that follow it (truncated or not a safetensors file)", n, size-8)
	}
	if n > MaxHeaderSize {
		return nil, errors.Errorf("header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	header := make([]byte, n)
	if err := readAt(r, header, 8); err != nil {
		return nil, errors.Wrap(err, "reading the header")
	}
	bufLen := uint64(size) - 8 - n
	entries, metadata, err := parseHeader(header, bufLen)
	if err != nil {
		return nil, errors.Wrap(err, "header")
	}
	if err := checkLayout(entries, bufLen); err != nil {
		return nil, errors.Wrap(err, "header")
	}
	f := &File{Tensors: make([]Tensor, len(entries)), Metadata: metadata}
	for i, e := range entries {
		data := make([]byte, e.end-e.begin)
		if err := readAt(r, data, int64(8+n+e.begin)); err != nil {
			return nil, errors.Wrapf(err, "reading tensor %.40q", e.name)
		}
		f.Tensors[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: data}
	}
	return f, nil
}

// readAt fills p from r at off; io.ReaderAt may return io.EOF with a full read.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// entry is one tensor as the header describes it, already checked on its own.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end uint64
}

// parseHeader parses the JSON header and checks each tensor entry against a data
// buffer of bufLen bytes. Entries come back in header order. It streams through the
// header with one decoder, so that it allocates little more than what it returns, and
// so that it sees duplicate keys, which encoding/json would resolve to the last.
func parseHeader(header []byte, bufLen uint64) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, errors.New("does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if err := expectObject(dec); err != nil {
		return nil, nil, err
	}
	metadata := map[string]string{}
	var entries []entry
	seen := map[string]bool{}
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			return nil, nil, errors.Errorf("duplicate key %.40q", key)
		}
		seen[key] = true
		if key == metadataKey {
			if metadata, err = parseMetadata(dec); err != nil {
				return nil, nil, errors.Wrap(err, metadataKey)
			}
			continue
		}
		e, err := parseEntry(dec, key, bufLen)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "tensor %.40q", key)
		}
		entries = append(entries, e)
	}
	if err := closeObject(dec); err != nil {
		return nil, nil, err
	}
	// The writer may pad the header with spaces, so that the data is 8-byte aligned.
	end := dec.InputOffset()
	if len(bytes.TrimLeft(header[end:], " \t\r\n")) != 0 {
		return nil, nil, errors.Errorf("unexpected bytes after the JSON object at offset %d", end)
	}
	return entries, metadata, nil
}

// invalidJSON explains a decoder error; the header ending mid-value is the usual one.
func invalidJSON(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return errors.Wrap(err, "invalid JSON")
}

// expectObject consumes the '{' that opens an object.
func expectObject(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return invalidJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.Errorf("expected a JSON object, found %s", describe(tok))
	}
	return nil
}

// closeObject consumes the '}' that closes an object once dec.More is false.
func closeObject(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		return invalidJSON(err)
	}
	return nil
}

// nextKey reads an object's next key.
func nextKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", invalidJSON(err)
	}
	key, _ := tok.(string) // inside an object the decoder only yields strings here
	return key, nil
}

// short writes a list from a header for an error, cut after eight
// elements: a damaged header can hold a million.
func short[T any](v []T) string {
	if len(v) > 8 {
		return strings.TrimSuffix(fmt.Sprint(v[:8]), "]") + fmt.Sprintf(" … (%d in all)]", len(v))
	}
	return fmt.Sprint(v)
}

// describe names a JSON token in an error.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%.40q", v)
	}
	return fmt.Sprint(tok)
}

// parseMetadata reads the "__metadata__" value: null or an object of strings.
func parseMetadata(dec *json.Decoder) (map[string]string, error) {
	metadata := map[string]string{}
	tok, err := dec.Token()
	if err != nil {
		return nil, invalidJSON(err)
	}
	if tok == nil {
		return metadata, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.Errorf("expected a JSON object, found %s", describe(tok))
	}
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return nil, err
		}
		if _, dup := metadata[key]; dup {
			return nil, errors.Errorf("duplicate key %.40q", key)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, invalidJSON(err)
		}
		value, ok := tok.(string)
		if !ok {
			return nil, errors.Errorf("value of %.40q is %s, not a string", key, describe(tok))
		}
		metadata[key] = value
	}
	return metadata, closeObject(dec)
}

// rawEntry is a tensor's header fields as read, before they are checked.
type rawEntry struct {
	dtype   string
	shape   []int64
	offsets []uint64
}

// parseEntry reads one tensor's {"dtype", "shape", "data_offsets"} and checks it on
// its own: known dtype, non-negative dims, offsets inside the buffer, and a byte range
// exactly the size of the shape.
func parseEntry(dec *json.Decoder, name string, bufLen uint64) (entry, error) {
	raw, err := readEntry(dec)
	if err != nil {
		return entry{name: name}, err
	}
	return raw.check(name, bufLen)
}

// readEntry reads the fields of one tensor, each exactly once.
func readEntry(dec *json.Decoder) (rawEntry, error) {
	var r rawEntry
	if err := expectObject(dec); err != nil {
		return r, err
	}
	fields := [...]string{"dtype", "shape", "data_offsets"}
	var seen [len(fields)]bool
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return r, err
		}
		i := slices.Index(fields[:], key)
		if i < 0 {
			return r, errors.Errorf("unknown field %.40q", key)
		}
		if seen[i] {
			return r, errors.Errorf("duplicate key %.40q", key)
		}
		seen[i] = true
		if err := r.readField(dec, key); err != nil {
			return r, err
		}
	}
	if err := closeObject(dec); err != nil {
		return r, err
	}
	for i, field := range fields {
		if !seen[i] {
			return r, errors.Errorf("missing %s", field)
		}
	}
	return r, nil
}

// readField reads the value of one field.
func (r *rawEntry) readField(dec *json.Decoder, key string) error {
	switch key {
	case "dtype":
		tok, err := dec.Token()
		if err != nil {
			return invalidJSON(err)
		}
		var ok bool
		if r.dtype, ok = tok.(string); !ok {
			return errors.Errorf("dtype is %s, not a string", describe(tok))
		}
	case "shape":
		if err := dec.Decode(&r.shape); err != nil {
			return errors.Wrap(err, "shape")
		}
		if r.shape == nil {
			return errors.New("shape is null, not an array")
		}
	case "data_offsets":
		if err := dec.Decode(&r.offsets); err != nil {
			return errors.Wrap(err, "data_offsets")
		}
		if r.offsets == nil {
			return errors.New("data_offsets is null, not an array")
		}
	}
	return nil
}

// check turns the fields into an entry: a known dtype, dimensions in range,
// offsets inside the buffer spanning exactly the shape's bytes.
func (r rawEntry) check(name string, bufLen uint64) (entry, error) {
	e := entry{name: name, dtype: DType(r.dtype)}
	if e.dtype.Size() == 0 {
		return e, errors.Errorf("unknown dtype %.40q", r.dtype)
	}
	e.shape = make([]int, len(r.shape))
	for i, d := range r.shape {
		if d < 0 || uint64(d) > math.MaxInt {
			return e, errors.Errorf("shape %s: dimension %d out of range", short(r.shape), d)
		}
		e.shape[i] = int(d)
	}
	if len(r.offsets) != 2 {
		return e, errors.Errorf("data_offsets %s: want [begin, end]", short(r.offsets))
	}
	e.begin, e.end = r.offsets[0], r.offsets[1]
	if e.begin > e.end {
		return e, errors.Errorf("data_offsets %v: begin after end", r.offsets)
	}
	if e.end > bufLen {
		return e, errors.Errorf("data_offsets %v: past the end of the %d-byte data buffer", r.offsets, bufLen)
	}
	n, err := byteLen(e.dtype, e.shape)
	if err != nil {
		return e, err
	}
	if n != e.end-e.begin {
		return e, errors.Errorf("%s shape %s needs %d bytes, data_offsets %v span %d", r.dtype, short(r.shape), n, r.offsets, e.end-e.begin)
	}
	return e, nil
}

// checkLayout checks that the entries' byte ranges tile the data buffer exactly, as
// the format requires: sorted by offset, each begins where the previous ends, and the
// last ends at the end of the buffer.
func checkLayout(entries []entry, bufLen uint64) error {
	sorted := make([]*entry, len(entries))
	for i := range entries {
		sorted[i] = &entries[i]
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].begin != sorted[j].begin {
			return sorted[i].begin < sorted[j].begin
		}
		return sorted[i].end < sorted[j].end
	})
	var pos uint64
	var prev *entry
	for _, e := range sorted {
		switch {
		case e.begin < pos:
			return errors.Errorf("tensor %.40q (bytes %d to %d) overlaps tensor %.40q, which ends at byte %d", e.name, e.begin, e.end, prev.name, pos)
		case e.begin > pos:
			return errors.Errorf("bytes %d to %d of the data buffer belong to no tensor (a gap before tensor %.40q)", pos, e.begin, e.name)
		}
		pos, prev = e.end, e
	}
	if pos != bufLen {
		return errors.Errorf("bytes %d to %d of the data buffer belong to no tensor", pos, bufLen)
	}
	return nil
}
