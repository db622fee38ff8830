package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// Encode writes f in the safetensors format. The header lists "__metadata__" first
// (omitted when empty; keys sorted), then the tensors in f's order; the data buffer
// holds them by element size, largest first, so each starts aligned to its element
// size. The same File always encodes to the same bytes.
func Encode(w io.Writer, f *File) error {
	header, layout, err := encodeHeader(f)
	if err != nil {
		return errors.Wrap(err, "encoding safetensors")
	}
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(header)))
	if _, err := w.Write(prefix[:]); err != nil {
		return errors.Wrap(err, "writing safetensors header")
	}
	if _, err := w.Write(header); err != nil {
		return errors.Wrap(err, "writing safetensors header")
	}
	for _, i := range layout {
		if _, err := w.Write(f.Tensors[i].Data); err != nil {
			return errors.Wrapf(err, "writing tensor %q", f.Tensors[i].Name)
		}
	}
	return nil
}

// encodeHeader checks f and returns its JSON header, padded with spaces to a multiple
// of 8 bytes, and the order of the tensors in the data buffer.
func encodeHeader(f *File) ([]byte, []int, error) {
	if err := checkTensors(f); err != nil {
		return nil, nil, err
	}
	keys, err := metadataKeys(f)
	if err != nil {
		return nil, nil, err
	}
	layout, offsets := dataLayout(f)
	b := headerJSON(f, keys, offsets)
	// Pad so that the data buffer starts 8-byte aligned (8 + len is a multiple of 8).
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	if b.Len() > MaxHeaderSize {
		return nil, nil, errors.Errorf("header of %d bytes exceeds the %d-byte limit readers accept", b.Len(), MaxHeaderSize)
	}
	return b.Bytes(), layout, nil
}

// checkTensors refuses reserved, invalid and duplicate names and tensors
// whose data do not fit their dtype and shape.
func checkTensors(f *File) error {
	seen := make(map[string]bool, len(f.Tensors))
	for _, t := range f.Tensors {
		switch {
		case t.Name == metadataKey:
			return errors.Errorf("tensor name %q is reserved for metadata", t.Name)
		case !utf8.ValidString(t.Name):
			return errors.Errorf("tensor name %.40q is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return errors.Errorf("duplicate tensor name %.40q", t.Name)
		}
		seen[t.Name] = true
		if err := t.check(); err != nil {
			return err
		}
	}
	return nil
}

// metadataKeys returns the metadata's keys, sorted, after checking that keys
// and values are valid UTF-8.
func metadataKeys(f *File) ([]string, error) {
	keys := make([]string, 0, len(f.Metadata))
	for k, v := range f.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, errors.Errorf("metadata %.40q: %.40q is not valid UTF-8", k, v)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// dataLayout orders the tensors in the data buffer by element size, largest
// first (stable), and returns that order and each tensor's [begin, end).
func dataLayout(f *File) ([]int, [][2]uint64) {
	layout := make([]int, len(f.Tensors))
	for i := range layout {
		layout[i] = i
	}
	sort.SliceStable(layout, func(i, j int) bool {
		return f.Tensors[layout[i]].DType.Size() > f.Tensors[layout[j]].DType.Size()
	})
	offsets := make([][2]uint64, len(f.Tensors))
	var pos uint64
	for _, i := range layout {
		offsets[i] = [2]uint64{pos, pos + uint64(len(f.Tensors[i].Data))}
		pos = offsets[i][1]
	}
	return layout, offsets
}

// headerJSON writes the header: the metadata first, keys sorted, then the
// tensors in f's order.
func headerJSON(f *File, keys []string, offsets [][2]uint64) *bytes.Buffer {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	writeString := func(s string) {
		_ = enc.Encode(s)       // a valid UTF-8 string always encodes
		b.Truncate(b.Len() - 1) // Encode appends a newline
	}
	b.WriteByte('{')
	if len(keys) > 0 {
		writeString(metadataKey)
		b.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(k)
			b.WriteByte(':')
			writeString(f.Metadata[k])
		}
		b.WriteByte('}')
	}
	for i, t := range f.Tensors {
		if i > 0 || len(keys) > 0 {
			b.WriteByte(',')
		}
		writeString(t.Name)
		b.WriteString(`:{"dtype":`)
		writeString(string(t.DType))
		b.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString(`],"data_offsets":[`)
		b.WriteString(strconv.FormatUint(offsets[i][0], 10))
		b.WriteByte(',')
		b.WriteString(strconv.FormatUint(offsets[i][1], 10))
		b.WriteString("]}")
	}
	b.WriteByte('}')
	return &b
}
