// Package strictjson decodes JSON that tapestry wrote itself (architecture
// specifications, saved options, checkpoint metadata) strictly: an unknown
// field or anything after the value is an error, so that a file from
// another version, or an edited one, is refused rather than half read.
//
// Every file tapestry reads is untrusted, so nothing here quotes more than
// a short prefix of what it read: an error of encoding/json's that would
// quote a long value or key is cut (see Decode), and Check bounds, in one
// pass before any decoding, the nesting, strings and literals of a value.
package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// maxErr is the longest message of encoding/json's that Decode passes on
// as it is; a longer one (which quotes a long key or value of the input) is
// cut to its first maxErr bytes.
const maxErr = 240

// Decode decodes the one JSON value in b into v, refusing fields v does not
// have and data after the value. An error of encoding/json's own that would
// quote more than a short prefix of b is cut; it still unwraps to the
// original.
func Decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return shorten(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the value")
	}
	return nil
}

// cutError is an error of encoding/json's with a shortened message.
type cutError struct {
	msg string
	err error
}

func (e *cutError) Error() string { return e.msg }
func (e *cutError) Unwrap() error { return e.err }
func (e *cutError) Cause() error  { return e.err }

// shorten returns err, or when it is one of encoding/json's errors with a
// long message, that error with the quoted value and the message cut. An
// error some UnmarshalJSON method returned is left alone: it is that
// method's to keep short.
func shorten(err error) error {
	if te, ok := err.(*json.UnmarshalTypeError); ok && (len(te.Value) > 40 || len(te.Field) > 80) {
		c := *te
		c.Value, c.Field = cut(c.Value, 40), cut(c.Field, 80)
		return &cutError{msg: cut(c.Error(), maxErr), err: err}
	}
	msg := err.Error()
	if len(msg) <= maxErr || !strings.HasPrefix(msg, "json: ") {
		return err
	}
	return &cutError{msg: cut(msg, maxErr), err: err}
}

// cut returns s, or its first n bytes (not splitting a character) and "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Limits bounds what Check accepts. A zero bound is no bound.
type Limits struct {
	// Depth is the most levels of objects and arrays nested in each other
	// (the top-level value's own is the first).
	Depth int
	// String is the most bytes a string or an object's key may have, as
	// written between its quotes (an escape counts as its bytes).
	String int
	// Literal is the most bytes a number (or true, false, null) may have.
	Literal int
}

// frame is one open object or array, for naming where Check stopped.
type frame struct {
	array bool
	index int    // in an array: the element's index
	key   []byte // in an object: the last key read (a slice of the input)
}

// Check reads b once, in time linear in its length and without allocating
// unless it fails, and returns an error naming the place (a path such as
// net.config.layers[0].config.Name) of the first nesting, string or
// literal beyond lim. It checks the bounds only, not the syntax: Decode
// does that, and may then read b without its cost growing with the depth
// past lim.Depth. An error quotes at most a short prefix of b.
func Check(b []byte, lim Limits) error {
	var stack []frame
	wantKey := false // in an object, before a key
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r', ':':
			if c == ':' {
				wantKey = false
			}
		case '{', '[':
			if lim.Depth > 0 && len(stack) >= lim.Depth {
				return errors.Errorf("%s: more than %d levels of nested objects and arrays", path(stack, true), lim.Depth)
			}
			stack = append(stack, frame{array: c == '['})
			wantKey = c == '{'
		case '}', ']':
			if len(stack) == 0 {
				return nil // a syntax error: Decode reports it
			}
			stack = stack[:len(stack)-1]
			wantKey = false
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].array {
					stack[n-1].index++
				} else {
					wantKey = true
				}
			}
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(b) {
				return nil // an unterminated string: Decode reports it
			}
			s := b[i+1 : j]
			key := wantKey && len(stack) > 0
			if lim.String > 0 && len(s) > lim.String {
				if key {
					return errors.Errorf("%s: a key of %d bytes (%s), more than %d", path(stack, false), len(s), prefix(s), lim.String)
				}
				return errors.Errorf("%s: a string of %d bytes (%s), more than %d", path(stack, true), len(s), prefix(s), lim.String)
			}
			if key {
				stack[len(stack)-1].key = s
				wantKey = false
			}
			i = j
		default:
			j := i
			for j < len(b) && !delim(b[j]) {
				j++
			}
			if lim.Literal > 0 && j-i > lim.Literal {
				return errors.Errorf("%s: a literal of %d bytes (%s), more than %d", path(stack, true), j-i, prefix(b[i:j]), lim.Literal)
			}
			i = j - 1
		}
	}
	return nil
}

