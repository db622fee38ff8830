package hostile

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tapestry-ml/tapestry/safetensors"
)

// tensorIndex returns the index of the first tensor whose name has the
// prefix (and, for the "" prefix, no slash: a parameter), or -1.
func tensorIndex(f *safetensors.File, prefix string) int {
	for i, t := range f.Tensors {
		if prefix == "" && !strings.Contains(t.Name, "/") || prefix != "" && strings.HasPrefix(t.Name, prefix) {
			return i
		}
	}
	return -1
}

// tensors adds edits of the tensors, resealed: a parameter removed,
// renamed, reshaped, retyped, holding NaN or infinity, grown; optimizer
// state missing, unknown, resized; extra tensors that shadow a parameter
// with the wrong shape, or very many.
func (g *ckGen) tensors() {
	p := tensorIndex(g.f, "")
	if p < 0 {
		return
	}
	name := g.f.Tensors[p].Name
	at := func(f *safetensors.File) *safetensors.Tensor { return &f.Tensors[p] }
	g.edit(Tensors, All, name+" removed", func(f *safetensors.File) { f.Tensors = append(f.Tensors[:p], f.Tensors[p+1:]...) })
	g.edit(Tensors, All, name+" renamed", func(f *safetensors.File) { at(f).Name += "x" })
	g.edit(Tensors, All, name+" of shape [1, n]", func(f *safetensors.File) { t := at(f); t.Shape = []int{1, len(t.Data) / 4} })
	for i, t := range g.f.Tensors {
		if len(t.Shape) > 1 && !strings.Contains(t.Name, "/") {
			g.edit(Tensors, All, t.Name+" flattened", func(f *safetensors.File) { f.Tensors[i].Shape = []int{len(t.Data) / 4} })
			break
		}
	}
	g.edit(Tensors, All, name+" read as I32", func(f *safetensors.File) { at(f).DType = "I32" })
	g.edit(Tensors, Any, name+" in F64", func(f *safetensors.File) {
		t := at(f)
		d, _ := t.Float64s()
		*t = safetensors.FromFloat64(t.Name, t.Shape, d)
	})
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		g.edit(Tensors, All, fmt.Sprintf("%s holds %v", name, v), func(f *safetensors.File) {
			t := at(f)
			binary.LittleEndian.PutUint32(t.Data[len(t.Data)-4:], math.Float32bits(v))
		})
	}
	g.edit(Tensors, All, name+" grown to 2^20 values", func(f *safetensors.File) {
		t := at(f)
		t.Shape, t.Data = []int{1 << 20}, make([]byte, 4<<20)
	})
	g.edit(Tensors, All, "an extra parameter zz.weight", func(f *safetensors.File) {
		f.Tensors = append(f.Tensors, safetensors.FromFloat32("zz.weight", []int{1}, []float32{1}))
	})
	g.edit(Tensors, All, "extra/early_stopping/"+name+" of the wrong shape", func(f *safetensors.File) {
		t := safetensors.FromFloat32("extra/early_stopping/"+name, []int{1, 1}, []float32{1})
		for i := range f.Tensors {
			if f.Tensors[i].Name == t.Name {
				f.Tensors[i] = t
				return
			}
		}
		f.Tensors = append(f.Tensors, t)
	})
	g.edit(Tensors, Any, "10000 extra tensors", func(f *safetensors.File) {
		for i := 0; i < 10000; i++ {
			f.Tensors = append(f.Tensors, safetensors.FromFloat32(fmt.Sprintf("extra/x%05d", i), []int{1}, []float32{1}))
		}
	})
	g.optimizerTensors()
}

