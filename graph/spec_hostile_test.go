package graph

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/internal/fileio/memlimit"
)

// An architecture's specification comes from a file, which may be anything:
// these tests feed hostile ones and check that the errors stay short (a
// quoted value is cut to a prefix, the field is named) and that reading one
// costs little more than its length.

// maxErrLen is the longest error a hostile specification may cause.
const maxErrLen = 1000

// checkShortError fails unless err is an error of at most maxErrLen bytes
// holding each of wants and no long run of the file's filler byte.
func checkShortError(t *testing.T, what string, err error, filler string, wants ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := err.Error()
	if len(msg) > maxErrLen {
		t.Errorf("%s: an error of %d bytes: %.300s…", what, len(msg), msg)
		return
	}
	if filler != "" && strings.Contains(msg, strings.Repeat(filler, 64)) {
		t.Errorf("%s: the error quotes a long value: %s", what, msg)
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q, want one with %q", what, msg, w)
		}
	}
}

// specWith returns an architecture's specification of the given network and
// inputs (JSON).
func specWith(inputs, net string) string {
	return `{"inputs":` + inputs + `,"net":` + net + `,"loss":{"type":"cross_entropy"}}`
}

func TestSpecRefusesLongStrings(t *testing.T) {
	big := strings.Repeat("N", 4<<20)
	x := `[{"name":"x","shape":[784]}]`
	dense := func(name string) string {
		return `{"type":"dense","config":{"Name":"` + name + `","In":783,"Out":10}}`
	}
	for _, c := range []struct {
		what, spec string
		wants      []string
	}{
		{"a layer's name", specWith(x, `{"type":"sequential","config":{"layers":[`+dense(big)+`]}}`),
			[]string{"net.config.layers[0].config.Name", "a string of 4194304 bytes", "more than 128"}},
		{"an input's name", specWith(`[{"name":"`+big+`","shape":[0]}]`, dense("fc")), []string{"inputs[0].name", "more than 128"}},
		{"two inputs of one name", specWith(`[{"name":"`+big+`","shape":[784]},{"name":"`+big+`","shape":[784]}]`, dense("fc")),
			[]string{"inputs[0].name"}},
		{"a type's name", specWith(x, `{"type":"`+big+`"}`), []string{"net.type", "more than 128"}},
		{"a loss's type", `{"inputs":` + x + `,"net":{"type":"relu"},"loss":{"type":"` + big + `"}}`, []string{"loss.type"}},
		{"a merge's mode", specWith(x, `{"type":"merge","config":{"branches":[{"type":"relu"}],"mode":"`+big+`"}}`),
			[]string{"net.config.mode"}},
		{"an unknown key", specWith(x, `{"type":"dense","config":{"Name":"fc","`+big+`":1}}`), []string{"net.config: a key of"}},
		{"a long number", specWith(x, `{"type":"dense","config":{"Name":"fc","In":`+strings.Repeat("7", 4<<20)+`}}`),
			[]string{"net.config.In: a literal of"}},
		{"a name just too long", specWith(x, dense(strings.Repeat("N", MaxNameLen+1))), []string{"net.config.Name", "129 bytes"}},
	} {
		var a Arch
		err := json.Unmarshal([]byte(c.spec), &a)
		checkShortError(t, c.what, err, "N", append(c.wants, "reading the architecture")...)
		if c.what == "a long number" {
			checkShortError(t, c.what, err, "7")
		}
	}
	// A layer read alone is bounded the same way.
	_, err := UnmarshalLayer([]byte(dense(big)))
	checkShortError(t, "UnmarshalLayer", err, "N", "config.Name", "more than 128")

	// A name of MaxNameLen bytes is fine.
	var a Arch
	if err := json.Unmarshal([]byte(specWith(`[{"name":"x","shape":[783]}]`, dense(strings.Repeat("n", MaxNameLen)))), &a); err != nil {
		t.Errorf("a name of %d bytes: %v", MaxNameLen, err)
	}
}

func TestSpecRefusesManyDims(t *testing.T) {
	dims := strings.TrimSuffix(strings.Repeat("1,", 100_000), ",")
	for _, c := range []struct {
		what, spec string
		wants      []string
	}{
		{"an input's shape", specWith(`[{"name":"x","shape":[`+dims+`]}]`, `{"type":"relu"}`),
			[]string{"inputs[0].shape: 100000 dimensions, more than 16"}},
		{"a reshape's shape", specWith(`[{"name":"x","shape":[4]}]`, `{"type":"reshape","config":{"Shape":[`+dims+`]}}`),
			[]string{"net", "reshape", "config.Shape: 100000 dimensions, more than 16"}},
	} {
		var a Arch
		checkShortError(t, c.what, json.Unmarshal([]byte(c.spec), &a), "1 ", c.wants...)
	}
	var a Arch
	at := strings.TrimSuffix(strings.Repeat("1,", MaxShapeDims), ",")
	spec := `{"inputs":[{"name":"x","shape":[` + at + `]}],"net":{"type":"reshape","config":{"Shape":[` + at + `]}},"loss":{"type":"mse"}}`
	if err := json.Unmarshal([]byte(spec), &a); err != nil {
		t.Errorf("shapes of %d dimensions: %v", MaxShapeDims, err)
	}
}