// prefix quotes the first few bytes of s.
func prefix(s []byte) string {
	const n = 16
	if len(s) <= n {
		return strconv.Quote(string(s))
	}
	k := n
	for k > 0 && !utf8.RuneStart(s[k]) {
		k--
	}
	return strconv.Quote(string(s[:k])) + "…"
}

// delim reports whether c ends a literal.
func delim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}

// path names the place stack is at, eliding the middle of a deep one and
// cutting long keys: "net.config.layers[0]", "the top level". Without
// lastKey it names the innermost object rather than its last key's value.
func path(stack []frame, lastKey bool) string {
	if !lastKey && len(stack) > 0 && !stack[len(stack)-1].array {
		stack = stack[:len(stack)-1]
	}
	if len(stack) == 0 {
		return "the top level"
	}
	var sb strings.Builder
	for i, f := range stack {
		if len(stack) > 8 && i == 4 {
			fmt.Fprintf(&sb, "…(%d levels)…", len(stack)-8)
		}
		if len(stack) > 8 && i >= 4 && i < len(stack)-4 {
			continue
		}
		if f.array {
			fmt.Fprintf(&sb, "[%d]", f.index)
			continue
		}
		if i > 0 {
			sb.WriteByte('.')
		}
		if ident(f.key) {
			sb.Write(f.key)
		} else {
			sb.WriteString(prefix(f.key))
		}
	}
	return sb.String()
}

// ident reports whether k is a short key that reads plainly in a path.
func ident(k []byte) bool {
	if len(k) == 0 || len(k) > 32 {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// A Member is one key and value of an object read by Members.
type Member struct {
	Key   string
	Value []byte // the value as written: a slice of the object's bytes
}

// Members splits b, one JSON object, into its members, in order, in one
// pass and without copying their values, which it does not decode or
// check: the caller decodes each (Decode checks its syntax). It lets a
// caller read an object whose values hold large nested values without
// encoding/json reading those values once for each level of nesting.
// Keys are decoded; a duplicate key is returned twice.
func Members(b []byte) ([]Member, error) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, errors.New("want a JSON object")
	}
	var ms []Member
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return ms, end(b, i+1)
	}
	for {
		if i == len(b) || b[i] != '"' {
			return nil, errors.Errorf("object: want a key at byte %d", i)
		}
		j, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		key, err := String(b[i:j])
		if err != nil {
			return nil, errors.Errorf("object: the key at byte %d is not a valid string", i)
		}
		if i = skipSpace(b, j); i == len(b) || b[i] != ':' {
			return nil, errors.Errorf("object: want ':' at byte %d", i)
		}
		i = skipSpace(b, i+1)
		if j, err = skipValue(b, i); err != nil {
			return nil, err
		}
		ms = append(ms, Member{Key: key, Value: b[i:j]})
		switch i = skipSpace(b, j); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return ms, end(b, i+1)
		default:
			return nil, errors.Errorf("object: want ',' or '}' at byte %d", i)
		}
	}
}

// String decodes b, one JSON string.
func String(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && plain(b[1:len(b)-1]) {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", errors.New("want a JSON string")
	}
	return s, nil
}

// plain reports whether s is the body of a string that decodes to itself:
// printable ASCII without quotes or escapes.
func plain(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Elements splits b, one JSON array (or null, which has none), into its
// elements as Members splits an object: in one pass, without copying,
// decoding or checking them.
func Elements(b []byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	if j := i + 4; j <= len(b) && string(b[i:j]) == "null" {
		return nil, end(b, j)
	}
	if i == len(b) || b[i] != '[' {
		return nil, errors.New("want a JSON array")
	}
	var es [][]byte
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return es, end(b, i+1)
	}
	for {
		j, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		es = append(es, b[i:j])
		switch i = skipSpace(b, j); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			return es, end(b, i+1)
		default:
			return nil, errors.Errorf("array: want ',' or ']' at byte %d", i)
		}
	}
}

// end refuses anything but white space in b from i.
func end(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errors.New("data after the value")
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the value that starts at b[i]: the end of
// a string, of the object or array whose brackets balance, or of a
// literal. It does not check what lies between.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("unexpected end of JSON input")
	}
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			if j = skipString(b, j); j < 0 {
				return 0, errors.New("unexpected end of JSON input in a string")
			}
			if depth == 0 {
				return j + 1, nil
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth < 0 {
				return 0, errors.Errorf("unexpected %q at byte %d", b[j], j)
			}
			if depth == 0 {
				return j + 1, nil
			}
		default:
			if depth == 0 {
				k := j
				for k < len(b) && !delim(b[k]) {
					k++
				}
				if k == j {
					return 0, errors.Errorf("want a value at byte %d", j)
				}
				return k, nil
			}
		}
	}
	return 0, errors.New("unexpected end of JSON input")
}

// skipString returns the index of the quote that closes the string opened
// at b[i], or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}
