package hostile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/safetensors"
)

// Metadata keys of a checkpoint, as package checkpoint and package train
// write them.
const (
	keyVersion  = "format_version"
	keySpec     = "arch.spec"
	keyDigest   = "sha256"
	keyDigestV1 = "tensors.sha256"
	keyOptions  = "train.options"
	keyPosition = "train.position"
	keyHistory  = "train.history"
	keySteps    = "optimizer.steps"
	keyOptim    = "optimizer.config"
	keyEpoch    = "epoch"
	keyEncoder  = "tabular.encoder"
)

// huge is a string of a mebibyte, longer than any message should quote.
var huge = strings.Repeat("A", 1<<20)

// ckGen makes the damaged copies of one checkpoint.
type ckGen struct {
	good  []byte
	f     *safetensors.File
	v1    bool
	cases []Case
}

// Checkpoint returns damaged copies of good, a checkpoint file of either
// format written by tapestry: truncated at many offsets, with single bits
// flipped, with header fields edited, and with its metadata, architecture,
// tensors, saved options and training state edited and the digest
// recomputed (a file of the first format has only its tensors' digest,
// recomputed when they are edited: its metadata was never covered).
func Checkpoint(good []byte) ([]Case, error) {
	f, err := safetensors.Decode(bytes.NewReader(good), int64(len(good)), "the good checkpoint")
	if err != nil {
		return nil, err
	}
	if f.Metadata["format"] != "tapestry-checkpoint" {
		return nil, errors.New("not a tapestry checkpoint")
	}
	g := &ckGen{good: good, f: f, v1: f.Metadata[keyVersion] == "1"}
	g.truncations()
	g.bitFlips()
	if err := g.headerFields(); err != nil {
		return nil, err
	}
	g.metadata()
	if err := g.spec(); err != nil {
		return nil, err
	}
	g.tensors()
	if err := g.options(); err != nil {
		return nil, err
	}
	if err := g.state(); err != nil {
		return nil, err
	}
	return g.cases, nil
}

// add adds a case whose bytes build makes when they are asked for: a
// copy of a large file per case would cost more than trying it.
func (g *ckGen) add(class Class, scope Scope, name string, build func() []byte) {
	g.cases = append(g.cases, Case{Class: class, Name: name, Scope: scope, build: func() ([]byte, error) { return build(), nil }})
}

// edit adds a case made, when its content is asked for, by editing a copy
// of the file and resealing it.
func (g *ckGen) edit(class Class, scope Scope, name string, fn func(f *safetensors.File)) {
	build := func() ([]byte, error) {
		f := cloneFile(g.f)
		fn(f)
		return g.seal(f)
	}
	g.cases = append(g.cases, Case{Class: class, Name: name, Scope: scope, Sealed: !g.v1 || class == Tensors, build: build})
}

// seal recomputes the digest the format checks and encodes the file.
func (g *ckGen) seal(f *safetensors.File) ([]byte, error) {
	if g.v1 {
		f.Metadata[keyDigestV1] = tensorSumV1(f.Tensors)
	} else {
		f.Metadata[keyDigest] = Digest(f)
	}
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// headerLen is the length of the JSON header of the good file.
func (g *ckGen) headerLen() int { return int(binary.LittleEndian.Uint64(g.good[:8])) }

func (g *ckGen) truncations() {
	hl := g.headerLen()
	offs := []int{0, 1, 4, 7, 8, 9, 16, 8 + hl/4, 8 + hl/2, 8 + hl - 1, 8 + hl, 8 + hl + 1, len(g.good) - 1}
	for k := 1; k < 24; k++ {
		offs = append(offs, 8+hl+k*(len(g.good)-8-hl)/24)
	}
	seen := map[int]bool{}
	for _, n := range offs {
		if n < 0 || n >= len(g.good) || seen[n] {
			continue
		}
		seen[n] = true
		g.add(Truncation, All, fmt.Sprintf("cut to %d of %d bytes", n, len(g.good)), func() []byte { return append([]byte(nil), g.good[:n]...) })
	}
}

func (g *ckGen) bitFlips() {
	hl := g.headerLen()
	flip := func(off, bit int, scope Scope) {
		g.add(BitFlip, scope, fmt.Sprintf("bit %d of byte %d flipped", bit, off), func() []byte {
			b := append([]byte(nil), g.good...)
			b[off] ^= 1 << bit
			return b
		})
	}
	for _, bit := range []int{0, 7} {
		flip(0, bit, All)
		flip(7, bit, All)
	}
	// A first-format file's metadata was not covered by its digest: a flip
	// there may leave it loadable.
	headerScope := All
	if g.v1 {
		headerScope = Any
	}
	for k := 0; k < 20; k++ {
		flip(8+k*hl/20, k%8, headerScope)
	}
	for k := 0; k < 20; k++ {
		flip(8+hl+k*(len(g.good)-8-hl)/20, k%8, All)
	}
}

// cloneFile copies f deeply enough for edits: its metadata, its tensor list
// and each tensor's shape and data.
func cloneFile(f *safetensors.File) *safetensors.File {
	c := &safetensors.File{Metadata: map[string]string{}}
	for k, v := range f.Metadata {
		c.Metadata[k] = v
	}
	for _, t := range f.Tensors {
		t.Shape = append([]int(nil), t.Shape...)
		t.Data = append([]byte(nil), t.Data...)
		c.Tensors = append(c.Tensors, t)
	}
	return c
}

// Digest is the SHA-256 digest a checkpoint of the current format keeps
// under "sha256", as package checkpoint computes it: every metadata entry
// but the digest, in key order, each string with its length first, then
// every tensor's name, dtype, shape, length and bytes in order. It is
// written again here, not exported there, because forging it is what only
// an attacker (and this package) does; a test checks the two agree.
func Digest(f *safetensors.File) string {
	h := sha256.New()
	keys := make([]string, 0, len(f.Metadata))
	for k := range f.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == keyDigest {
			continue
		}
		writeField(h, k)
		writeField(h, f.Metadata[k])
	}
	hashTensors(h, f.Tensors)
	return hex.EncodeToString(h.Sum(nil))
}

func tensorSumV1(ts []safetensors.Tensor) string {
	h := sha256.New()
	hashTensors(h, ts)
	return hex.EncodeToString(h.Sum(nil))
}

func hashTensors(h hash.Hash, ts []safetensors.Tensor) {
	var buf [8]byte
	for _, t := range ts {
		fmt.Fprintf(h, "%s\x00%s\x00%v\x00", t.Name, t.DType, t.Shape)
		binary.LittleEndian.PutUint64(buf[:], uint64(len(t.Data)))
		h.Write(buf[:])
		h.Write(t.Data)
	}
}

func writeField(h hash.Hash, s string) {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
	h.Write(buf[:])
	h.Write([]byte(s))
}

// f32 returns the F32 bytes of v.
func f32(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// jsonOf marshals v, which cannot fail for the values this package makes.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
