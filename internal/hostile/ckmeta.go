package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tapestry-ml/tapestry/safetensors"
)

// metaScope is what an edit of metadata key k breaks.
func metaScope(k string) Scope {
	switch {
	case k == "train.stopped":
		return Any
	case strings.HasPrefix(k, "train.") || strings.HasPrefix(k, "rng.") || strings.HasPrefix(k, "early_stopping/"):
		return Resume
	}
	switch k {
	case "format", keyVersion, keyEpoch, keyOptim, keySteps, keySpec, "arch.kind", "arch.config",
		"arch.classes", "arch.in_shape", keyEncoder:
		return All
	}
	return Any
}

// metadata adds, for every metadata key, the file with that value deleted,
// emptied, made huge, cut in half, and replaced by values of every JSON
// type, and, inside the optimizer's config and a tabular run's encoder,
// strings made huge, each resealed.
func (g *ckGen) metadata() {
	keys := make([]string, 0, len(g.f.Metadata))
	for k := range g.f.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := g.f.Metadata[k]
		if k == keyDigest || k == keyDigestV1 {
			for _, d := range []string{"", strings.Repeat("0", 64), huge} {
				g.cases = append(g.cases, Case{Class: Metadata, Scope: All, Name: fmt.Sprintf("%s set to %.10q (%d bytes)", k, d, len(d)),
					build: func() ([]byte, error) {
						f := cloneFile(g.f)
						f.Metadata[k] = d
						var buf bytes.Buffer
						err := safetensors.Encode(&buf, f)
						return buf.Bytes(), err
					}})
			}
			continue
		}
		scope := metaScope(k)
		variants := []string{"", huge, strings.ToValidUTF8(v[:len(v)/2], ""), "0", `"s"`, "[]", "{}", "null", "-1", "x", "99999999999999999999999", "1e300", strings.Repeat("[", 100000)}
		g.edit(Metadata, deletedScope(k, scope), k+" deleted", func(f *safetensors.File) { delete(f.Metadata, k) })
		for _, nv := range variants {
			if nv == v {
				continue
			}
			s := scope
			switch {
			case k == "early_stopping/epoch" && (nv == "-1" || nv == "0"):
				s = Any // a best epoch is only reported
			case (k == keyEpoch || k == keySteps) && nv == "0" && s == All:
				s = Resume // a valid count, which only the training state contradicts
			}
			nv := nv
			g.edit(Metadata, s, fmt.Sprintf("%s set to %.16q (%d bytes)", k, nv, len(nv)), func(f *safetensors.File) { f.Metadata[k] = nv })
		}
		// The JSON values the library and the commands decode: the
		// optimizer's config and a tabular run's encoder, each string in
		// them made huge. An encoder's names, categories and classes are
		// left as they are: a reader takes them, and a table that lacks
		// what they name is refused by an error that names the table, the
		// data, not the file; its kinds and task, and an unknown field, its
		// decoder must refuse.
		if k == keyOptim || k == keyEncoder {
			doc, err := decodeJSON(v)
			if err != nil {
				continue // its other edits cover a value that is not JSON
			}
			g.hugeInside(Metadata, k, doc, nil, func(p []step) (Scope, bool) {
				if k == keyEncoder && p != nil {
					last := p[len(p)-1]
					return scope, last == "kind" || last == "task"
				}
				return scope, true
			})
		}
	}
	g.edit(Metadata, Any, "a user key and value of 1 MiB each", func(f *safetensors.File) { f.Metadata[huge] = huge })
	g.edit(Metadata, Any, "100000 user keys", func(f *safetensors.File) {
		for i := 0; i < 100000; i++ {
			f.Metadata[fmt.Sprintf("user.%06d", i)] = "v"
		}
	})
}

// hugeInside adds, for metadata key k, whose value is the JSON document
// doc, the file with each string inside doc made a mebibyte long, each of
// the extra paths (which doc may lack) set to such a string (a path that
// ends in an index of a list doc lacks makes that list, of the one string),
// and, if doc is an object, with an unknown field of a mebibyte's name,
// each resealed. The whole value made huge is refused before any string in
// it is read: these edits reach the decoder, whose messages quote them.
// scope says what the edit at a path (nil for the unknown field) breaks,
// or false to leave the path alone.
func (g *ckGen) hugeInside(class Class, k string, doc any, extra [][]step, scope func(path []step) (Scope, bool)) {
	var paths [][]step
	seen := map[string]bool{}
	for _, l := range leaves(doc, nil) {
		if _, ok := l.value.(string); ok {
			paths, seen[pathString(l.path)] = append(paths, l.path), true
		}
	}
	for _, p := range extra {
		if !seen[pathString(p)] {
			paths, seen[pathString(p)] = append(paths, p), true
		}
	}
	for _, p := range paths {
		s, try := scope(p)
		if !try {
			continue
		}
		d := setPath(doc, p, huge)
		if _, index := p[len(p)-1].(int); index {
			if _, list := get(doc, p[:len(p)-1]).([]any); !list {
				d = setPath(doc, p[:len(p)-1], []any{huge})
			}
		}
		g.edit(class, s, fmt.Sprintf("%s %s = a 1 MiB string", k, pathString(p)), func(f *safetensors.File) { f.Metadata[k] = jsonOf(d) })
	}
	if s, try := scope(nil); try {
		if _, ok := doc.(map[string]any); ok {
			d := setPath(doc, []step{huge}, 1)
			g.edit(class, s, k+" with an unknown field of a 1 MiB name", func(f *safetensors.File) { f.Metadata[k] = jsonOf(d) })
		}
	}
}

