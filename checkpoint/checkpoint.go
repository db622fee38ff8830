package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/safetensors"
)

// Format identifiers, kept in every file's metadata.
const (
	Format  = "tapestry-checkpoint"
	Version = 1
)

// Metadata keys of a checkpoint.
const (
	metaFormat    = "format"
	metaVersion   = "format_version"
	metaKind      = "arch.kind"
	metaConfig    = "arch.config"
	metaClasses   = "arch.classes"
	metaInShape   = "arch.in_shape"
	metaOptimizer = "optimizer.config"
	metaOptSteps  = "optimizer.steps"
	metaEpoch     = "epoch"
	metaSum       = "tensors.sha256"
	optPrefix     = "optimizer/"
)

// A Checkpoint is a model's parameters and buffers plus what resuming its
// training needs: optimizer state and free-form metadata (the trainer's
// position and generator states, a run's options). On disk it is one
// safetensors file: tensors by name, the rest in "__metadata__".
type Checkpoint struct {
	Kind    string          // architecture builder, Arch.Kind
	Config  json.RawMessage // Arch.Config as JSON
	Classes int
	InShape []int
	// Params holds every parameter and buffer by name, as float64.
	Params map[string]ParamValue
	// Optimizer is the optimizer's config and state; nil when not saved.
	Optimizer *optim.Config
	OptState  OptimizerState
	// Epoch is the number of whole epochs done.
	Epoch int
	// Meta holds other strings: RNG states, run options, the schedule.
	Meta map[string]string
}

// ParamValue is one saved tensor.
type ParamValue struct {
	Shape []int
	Data  []float64
}

// OptimizerState is an optimizer's saved state: its tensors by name and its
// step count.
type OptimizerState struct {
	Tensors map[string][]float64
	Steps   int64
}

// LoadInto copies the state into opt, which must have been initialized
// (Optimizer.Init) for the same parameters: every state tensor opt has must
// be present with its size. The step count is set last, so that on error
// opt's count is unchanged.
func (s OptimizerState) LoadInto(opt optim.Optimizer) error {
	for _, nt := range opt.State() {
		v, ok := s.Tensors[nt.Name]
		if !ok {
			return errors.Errorf("no saved optimizer tensor %q", nt.Name)
		}
		if err := graph.SetFloat64s(nt.T, v); err != nil {
			return errors.Wrapf(err, "optimizer tensor %s", nt.Name)
		}
	}
	opt.SetSteps(s.Steps)
	return nil
}

// New captures m's parameters and, if opt is not nil, the optimizer's config
// and state, after epoch whole epochs. The values are copied.
func New(m *graph.Model, opt optim.Optimizer, epoch int) (*Checkpoint, error) {
	cfg, err := json.Marshal(m.Arch.Config)
	if err != nil {
		return nil, errors.Wrap(err, "encoding the model config")
	}
	c := &Checkpoint{Kind: m.Arch.Kind, Config: cfg, Classes: m.Arch.Classes, InShape: m.Arch.InShape,
		Params: map[string]ParamValue{}, Epoch: epoch, Meta: map[string]string{}}
	for _, name := range m.Params.Names() {
		t := m.Params.Get(name)
		c.Params[name] = ParamValue{Shape: append([]int(nil), t.Shape()...), Data: graph.Float64s(t)}
	}
	if opt != nil {
		oc := opt.Config()
		c.Optimizer = &oc
		c.OptState = OptimizerState{Tensors: map[string][]float64{}, Steps: opt.Steps()}
		for _, nt := range opt.State() {
			c.OptState.Tensors[nt.Name] = graph.Float64s(nt.T)
		}
	}
	return c, nil
}

// Save writes the checkpoint to path atomically: a temporary file in the
// same folder, fsync'ed, then renamed, so a crash never leaves a
// half-written file and the previous checkpoint survives any failure.
// Tensors are stored in dt (Float32 or Float64).
func (c *Checkpoint) Save(path string, dt tensor.Dtype) error {
	f := &safetensors.File{Metadata: map[string]string{}}
	for k, v := range c.Meta {
		f.Metadata[k] = v
	}
	f.Metadata[metaFormat] = Format
	f.Metadata[metaVersion] = strconv.Itoa(Version)
	f.Metadata[metaKind] = c.Kind
	f.Metadata[metaConfig] = string(c.Config)
	f.Metadata[metaClasses] = strconv.Itoa(c.Classes)
	shape, _ := json.Marshal(c.InShape)
	f.Metadata[metaInShape] = string(shape)
	f.Metadata[metaEpoch] = strconv.Itoa(c.Epoch)
	add := func(name string, shape []int, data []float64) {
		if dt == graph.Float64 {
			f.Tensors = append(f.Tensors, safetensors.FromFloat64(name, shape, data))
			return
		}
		d32 := make([]float32, len(data))
		for i, v := range data {
			d32[i] = float32(v)
		}
		f.Tensors = append(f.Tensors, safetensors.FromFloat32(name, shape, d32))
	}
	for _, name := range sortedKeys(c.Params) {
		p := c.Params[name]
		add(name, p.Shape, p.Data)
	}
	if c.Optimizer != nil {
		oc, err := json.Marshal(c.Optimizer)
		if err != nil {
			return errors.Wrap(err, "encoding the optimizer config")
		}
		f.Metadata[metaOptimizer] = string(oc)
		f.Metadata[metaOptSteps] = strconv.FormatInt(c.OptState.Steps, 10)
		for _, name := range sortedKeys(c.OptState.Tensors) {
			d := c.OptState.Tensors[name]
			add(optPrefix+name, []int{len(d)}, d)
		}
	}
	f.Metadata[metaSum] = tensorSum(f.Tensors)
	return errors.Wrapf(safetensors.WriteFile(path, f), "saving checkpoint %s", path)
}