// optimizerTensors adds edits of the optimizer's state tensors.
func (g *ckGen) optimizerTensors() {
	o := tensorIndex(g.f, "optimizer/")
	if o < 0 {
		return
	}
	name := g.f.Tensors[o].Name
	slot, _, _ := strings.Cut(strings.TrimPrefix(name, "optimizer/"), "/")
	g.edit(Tensors, Resume, name+" removed", func(f *safetensors.File) { f.Tensors = append(f.Tensors[:o], f.Tensors[o+1:]...) })
	g.edit(Tensors, All, name+" of one value more", func(f *safetensors.File) {
		t := &f.Tensors[o]
		t.Data = append(t.Data, 0, 0, 0, 0)
		t.Shape = []int{len(t.Data) / 4}
	})
	g.edit(Tensors, All, name+" holds NaN", func(f *safetensors.File) {
		binary.LittleEndian.PutUint32(f.Tensors[o].Data, math.Float32bits(float32(math.NaN())))
	})
	g.edit(Tensors, Resume, "optimizer state of an unknown slot", func(f *safetensors.File) {
		t := f.Tensors[o]
		t.Name = "optimizer/" + slot + "x/" + strings.SplitN(name, "/", 3)[2]
		f.Tensors = append(f.Tensors, t)
	})
	g.edit(Tensors, All, "optimizer state of no parameter", func(f *safetensors.File) {
		f.Tensors = append(f.Tensors, safetensors.FromFloat32("optimizer/garbage", []int{1}, []float32{1}))
	})
	g.edit(Tensors, All, "optimizer state without an optimizer config", func(f *safetensors.File) { delete(f.Metadata, keyOptim) })
}

// options adds edits of a cmd/train checkpoint's saved options, resealed:
// each setting made invalid, or valid but not what built the model, and
// each string setting made huge.
func (g *ckGen) options() error {
	s, ok := g.f.Metadata[keyOptions]
	if !ok {
		return nil
	}
	doc, err := decodeJSON(s)
	if err != nil {
		return err
	}
	tabular := get(doc, []step{"csv"}) != nil
	edits := map[string][]any{
		"epochs": {0, -1, "x"}, "batch": {0, -1, 1 << 40, "x"}, "lr": {-1, "x", 1e308, 0.5},
		"optimizer": {"nosuch", "sgd", ""}, "model": {"nosuch", "", "cnn", "lenet5", "mlp"},
		"seed": {-1, "x", 1.5, 12345}, "val": {-1, 60000, 1 << 40}, "limit": {-1}, "schedule": {map[string]any{"name": "nosuch"}, "x"},
		"csv": {"/nonexistent/x.csv"}, "weight_decay": {-1}, "patience": {-1}, "zzz": {1},
	}
	if tabular {
		edits["hidden"] = []any{nil, []any{1 << 40}, []any{0}, []any{3}}
		edits["target"] = []any{"nosuch", ""}
		edits["task"] = []any{"nosuch", "regress", "classify"}
		edits["val_fraction"] = []any{2, -1}
		edits["dropout"] = []any{1, 0.3}
	} else {
		edits["hidden"] = []any{[]any{}, []any{8}}
	}
	for _, k := range sortedKeys(edits) {
		for _, v := range edits[k] {
			if jsonOf(get(doc, []step{k})) == jsonOf(v) {
				continue
			}
			d := setPath(doc, []step{k}, v)
			scope := Resume
			switch {
			case k == "seed" && !tabular && v == 12345:
				scope = Any // an MNIST run's seed only drew the weights the checkpoint replaces
			case k == "task" && v == "classify":
				scope = Any // what an empty task infers for a class column
			}
			g.edit(Options, scope, fmt.Sprintf("train.options %s = %s", k, jsonOf(v)), func(f *safetensors.File) { f.Metadata[keyOptions] = jsonOf(d) })
		}
	}
	// Every string field of the options, there or not, made huge: a
	// resume must refuse each (an MNIST run's init_from aside: a resume
	// does not read it) without quoting it whole.
	g.hugeInside(Options, keyOptions, doc, [][]step{{"model"}, {"optimizer"}, {"schedule", "name"}, {"init_from"}, {"csv"},
		{"target"}, {"task"}, {"test_csv"}, {"csv_delimiter"}, {"categorical", 0}}, func(p []step) (Scope, bool) {
		if !tabular && len(p) == 1 && p[0] == "init_from" {
			return Any, true
		}
		return Resume, true
	})
	return nil
}