// deletedScope is what deleting key k breaks: a first-format file's
// classes and input shape are checked only when present, and so is the
// trainer's batching (files written before it was recorded lack it).
func deletedScope(k string, scope Scope) Scope {
	if k == "arch.classes" || k == "arch.in_shape" || k == "train.batching" {
		return Any
	}
	return scope
}

// spec adds edits of the architecture specification, resealed: every
// number set to absurd values and to values of other types, every string
// (names, types) made huge, every layer type renamed, the structure
// changed, and architectures crafted to cost much with few parameters. A
// file of the first format has no specification, and gets its config
// edited instead.
func (g *ckGen) spec() error {
	key := keySpec
	if g.v1 {
		key = "arch.config"
	}
	doc, err := decodeJSON(g.f.Metadata[key])
	if err != nil {
		return err
	}
	set := func(scope Scope, name string, d any) {
		g.edit(Spec, scope, name, func(f *safetensors.File) { f.Metadata[key] = jsonOf(d) })
	}
	for _, l := range leaves(doc, nil) {
		where := pathString(l.path)
		if s, ok := l.value.(string); ok {
			// Every string (a layer's or an input's name, a type, an
			// activation) made huge: the decoder bounds them
			// (graph.MaxNameLen), and no message may quote one whole.
			set(All, where+" = a 1 MiB string", setPath(doc, l.path, huge))
			if l.path[len(l.path)-1] != "type" {
				continue
			}
			set(All, where+" = \"nosuch\"", setPath(doc, l.path, "nosuch"))
			set(All, where+" = \"\"", setPath(doc, l.path, ""))
			if swap, ok := map[string]string{"relu": "tanh", "tanh": "relu"}[s]; ok {
				set(Resume, where+" = "+swap, setPath(doc, l.path, swap))
			}
			continue
		}
		for _, v := range []any{json.Number("0"), json.Number("-1"), json.Number("2147483648"), json.Number("4611686018427387904"),
			json.Number("1e300"), json.Number("9.5"), "x", nil} {
			if v == l.value {
				continue
			}
			scope := All
			if v == json.Number("0") || v == nil {
				scope = Any // a zero or a null (which leaves a field as it was) may be valid
			}
			set(scope, fmt.Sprintf("%s = %v", where, v), setPath(doc, l.path, v))
		}
	}
	if !g.v1 {
		g.structure(set, doc)
		if err := g.crafted(doc); err != nil {
			return err
		}
	}
	return nil
}

// structure adds edits of the specification's shape: parts deleted, inputs
// absurd, layers dropped, doubled and reversed, a huge key and a merge of
// a huge mode, nesting within the limit and past it, by a little and by
// far.
func (g *ckGen) structure(set func(Scope, string, any), doc any) {
	set(All, "net deleted", setPath(doc, []step{"net"}, deleteMarker{}))
	set(All, "loss deleted", setPath(doc, []step{"loss"}, deleteMarker{}))
	set(All, "inputs empty", setPath(doc, []step{"inputs"}, []any{}))
	set(All, "input of [1, 2^30, 2^30]", setPath(doc, []step{"inputs", 0, "shape"}, []any{1, 1 << 30, 1 << 30}))
	set(All, "input of 2^26+1 values", setPath(doc, []step{"inputs", 0, "shape"}, []any{1<<26 + 1}))
	set(All, "a second input", setPath(doc, []step{"inputs", 1}, map[string]any{"name": "y", "shape": []any{1}}))
	set(All, "an unknown field", setPath(doc, []step{"zzz"}, 1))
	set(All, "an unknown loss field", setPath(doc, []step{"loss", "config"}, map[string]any{"zzz": 1}))
	layers := []step{"net", "config", "layers"}
	ls, _ := get(doc, layers).([]any)
	if len(ls) > 1 {
		set(All, "first layer dropped", setPath(doc, appendStep(layers, 0), deleteMarker{}))
		set(All, "last layer dropped", setPath(doc, appendStep(layers, len(ls)-1), deleteMarker{}))
		set(All, "first layer doubled", setPath(doc, layers, append([]any{ls[0]}, ls...)))
		rev := make([]any, len(ls))
		for i, l := range ls {
			rev[len(ls)-1-i] = l
		}
		set(All, "layers reversed", setPath(doc, layers, rev))
	}
	set(All, "an unknown field of a 1 MiB name", setPath(doc, []step{huge}, 1))
	net := get(doc, []step{"net"})
	set(All, "the net inside a merge whose mode is a 1 MiB string", setPath(doc, []step{"net"},
		map[string]any{"type": "merge", "config": map[string]any{"branches": []any{net}, "mode": huge}}))
	// The net inside sequentials nested past MaxSpecDepth (64 levels; a
	// sequential is 3): at 3300 the whole is some 9,900 levels, just
	// within encoding/json's own bound (10,000), so that the specification's
	// decoder, not encoding/json, must refuse it. 16 are within the bound
	// (55 levels at most): only another architecture, which a reader may
	// accept.
	for _, n := range []int{16, 100, 1000, 3300} {
		scope := All
		if n == 16 {
			scope = Any
		}
		nested := strings.Repeat(`{"type":"sequential","config":{"layers":[`, n) + jsonOf(net) + strings.Repeat("]}}", n)
		set(scope, fmt.Sprintf("the net inside %d nested sequentials", n), setPath(doc, []step{"net"}, json.RawMessage(nested)))
	}
	deep := strings.Repeat(`{"type":"sequential","config":{"layers":[`, 20000) + strings.Repeat("]}}", 20000)
	g.edit(Spec, All, "sequentials nested 20000 deep", func(f *safetensors.File) {
		f.Metadata[keySpec] = strings.Replace(f.Metadata[keySpec], `"net":`, `"net":`+deep+`,"x":`, 1)
	})
}

