package strictjson

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type v struct{ A int }
	for _, c := range []struct {
		in, err string
		want    int
	}{
		{in: `{"A": 3}`, want: 3},
		{in: " {\"A\": 4}\n", want: 4},
		{in: `{"A": 3, "B": 1}`, err: `unknown field "B"`},
		{in: `{"A": 3} {"A": 4}`, err: "data after the value"},
		{in: `{"A": 3}]`, err: "data after the value"},
		{in: `{"A": 3} x`, err: "data after the value"},
		{in: `{"A": "x"}`, err: "cannot unmarshal"},
		{in: ``, err: "EOF"},
	} {
		var got v
		err := Decode([]byte(c.in), &got)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err == "" && got.A != c.want:
			t.Errorf("%q: A = %d, want %d", c.in, got.A, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one with %q", c.in, err, c.err)
		}
	}
}

func TestDecodeCutsLongErrors(t *testing.T) {
	type v struct{ A int }
	big := strings.Repeat("x", 1<<20)
	for _, in := range []string{
		`{"A": 1, "` + big + `": 2}`,
		`{"A": ` + strings.Repeat("9", 1<<20) + `}`,
	} {
		var got v
		err := Decode([]byte(in), &got)
		if err == nil {
			t.Fatal("no error")
		}
		if len(err.Error()) > maxErr+8 {
			t.Errorf("an error of %d bytes", len(err.Error()))
		}
		if !strings.HasPrefix(err.Error(), "json: ") {
			t.Errorf("error %q", err)
		}
	}
}

func TestCheck(t *testing.T) {
	lim := Limits{Depth: 3, String: 8, Literal: 4}
	for _, c := range []struct{ in, err string }{
		{`{"a":[1,{"b":"12345678"}],"c":true}`, ""},
		{`[[[1]]]`, ""},
		{`[[[[1]]]]`, "[0][0][0]: more than 3 levels"},
		{`{"a":{"bb":[{}]}}`, "a.bb[0]: more than 3 levels"},
		{`{"a":[1,"123456789"]}`, `a[1]: a string of 9 bytes ("123456789"), more than 8`},
		{`{"a":{"123456789":1}}`, `a: a key of 9 bytes`},
		{`{"k":"\"\"\"\""}`, ""}, // escapes count as written: 8 bytes
		{`{"k":"\"\"\"\"\""}`, "k: a string of 10 bytes"},
		{`{"k":12345}`, `k: a literal of 5 bytes ("12345")`},
		{`"123456789"`, "the top level: a string of 9 bytes"},
		{`{"a":"[[[[[["}`, ""}, // brackets in a string do not nest
		{`]]]`, ""},            // not this function's to report
		{`{"a":"`, ""},
	} {
		err := Check([]byte(c.in), lim)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want one with %q", c.in, err, c.err)
		}
	}
	// A deep value's path is elided in the middle; a long key is cut.
	deep := strings.Repeat(`{"`+strings.Repeat("k", 100)+`":[`, 1000)
	err := Check([]byte(deep), Limits{Depth: 100})
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "levels)…") {
		t.Errorf("deep: %v", err)
	}
}

func TestMembersAndElements(t *testing.T) {
	ms, err := Members([]byte(` {"a" : [1, {"b": "}"}], "c\u0064":"x" , "e":{}} `))
	if err != nil || len(ms) != 3 || ms[0].Key != "a" || string(ms[0].Value) != `[1, {"b": "}"}]` ||
		ms[1].Key != "cd" || string(ms[1].Value) != `"x"` || string(ms[2].Value) != `{}` {
		t.Errorf("members %q, %v", ms, err)
	}
	if ms, err := Members([]byte(`{}`)); err != nil || len(ms) != 0 {
		t.Errorf("{}: %q, %v", ms, err)
	}
	es, err := Elements([]byte(`[ {"a":[1,2]}, "s]", 3 ,[]]`))
	if err != nil || len(es) != 4 || string(es[0]) != `{"a":[1,2]}` || string(es[1]) != `"s]"` || string(es[2]) != "3" || string(es[3]) != "[]" {
		t.Errorf("elements %q, %v", es, err)
	}
	if es, err := Elements([]byte(" null ")); err != nil || es != nil {
		t.Errorf("null: %q, %v", es, err)
	}
	for _, in := range []string{``, `[`, `[1,]`, `[1 2]`, `[1]x`, `{"a":1}`, `["a]`, `[]]`} {
		if _, err := Elements([]byte(in)); err == nil {
			t.Errorf("elements of %q: no error", in)
		}
	}
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{a:1}`, `{"a":1}}`, `[]`, `{"\x":1}`} {
		if _, err := Members([]byte(in)); err == nil {
			t.Errorf("members of %q: no error", in)
		}
	}
}
