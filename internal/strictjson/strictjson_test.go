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