// crafted adds architectures written whole, with tensors that match them:
// a convolution padded so that one example's output passes
// MaxActivations (2^26) with four parameters, one padded to a few million
// values (within the bound: a program must then limit its batch), and a
// plain linear model, valid in every way but not the one the saved options
// build.
func (g *ckGen) crafted(doc any) error {
	in, _ := get(doc, []step{"inputs", 0, "shape"}).([]any)
	n := 1
	for _, d := range in {
		k, err := d.(json.Number).Int64()
		if err != nil {
			return err
		}
		n *= int(k)
	}
	out := g.outputs()
	loss := jsonOf(get(doc, []step{"loss"}))
	inputs := jsonOf(get(doc, []step{"inputs"}))
	for _, c := range []struct {
		name  string
		pad   int
		scope Scope
	}{{"a 1×1 convolution padded by 8192: 2^28 values an example", 8192, All}, {"a 1×1 convolution padded by 1024: 6·10^6 values an example", 1024, Resume}} {
		spec := fmt.Sprintf(`{"inputs":%s,"net":{"type":"sequential","config":{"layers":[`+
			`{"type":"reshape","config":{"Shape":[1,1,%d]}},`+
			`{"type":"conv2d","config":{"Name":"c","In":1,"Out":1,"Kernel":[1,1],"Stride":[1,1],"Pad":[%d,%d],"NoBias":false}},`+
			`{"type":"global_avg_pool2d"},{"type":"dense","config":{"Name":"fc","In":1,"Out":%d,"NoBias":false}}]}},"loss":%s}`,
			inputs, n, c.pad, c.pad, out, loss)
		g.replaceModel(c.name, c.scope, spec, map[string][]int{"c.weight": {1, 1, 1, 1}, "c.bias": {1}, "fc.weight": {1, out}, "fc.bias": {out}})
	}
	spec := fmt.Sprintf(`{"inputs":%s,"net":{"type":"sequential","config":{"layers":[{"type":"flatten"},`+
		`{"type":"dense","config":{"Name":"lin","In":%d,"Out":%d,"NoBias":false}}]}},"loss":%s}`, inputs, n, out, loss)
	g.replaceModel("a valid linear model of the same inputs and outputs", Resume, spec, map[string][]int{"lin.weight": {n, out}, "lin.bias": {out}})
	return nil
}

// replaceModel adds the file with its architecture and parameters replaced
// by spec and small tensors of the given shapes; the optimizer's state and
// the extra tensors go, since they were the old model's.
func (g *ckGen) replaceModel(name string, scope Scope, spec string, params map[string][]int) {
	g.edit(Spec, scope, name, func(f *safetensors.File) {
		f.Metadata[keySpec] = spec
		delete(f.Metadata, keyOptim)
		delete(f.Metadata, keySteps)
		f.Tensors = nil
		names := make([]string, 0, len(params))
		for p := range params {
			names = append(names, p)
		}
		sort.Strings(names)
		for _, p := range names {
			shape := params[p]
			size := 1
			for _, d := range shape {
				size *= d
			}
			v := make([]float32, size)
			for i := range v {
				v[i] = 0.01 * float32(i%7)
			}
			f.Tensors = append(f.Tensors, safetensors.FromFloat32(p, shape, v))
		}
	})
}

// outputs is the number of values the good model outputs: the last bias.
func (g *ckGen) outputs() int {
	best, n := "", 1
	for _, t := range g.f.Tensors {
		if strings.HasSuffix(t.Name, ".bias") && !strings.Contains(t.Name, "/") && t.Name > best && len(t.Shape) == 1 {
			best, n = t.Name, t.Shape[0]
		}
	}
	return n
}
