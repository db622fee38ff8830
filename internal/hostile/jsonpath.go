package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// A JSON document decoded generically: map[string]any, []any,
// json.Number, string, bool or nil.

// decodeJSON decodes s keeping numbers as written.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// step is one key of a path: a string for an object, an int for an array.
type step = any

// leaf is a value found at a path.
type leaf struct {
	path  []step
	value any
}

// leaves lists every number and string in v, with its path, in a stable
// order (object keys sorted).
func leaves(v any, path []step) []leaf {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []leaf
		for _, k := range keys {
			out = append(out, leaves(x[k], appendStep(path, k))...)
		}
		return out
	case []any:
		var out []leaf
		for i, e := range x {
			out = append(out, leaves(e, appendStep(path, i))...)
		}
		return out
	case json.Number, string:
		return []leaf{{path: path, value: x}}
	}
	return nil
}

func appendStep(path []step, s step) []step {
	return append(append([]step(nil), path...), s)
}

// deepCopy copies a decoded document.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v
}

// deleteMarker as a value makes setPath delete the key or element.
type deleteMarker struct{}

// setPath returns a copy of root with the value at path replaced by v (or
// deleted, for deleteMarker{}).
func setPath(root any, path []step, v any) any {
	c := deepCopy(root)
	if len(path) == 0 {
		return v
	}
	parent := get(c, path[:len(path)-1])
	switch p := parent.(type) {
	case map[string]any:
		k := path[len(path)-1].(string)
		if _, del := v.(deleteMarker); del {
			delete(p, k)
		} else {
			p[k] = v
		}
	case []any:
		i := path[len(path)-1].(int)
		if _, del := v.(deleteMarker); del {
			// A deletion from an array is made where the array is held.
			return setPath(c, path[:len(path)-1], append(append([]any(nil), p[:i]...), p[i+1:]...))
		}
		if i == len(p) {
			// One past the end appends, where the array is held.
			return setPath(c, path[:len(path)-1], append(append([]any(nil), p...), v))
		}
		p[i] = v
	}
	return c
}

// get returns the value at path, or nil.
func get(v any, path []step) any {
	for _, s := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[s.(string)]
		case []any:
			i, ok := s.(int)
			if !ok || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// pathString writes a path as "net.config.layers[2].config.Out".
func pathString(path []step) string {
	s := ""
	for _, p := range path {
		switch x := p.(type) {
		case int:
			s += "[" + strconv.Itoa(x) + "]"
		default:
			if s != "" {
				s += "."
			}
			s += fmt.Sprint(x)
		}
	}
	return s
}