// state adds edits of the training state, resealed: position, history,
// generator states, step and epoch counts.
func (g *ckGen) state() error {
	md := g.f.Metadata
	if s, ok := md[keyPosition]; ok {
		pos, err := decodeJSON(s)
		if err != nil {
			return err
		}
		for _, e := range []struct {
			field string
			v     any
		}{{"batch", -1}, {"batch", 1 << 40}, {"epoch", -1}, {"seen", -1}, {"seen", 1 << 40}, {"correct", -1}, {"loss_sum", "x"},
			{"seconds", -1}, {"sum_y", []any{1, 2, 3, 4, 5, 6, 7}}, {"zzz", 1}} {
			d := setPath(pos, []step{e.field}, e.v)
			g.edit(State, Resume, fmt.Sprintf("train.position %s = %s", e.field, jsonOf(e.v)), func(f *safetensors.File) { f.Metadata[keyPosition] = jsonOf(d) })
		}
		g.pastTheEnd(pos)
	}
	if s, ok := md[keyHistory]; ok {
		hist, _ := decodeJSON(s)
		if h, ok := hist.([]any); ok && len(h) > 0 {
			g.edit(State, Resume, "train.history without its last epoch", func(f *safetensors.File) { f.Metadata[keyHistory] = jsonOf(h[:len(h)-1]) })
			g.edit(State, Resume, "train.history with its first epoch twice", func(f *safetensors.File) { f.Metadata[keyHistory] = jsonOf(append([]any{h[0]}, h...)) })
			g.edit(State, Resume, "train.history of epochs numbered from 2", func(f *safetensors.File) {
				f.Metadata[keyHistory] = jsonOf(setPath(hist, []step{0, "epoch"}, 2))
			})
		}
	}
	for _, k := range []string{"rng.shuffle", "rng.dropout"} {
		if _, ok := md[k]; !ok {
			continue
		}
		for _, v := range []string{base64.StdEncoding.EncodeToString([]byte{1, 2, 3}), base64.StdEncoding.EncodeToString(make([]byte, 20)), "!!"} {
			g.edit(State, Resume, fmt.Sprintf("%s = %q", k, v), func(f *safetensors.File) { f.Metadata[k] = v })
		}
	}
	if md["rng.shuffle"] != "" && md["rng.dropout"] != "" {
		g.edit(State, Any, "the generator states swapped", func(f *safetensors.File) {
			f.Metadata["rng.shuffle"], f.Metadata["rng.dropout"] = md["rng.dropout"], md["rng.shuffle"]
		})
	}
	g.counts()
	return nil
}

// counts adds the step and epoch counts one off what the rest says.
func (g *ckGen) counts() {
	md := g.f.Metadata
	if steps, err := strconv.ParseInt(md[keySteps], 10, 64); err == nil {
		g.edit(State, Resume, "optimizer.steps one more", func(f *safetensors.File) { f.Metadata[keySteps] = strconv.FormatInt(steps+1, 10) })
	}
	if epoch, err := strconv.Atoi(md[keyEpoch]); err == nil {
		g.edit(State, Resume, "epoch one more", func(f *safetensors.File) { f.Metadata[keyEpoch] = strconv.Itoa(epoch + 1) })
	}
	g.edit(State, Any, "train.stopped = true", func(f *safetensors.File) { f.Metadata["train.stopped"] = "true" })
}

// pastTheEnd adds a position a thousand batches further into the epoch,
// its counts and the optimizer's step count moved with it, so that only the
// training source's length can refuse it.
func (g *ckGen) pastTheEnd(pos any) {
	b, ok := num(get(pos, []step{"batch"}))
	steps, err := strconv.ParseInt(g.f.Metadata[keySteps], 10, 64)
	if !ok || err != nil {
		return
	}
	d := setPath(pos, []step{"batch"}, b+1000)
	if seen, ok := num(get(pos, []step{"seen"})); ok && seen < b+1000 {
		d = setPath(d, []step{"seen"}, b+1000)
	}
	g.edit(State, Resume, "a position 1000 batches past the end of the epoch", func(f *safetensors.File) {
		f.Metadata[keyPosition] = jsonOf(d)
		f.Metadata[keySteps] = strconv.FormatInt(steps+1000, 10)
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// num is a decoded JSON number as an integer.
func num(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}