// Load reads and checks a checkpoint written by Save: the format and
// version, the checksum over the tensor data, and the metadata. Errors name
// the file.
func Load(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "loading checkpoint")
	}
	c, err := fromFile(f)
	return c, errors.Wrapf(err, "loading checkpoint %s", path)
}

// fromFile checks a decoded file and reads the checkpoint it holds.
func fromFile(f *safetensors.File) (*Checkpoint, error) {
	md := f.Metadata
	if md[metaFormat] != Format {
		return nil, errors.Errorf("not a tapestry checkpoint (format %q, want %q)", md[metaFormat], Format)
	}
	v, err := strconv.Atoi(md[metaVersion])
	if err != nil || v != Version {
		return nil, errors.Errorf("unknown checkpoint format version %q (this build reads %d)", md[metaVersion], Version)
	}
	if want, got := md[metaSum], tensorSum(f.Tensors); want != got {
		return nil, errors.Errorf("checksum mismatch: the tensor data is damaged (metadata says %.16s…, data hashes to %.16s…)", want, got)
	}
	c := &Checkpoint{Kind: md[metaKind], Config: json.RawMessage(md[metaConfig]), Params: map[string]ParamValue{}, Meta: map[string]string{}}
	if c.Kind == "" {
		return nil, errors.New("metadata has no architecture kind")
	}
	if !json.Valid(c.Config) {
		return nil, errors.New("metadata has an invalid architecture config")
	}
	if c.Classes, err = strconv.Atoi(md[metaClasses]); err != nil || c.Classes < 1 {
		return nil, errors.Errorf("metadata has a bad class count %q", md[metaClasses])
	}
	if err := json.Unmarshal([]byte(md[metaInShape]), &c.InShape); err != nil {
		return nil, errors.Errorf("metadata has a bad input shape %q", md[metaInShape])
	}
	if c.Epoch, err = strconv.Atoi(md[metaEpoch]); err != nil || c.Epoch < 0 {
		return nil, errors.Errorf("metadata has a bad epoch %q", md[metaEpoch])
	}
	if oc, ok := md[metaOptimizer]; ok {
		c.Optimizer = new(optim.Config)
		if err := json.Unmarshal([]byte(oc), c.Optimizer); err != nil {
			return nil, errors.Wrap(err, "metadata has a bad optimizer config")
		}
		if c.OptState.Steps, err = strconv.ParseInt(md[metaOptSteps], 10, 64); err != nil || c.OptState.Steps < 0 {
			return nil, errors.Errorf("metadata has a bad optimizer step count %q", md[metaOptSteps])
		}
		c.OptState.Tensors = map[string][]float64{}
	}
	for _, t := range f.Tensors {
		d, err := t.Float64s()
		if err != nil {
			return nil, errors.Wrapf(err, "tensor %s", t.Name)
		}
		if len(t.Name) > len(optPrefix) && t.Name[:len(optPrefix)] == optPrefix {
			if c.Optimizer == nil {
				return nil, errors.Errorf("optimizer tensor %s without an optimizer config", t.Name)
			}
			c.OptState.Tensors[t.Name[len(optPrefix):]] = d
			continue
		}
		c.Params[t.Name] = ParamValue{Shape: append([]int(nil), t.Shape...), Data: d}
	}
	for k, v := range md {
		switch k {
		case metaFormat, metaVersion, metaKind, metaConfig, metaClasses, metaInShape, metaOptimizer, metaOptSteps, metaEpoch, metaSum:
		default:
			c.Meta[k] = v
		}
	}
	return c, nil
}

// Restore copies the checkpoint's parameters into m. Every parameter of m
// must be present with the same shape, and the checkpoint may hold no other;
// errors name the tensor and both shapes.
func (c *Checkpoint) Restore(m *graph.Model) error {
	if c.Kind != m.Arch.Kind {
		return errors.Errorf("checkpoint is a %q model, not %q", c.Kind, m.Arch.Kind)
	}
	for _, name := range m.Params.Names() {
		p, ok := c.Params[name]
		if !ok {
			return errors.Errorf("checkpoint has no tensor %q", name)
		}
		t := m.Params.Get(name)
		if !sameShape(p.Shape, t.Shape()) {
			return errors.Errorf("tensor %s has shape %v in the checkpoint, the model wants %v", name, p.Shape, []int(t.Shape()))
		}
	}
	for name := range c.Params {
		if m.Params.Get(name) == nil {
			return errors.Errorf("checkpoint tensor %q is not a parameter of this model", name)
		}
	}
	for _, name := range m.Params.Names() {
		if err := graph.SetFloat64s(m.Params.Get(name), c.Params[name].Data); err != nil {
			return errors.Wrapf(err, "tensor %s", name)
		}
	}
	return nil
}

func sameShape(a []int, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tensorSum hashes every tensor's name, dtype, shape and bytes in order, so
// a flipped byte anywhere in the data or a renamed tensor is detected.
func tensorSum(ts []safetensors.Tensor) string {
	h := sha256.New()
	var buf [8]byte
	for _, t := range ts {
		fmt.Fprintf(h, "%s\x00%s\x00%v\x00", t.Name, t.DType, t.Shape)
		binary.LittleEndian.PutUint64(buf[:], uint64(len(t.Data)))
		h.Write(buf[:])
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
