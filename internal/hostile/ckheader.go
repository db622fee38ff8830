package hostile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// header adds a case of the good data under another header.
func (g *ckGen) header(name string, scope Scope, header string, data []byte) {
	g.add(Header, scope, name, func() []byte { return raw([]byte(header), data) })
}

// raw lays out a safetensors file from its JSON header and data buffer,
// with the length prefix the header's own.
func raw(header, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	return append(append(b, header...), data...)
}

// headerFields adds cases whose safetensors header itself is damaged: the
// length prefix, the JSON, a tensor's entry, the metadata's types,
// duplicate keys and huge names. The digest is not recomputed: the reader
// must refuse them before it gets there, or at it.
func (g *ckGen) headerFields() error {
	hl := g.headerLen()
	header, data := g.good[8:8+hl], g.good[8+hl:]
	for _, n := range []uint64{0, 1, uint64(hl - 1), uint64(hl + 1), uint64(len(g.good)), 1 << 63, math.MaxUint64} {
		g.add(Header, All, fmt.Sprintf("header length %d (is %d)", n, hl), func() []byte {
			b := append([]byte(nil), g.good...)
			binary.LittleEndian.PutUint64(b, n)
			return b
		})
	}
	for _, h := range []string{"", "{}", "[]", "null", `{"a":`, "\xff\xfe{}", strings.Repeat("[", 100000)} {
		g.header(fmt.Sprintf("header %.12q", h), All, h, data)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		return errors.Wrap(err, "the good checkpoint's header")
	}
	first := firstTensor(entries)
	if first == "" {
		return errors.New("the good checkpoint has no tensor")
	}
	var entry map[string]any
	if err := json.Unmarshal(entries[first], &entry); err != nil {
		return errors.Wrap(err, "the good checkpoint's first tensor")
	}
	set := func(name, field string, v any) {
		e := map[string]any{}
		for k, x := range entry {
			e[k] = x
		}
		if v == nil && field != "" {
			delete(e, field)
		} else if field != "" {
			e[field] = v
		}
		edited := copyEntries(entries)
		edited[first] = json.RawMessage(jsonOf(e))
		g.header(name, All, jsonOf(edited), data)
	}
	offs := entry["data_offsets"].([]any)
	begin, end := offs[0].(float64), offs[1].(float64)
	for _, v := range []any{"X9", "I64", "F16", 5.0} {
		set(fmt.Sprintf("tensor dtype %v", v), "dtype", v)
	}
	for _, v := range []any{[]any{1 << 40}, []any{-1}, []any{"x"}, []any{1e300}, []any{}, "null", 5.0} {
		set(fmt.Sprintf("tensor shape %v", v), "shape", v)
	}
	for _, v := range []any{[]any{0, 1 << 62}, []any{end, begin}, []any{begin}, []any{-1, end}, []any{begin + 1, end + 1}, "x"} {
		set(fmt.Sprintf("tensor data_offsets %v", v), "data_offsets", v)
	}
	set("tensor entry without a dtype", "dtype", nil)
	set("tensor entry with an unknown field", "z", 1)
	g.metadataTypes(entries, data)
	g.hugeNames(entries, data, entry)
	// A key written twice: encoding/json would keep the last.
	dup := strings.Replace(string(header), `"__metadata__":{`, `"__metadata__":{"epoch":"0",`, 1)
	g.header("metadata key written twice", All, dup, data)
	return nil
}

// metadataTypes adds cases whose metadata is not an object of strings.
func (g *ckGen) metadataTypes(entries map[string]json.RawMessage, data []byte) {
	for _, md := range []string{`[]`, `"x"`, `5`, `{"epoch":3}`, `{"epoch":null}`, `{"epoch":{}}`, `{"epoch":["1"]}`} {
		edited := copyEntries(entries)
		edited["__metadata__"] = json.RawMessage(md)
		g.header("metadata "+md, All, jsonOf(edited), data)
	}
}

// hugeNames adds tensors and metadata keys of a mebibyte's name, which an
// error must not quote whole.
func (g *ckGen) hugeNames(entries map[string]json.RawMessage, data []byte, entry map[string]any) {
	edited := copyEntries(entries)
	edited[huge] = json.RawMessage(`{"dtype":"F32","shape":[1],"data_offsets":[0,0]}`)
	g.header("a tensor of a 1 MiB name and the wrong size", All, jsonOf(edited), data)
	edited = copyEntries(entries)
	edited[huge] = json.RawMessage(`{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`)
	g.header("an empty tensor of a 1 MiB name", All, jsonOf(edited), data)
	edited = copyEntries(entries)
	edited["x"+huge] = edited[firstTensor(entries)]
	g.header("a tensor of a 1 MiB name overlapping another", All, jsonOf(edited), data)
	var md map[string]string
	if json.Unmarshal(entries["__metadata__"], &md) == nil {
		md[huge] = huge
		edited = copyEntries(entries)
		edited["__metadata__"] = json.RawMessage(jsonOf(md))
		scope := All
		if g.v1 {
			scope = Any // the first format's digest did not cover its metadata
		}
		g.header("a metadata key and value of 1 MiB each, not resealed", scope, jsonOf(edited), data)
	}
}

func copyEntries(m map[string]json.RawMessage) map[string]json.RawMessage {
	c := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// firstTensor is the first tensor name in key order.
func firstTensor(entries map[string]json.RawMessage) string {
	var names []string
	for k := range entries {
		if k != "__metadata__" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
