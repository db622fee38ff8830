package tabular

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const mixed = "size,colour,when,y\n1.5,red,2001,cat\n-2,blue,1999,dog\n7.25,red,2001,dog\n0.1,green,1980,cat\n"

func roundTrip(t *testing.T, e *Encoder) *Encoder {
	t.Helper()
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back Encoder
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	again, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Fatalf("marshalled again:\n%s\nwant\n%s", again, data)
	}
	return &back
}

func TestJSONRoundTripEncodesIdentically(t *testing.T) {
	tab := read(t, mixed)
	for _, cfg := range []Config{{Target: "y"}, {Target: "size"}, {Target: "when", Task: Classify}} {
		e := fit(t, tab, []int{0, 1, 2}, cfg)
		back := roundTrip(t, e)
		want, err := e.Encode(tab, []int{2, 0, 1})
		if err != nil {
			t.Fatal(err)
		}
		got, err := back.Encode(tab, []int{2, 0, 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(features(t, got), features(t, want)) || !slices.Equal(back.Features(), e.Features()) {
			t.Fatalf("%s: after a round trip the features are %v, want %v", cfg.Target, features(t, got), features(t, want))
		}
		if tg, wt := back.Target(), e.Target(); tg.Task != wt.Task || tg.Mean != wt.Mean || tg.Std != wt.Std || !slices.Equal(tg.Classes, wt.Classes) {
			t.Fatalf("%s: target %+v, want %+v", cfg.Target, tg, wt)
		}
		// Row 3's "green" was not in the training rows, before or after.
		_, err1 := e.Encode(tab, []int{3})
		_, err2 := back.Encode(tab, []int{3})
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Fatalf("%s: errors %v and %v, want the same", cfg.Target, err1, err2)
		}
	}
}

// An Encoder held by value in a struct (a checkpoint's metadata) marshals
// as the encoder, not as an empty object.
func TestJSONOfAnEncoderByValue(t *testing.T) {
	tab := read(t, mixed)
	meta := struct{ Enc Encoder }{*fit(t, tab, all(tab), Config{Target: "y", Ignore: []string{"colour"}})}
	data, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ Enc Encoder }
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if got, want := back.Enc.Features(), meta.Enc.Features(); !slices.Equal(got, want) || len(got) != 2 {
		t.Fatalf("features %q after a round trip of %s, want %q", got, data, want)
	}
}

func TestJSONIsStrict(t *testing.T) {
	tab := read(t, mixed)
	data, err := json.Marshal(fit(t, tab, all(tab), Config{Target: "y"}))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown field", `"format":1`, `"format":1,"extra":true`, `unknown field "extra"`},
		{"unknown column field", `"kind":"numeric"`, `"kind":"numeric","scale":2`, `unknown field "scale"`},
		{"later format", `"format":1`, `"format":2`, "format 2, want 1"},
		{"unknown kind", `"kind":"numeric"`, `"kind":"ordinal"`, `kind "ordinal"`},
		{"unknown task", `"task":"classify"`, `"task":"rank"`, `task "rank"`},
		{"numeric without std", `,"std":`, `,"sd":`, `unknown field "sd"`},
		{"zero std", `"std":` + stdOf(t, data), `"std":0`, "want finite numbers, std > 0"},
		{"categories out of order", `["blue","green","red"]`, `["red","green","blue"]`, `"red" and "green" are not in increasing order`},
		{"repeated category", `["blue","green","red"]`, `["blue","blue","red"]`, `"blue" and "blue" are not in increasing order`},
		{"one class", `["cat","dog"]`, `["cat"]`, "classification of 1 classes"},
		{"target named as a feature", `"target":{"name":"y"`, `"target":{"name":"size"`, `is named "size", empty or the name of another column or the target`},
		{"no columns", doc[strings.Index(doc, `"columns":`):strings.Index(doc, `"target"`)], `"columns":[],`, "no feature columns"},
		{"regression stats on classes", `"task":"classify"`, `"task":"classify","mean":1,"std":1`, "a class target neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(doc, tc.old) {
				t.Fatalf("%s not in %s", tc.old, doc)
			}
			var e Encoder
			err := json.Unmarshal([]byte(strings.Replace(doc, tc.old, tc.new, 1)), &e)
			wantError(t, err, tc.want)
		})
	}
	var e Encoder
	wantError(t, e.UnmarshalJSON(append(data, []byte(" {}")...)), "data after the value")
}

// stdOf returns the text of the first "std" value in data.
func stdOf(t *testing.T, data []byte) string {
	t.Helper()
	s := string(data)
	i := strings.Index(s, `"std":`) + len(`"std":`)
	j := strings.IndexAny(s[i:], ",}")
	return s[i : i+j]
}
