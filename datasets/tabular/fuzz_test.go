package tabular

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse, then fits an encoder on every
// row, the last column the target, and encodes the rows. Properties: no
// panic; a table that parses has unique, non-empty column names, rows of
// their width and lines that only grow; an encoder fitted on rows encodes
// those rows, and encodes them alike after a JSON round trip.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"a,b,y\n1,red,0\n2,blue,1\n",
		"\ufeffx,y\r\n1.5,cat\r\n-2e3,dog\r\n",
		"note,n\n\"two\nlines\",1\n\"a \"\"quote\"\"\",2\n",
		"a,b\n1,x\"y\n",
		"a,a\n1,2\n",
		"x,y\n1,NA\n2,3\n",
		"x,y\n1e308,1\n-1e308,2\ninf,3\n",
		"x,y\n1,0\n2,1\n3,0\n1.5x,1\n5,0\n6,1\n7,0\n8,1\n9,0\n10,1\n", // a typo among numbers
		"x,y\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n7,0\n8,1\n9,0\n10,1e\n",   // in the target
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := parse(bytes.NewReader(data), "fuzz.csv", 1<<16, ',')
		if err != nil {
			if tab != nil {
				t.Fatal("a table with an error")
			}
			return
		}
		checkTable(t, tab)
		rows := all(tab)
		e, err := Fit(tab, rows, Config{Target: tab.header[len(tab.header)-1]})
		if err != nil {
			return
		}
		d, err := e.Encode(tab, rows)
		if err != nil {
			t.Fatalf("the rows fitted on do not encode: %v", err)
		}
		doc, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Encoder
		if err := json.Unmarshal(doc, &back); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		d2, err := back.Encode(tab, rows)
		if err != nil {
			t.Fatalf("after a round trip: %v", err)
		}
		if !slices.Equal(features(t, d), features(t, d2)) {
			t.Fatal("the features differ after a round trip")
		}
	})
}

func checkTable(t *testing.T, tab *Table) {
	t.Helper()
	seen := map[string]bool{}
	for _, h := range tab.header {
		if h == "" || seen[h] {
			t.Fatalf("header %q", tab.header)
		}
		seen[h] = true
	}
	if tab.Len() == 0 || len(tab.cells) != tab.Len()*len(tab.header) {
		t.Fatalf("%d cells in %d rows of %d columns", len(tab.cells), tab.Len(), len(tab.header))
	}
	prev := 1
	for r := range tab.Len() {
		for c := range tab.header {
			if l := tab.Line(r, c); l < prev || c == 0 && l == prev {
				t.Fatalf("row %d column %d on line %d, after line %d", r, c, l, prev)
			}
			prev = tab.Line(r, c)
		}
	}
}