// TestArchErrorsQuoteShortly checks Validate and OutShape on architectures
// built in code, which no decoding bound protects.
func TestArchErrorsQuoteShortly(t *testing.T) {
	big := strings.Repeat("N", 1<<20)
	many := make([]int, 100_000)
	for i := range many {
		many[i] = 1
	}
	many[len(many)-1] = 0
	two := func(a, b Input) Arch {
		return Arch{Net: Merge{Branches: []Layer{ReLU{}, ReLU{}}}, Inputs: []Input{a, b}}
	}
	manyInputs := make([]Input, 10_000)
	for k := range manyInputs {
		manyInputs[k] = Input{Name: fmt.Sprint("x", k), Shape: []int{3}}
	}
	for _, c := range []struct {
		what string
		arch Arch
		want string
	}{
		{"a long name, a zero dimension", Arch{Net: ReLU{}, Inputs: []Input{{Name: big, Shape: []int{0}}}}, "has a dimension < 1"},
		{"many dimensions", Arch{Net: ReLU{}, Inputs: []Input{{Name: "x", Shape: many}}}, "(100000 dimensions)"},
		{"a long name, no shape", Arch{Net: ReLU{}, Inputs: []Input{{Name: big}}}, "has no shape"},
		{"one long name twice", two(Input{Name: big, Shape: []int{3}}, Input{Name: big, Shape: []int{3}}), "used twice"},
		{"many inputs", Arch{Net: Merge{Branches: []Layer{ReLU{}}}, Inputs: manyInputs}, "(10000 shapes)"},
	} {
		checkShortError(t, c.what, c.arch.Validate(), "N", c.want)
	}
}

// nestedSpec is an architecture of levels Sequentials inside each other
// around leaves ReLUs.
func nestedSpec(levels, leaves int) []byte {
	leaf := strings.TrimSuffix(strings.Repeat(`{"type":"relu"},`, leaves), ",")
	net := strings.Repeat(`{"type":"sequential","config":{"layers":[`, levels) + leaf + strings.Repeat(`]}}`, levels)
	return []byte(`{"inputs":[{"name":"x","shape":[4]}],"net":` + net + `,"loss":{"type":"mse"}}`)
}

func TestSpecDeepNesting(t *testing.T) {
	// 3300 levels (9900 of JSON, within encoding/json's own bound): refused
	// at once, having read a few kilobytes.
	deep := nestedSpec(3300, 1)
	var err error
	alloc := memlimit.Allocated(func() {
		var a Arch
		err = json.Unmarshal(deep, &a)
	})
	checkShortError(t, "3300 levels", err, "", "reading the architecture", fmt.Sprintf("more than %d levels", MaxSpecDepth))
	if alloc > 4<<20 {
		t.Errorf("3300 levels (%d bytes): %d bytes allocated", len(deep), alloc)
	}
	// Deeper than encoding/json allows, read as one layer.
	deeper := nestedSpec(100_000, 1)
	deeper = deeper[strings.Index(string(deeper), `"net":`)+6 : len(deeper)-len(`,"loss":{"type":"mse"}}`)]
	alloc = memlimit.Allocated(func() { _, err = UnmarshalLayer(deeper) })
	checkShortError(t, "100000 levels", err, "", "levels")
	if alloc > 1<<20 {
		t.Errorf("100000 levels (%d bytes): %d bytes allocated", len(deeper), alloc)
	}

	// As deep as the bound allows: read, each level at a cost of a few
	// times its length. (Each level is read again by the ones above it:
	// the bound is what keeps that a small multiple.)
	const leaves = 20_000
	var levels int // the most Sequentials inside each other MaxSpecDepth allows
	for levels = 1; ; levels++ {
		var a Arch
		if json.Unmarshal(nestedSpec(levels+1, 1), &a) != nil {
			break
		}
	}
	if levels < 16 {
		t.Errorf("only %d Sequentials inside each other are read", levels)
	}
	cost := func(levels int) (uint64, int) {
		b := nestedSpec(levels, leaves)
		return memlimit.Allocated(func() {
			var a Arch
			if err := json.Unmarshal(b, &a); err != nil {
				t.Fatalf("%d levels: %v", levels, err)
			}
		}), len(b)
	}
	flat, _ := cost(1)
	nested, size := cost(levels)
	perLevel := float64(nested-flat) / float64(levels-1) / float64(size)
	t.Logf("%d bytes: %d allocated for 1 level, %d for %d (%.1f× the length more a level)", size, flat, nested, levels, perLevel)
	if perLevel > 5 {
		t.Errorf("each level of nesting allocates %.1f× the specification's length", perLevel)
	}
}

// TestSpecNestedRoundTrip reads back composite layers inside each other.
func TestSpecNestedRoundTrip(t *testing.T) {
	inner := Residual{Body: NewSequential(Dense{Name: "r1", In: 6, Out: 6}, Tanh{}), Shortcut: Identity{}}
	net := NewSequential(
		Dense{Name: "in", In: 64, Out: 6},
		Concat{Branches: []Layer{inner, NewSequential(Residual{Body: NewSequential(Residual{Body: Dense{Name: "deep", In: 6, Out: 6}})})}},
		Merge{Branches: []Layer{Dense{Name: "out", In: 12, Out: 3}}, Mode: "add"})
	roundTrip(t, Arch{Net: net, InShape: []int{64}})
}
