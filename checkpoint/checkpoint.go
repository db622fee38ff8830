package checkpoint

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/internal/strictjson"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/safetensors"
)

// Format identifiers, kept in every file's metadata. Version 2 records the
// architecture as a specification (graph.Arch's JSON) and a digest over the
// metadata and the tensors; version 1 recorded a builder's kind and config
// and a digest over the tensors only. Load reads both; Save writes 2.
const (
	Format  = "tapestry-checkpoint"
	Version = 2
)

// Metadata keys of a checkpoint.
const (
	metaFormat    = "format"
	metaVersion   = "format_version"
	metaSpec      = "arch.spec"
	metaOptimizer = "optimizer.config"
	metaOptSteps  = "optimizer.steps"
	metaEpoch     = "epoch"
	metaDigest    = "sha256"
	optPrefix     = "optimizer/"
	extraPrefix   = "extra/"

	// The first format's keys.
	metaKind    = "arch.kind"
	metaConfig  = "arch.config"
	metaClasses = "arch.classes"
	metaInShape = "arch.in_shape"
	metaSumV1   = "tensors.sha256"
)

// ErrNotCheckpoint is the cause of Load's error for a safetensors file that
// is not a tapestry checkpoint (a PyTorch state_dict, say).
var ErrNotCheckpoint = errors.New("not a tapestry checkpoint")

// A Checkpoint is a model's architecture, parameters and buffers plus what
// resuming its training needs: optimizer state and free-form metadata (the
// trainer's position and generator states, a run's options). On disk it is
// one safetensors file: tensors by name, the rest in "__metadata__".
type Checkpoint struct {
	// Arch is the architecture the file specifies. It is nil in a file of
	// the first format, which recorded the builder (Kind, Config) instead:
	// models.FromCheckpoint rebuilds those.
	Arch *graph.Arch
	// Kind and Config are the builder and its JSON config of a file of the
	// first format; empty otherwise.
	Kind   string
	Config json.RawMessage
	// Params holds every parameter and buffer by name, as float64.
	Params map[string]ParamValue
	// Dtype is the element type of the model's parameters: the model's
	// (New), or that of the file's parameter tensors (Load), so that a
	// float64 model saves and reloads in float64. Float32 unless set.
	Dtype tensor.Dtype
	// Optimizer is the optimizer's config and state; nil when not saved.
	Optimizer *optim.Config
	OptState  OptimizerState
	// Extra holds other tensors by name, such as the best weights an early
	// stopping callback keeps; they are saved under "extra/".
	Extra map[string]ParamValue
	// Epoch is the number of whole epochs done.
	Epoch int
	// Meta holds other strings: generator states, run options.
	Meta map[string]string
	// Path is the file Load read the checkpoint from (the name given to
	// Decode), for error messages; empty for one made by New.
	Path string

	// v1Classes and v1InShape are what a file of the first format recorded
	// beside its builder's config (arch.classes, arch.in_shape), for Check;
	// nil when absent.
	v1Classes *int
	v1InShape []int
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
			return errors.Errorf("no saved optimizer tensor %s", quote(nt.Name))
		}
		if err := graph.SetFloat64s(nt.T, v); err != nil {
			return errors.Wrapf(err, "optimizer tensor %s", quote(nt.Name))
		}
	}
	opt.SetSteps(s.Steps)
	return nil
}

// New captures m's architecture and parameters and, if opt is not nil, the
// optimizer's config and state, after epoch whole epochs. The values are
// copied.
func New(m *graph.Model, opt optim.Optimizer, epoch int) (*Checkpoint, error) {
	arch := m.Arch
	c := &Checkpoint{Arch: &arch, Params: map[string]ParamValue{}, Extra: map[string]ParamValue{}, Epoch: epoch, Meta: map[string]string{},
		Dtype: m.Params.Dtype()}
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
	f, err := c.file(dt)
	if err != nil {
		return errors.Wrapf(err, "saving checkpoint %s", path)
	}
	return errors.Wrapf(safetensors.WriteFile(path, f), "saving checkpoint %s", path)
}

// file lays the checkpoint out as a safetensors file of the current format.
func (c *Checkpoint) file(dt tensor.Dtype) (*safetensors.File, error) {
	if c.Arch == nil {
		return nil, errors.New("the checkpoint has no architecture to save (a file of the first format: rebuild its model and take a new checkpoint)")
	}
	spec, err := json.Marshal(c.Arch)
	if err != nil {
		return nil, errors.Wrap(err, "writing the architecture")
	}
	// A file whose architecture cannot be read back could never be loaded
	// (a registered layer's own UnmarshalJSON that does not read what its
	// MarshalJSON wrote): refuse to write it rather than find out at load.
	var back graph.Arch
	if err := json.Unmarshal(spec, &back); err != nil {
		return nil, errors.Wrap(err, "the architecture does not read back from its specification")
	}
	if again, err := json.Marshal(back); err != nil || !bytes.Equal(again, spec) {
		return nil, errors.New("the architecture does not read back from its specification as it was written (a registered layer's MarshalJSON and UnmarshalJSON disagree)")
	}
	f := &safetensors.File{Metadata: map[string]string{}}
	for k, v := range c.Meta {
		f.Metadata[k] = v
	}
	f.Metadata[metaFormat] = Format
	f.Metadata[metaVersion] = strconv.Itoa(Version)
	f.Metadata[metaSpec] = string(spec)
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
	for _, name := range sortedKeys(c.Extra) {
		p := c.Extra[name]
		add(extraPrefix+name, p.Shape, p.Data)
	}
	if c.Optimizer != nil {
		oc, err := json.Marshal(c.Optimizer)
		if err != nil {
			return nil, errors.Wrap(err, "encoding the optimizer config")
		}
		f.Metadata[metaOptimizer] = string(oc)
		f.Metadata[metaOptSteps] = strconv.FormatInt(c.OptState.Steps, 10)
		for _, name := range sortedKeys(c.OptState.Tensors) {
			d := c.OptState.Tensors[name]
			add(optPrefix+name, []int{len(d)}, d)
		}
	}
	f.Metadata[metaDigest] = digest(f)
	return f, nil
}

// Load reads and checks a checkpoint written by Save, integrity first:
// the format and version, then the digest over the metadata and the
// tensors, then the metadata, and then the architecture against the tensors
// (Check), so that a Checkpoint it returns is one a model can be built from
// without allocating more than the file holds. Errors name the file and the
// metadata field or tensor; any value quoted from the file is cut short.
//
// A file of the first format (version 1) gets less: its digest covered its
// tensors only, so an edit of its metadata is not detected. What still
// applies to it is every check of what the metadata says: the format, a
// known builder kind and a config of known fields (models.FromConfig), the
// epoch, step count and optimizer config as numbers and a valid config, and,
// once models.ArchOf has rebuilt its architecture, Check: the bounds, the
// tensors' names and shapes, arch.classes and arch.in_shape against the
// architecture, finite values. Training state (train.Trainer.Restore) is
// checked the same way for both formats. Its tensors are covered by its
// digest as before.
func Load(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "loading checkpoint")
	}
	c, err := fromFile(f)
	if err != nil {
		return nil, errors.Wrapf(err, "loading checkpoint %s", path)
	}
	c.Path = path
	return c, nil
}

// Decode is Load for a file of size bytes read from r; name stands for it in
// errors and becomes the checkpoint's Path.
func Decode(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	f, err := safetensors.Decode(r, size, name)
	if err != nil {
		return nil, errors.Wrap(err, "loading checkpoint")
	}
	c, err := fromFile(f)
	if err != nil {
		return nil, errors.Wrapf(err, "loading checkpoint %s", name)
	}
	c.Path = name
	return c, nil
}

// fromFile checks a decoded file and reads the checkpoint it holds.
func fromFile(f *safetensors.File) (*Checkpoint, error) {
	md := f.Metadata
	if md[metaFormat] != Format {
		return nil, errors.Wrapf(ErrNotCheckpoint, "format %s, want %q", quote(md[metaFormat]), Format)
	}
	v, err := strconv.Atoi(md[metaVersion])
	if err != nil || v < 1 || v > Version {
		return nil, errors.Errorf("unknown checkpoint format version %s (this build reads 1 to %d)", quote(md[metaVersion]), Version)
	}
	c := &Checkpoint{Params: map[string]ParamValue{}, Extra: map[string]ParamValue{}, Meta: map[string]string{}, Dtype: tensor.Float32}
	if v == 1 {
		err = c.readV1(f)
	} else {
		err = c.readArch(f)
	}
	if err != nil {
		return nil, err
	}
	if c.Epoch, err = strconv.Atoi(md[metaEpoch]); err != nil || c.Epoch < 0 {
		return nil, errors.Errorf("metadata field %s is %s, not a number of epochs", metaEpoch, quote(md[metaEpoch]))
	}
	if err := c.readOptimizer(md); err != nil {
		return nil, err
	}
	if err := c.readTensors(f); err != nil {
		return nil, err
	}
	for k, v := range md {
		if !ownKey(k) {
			c.Meta[k] = v
		}
	}
	// A file of the first format has its architecture checked once
	// models.ArchOf has rebuilt it from the builder's config.
	if c.Arch != nil {
		if _, err := c.Check(*c.Arch); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readArch checks the digest of a file of the current format, then reads
// its architecture.
func (c *Checkpoint) readArch(f *safetensors.File) error {
	if want, got := f.Metadata[metaDigest], digest(f); want != got {
		return errors.Errorf("digest mismatch: the file is damaged or was edited (metadata says %.16s…, the metadata and tensors hash to %.16s…)", want, got)
	}
	var arch graph.Arch
	if err := json.Unmarshal([]byte(f.Metadata[metaSpec]), &arch); err != nil {
		return errors.Wrapf(err, "metadata field %s", metaSpec)
	}
	c.Arch = &arch
	return nil
}

// readV1 checks the tensor digest of a file of the first format and reads
// its builder. Its metadata was not covered by the digest.
func (c *Checkpoint) readV1(f *safetensors.File) error {
	md := f.Metadata
	if want, got := md[metaSumV1], tensorSumV1(f.Tensors); want != got {
		return errors.Errorf("checksum mismatch: the tensor data is damaged (metadata says %.16s…, data hashes to %.16s…)", want, got)
	}
	c.Kind, c.Config = md[metaKind], json.RawMessage(md[metaConfig])
	if c.Kind == "" {
		return errors.Errorf("metadata has no architecture kind (field %s)", metaKind)
	}
	if !json.Valid(c.Config) {
		return errors.Errorf("metadata field %s is not JSON: %s", metaConfig, quote(md[metaConfig]))
	}
	if s, ok := md[metaClasses]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errors.Errorf("metadata field %s is %s, not a number of classes", metaClasses, quote(s))
		}
		c.v1Classes = &n
	}
	if s, ok := md[metaInShape]; ok {
		if err := strictjson.Decode([]byte(s), &c.v1InShape); err != nil || c.v1InShape == nil {
			return errors.Errorf("metadata field %s is %s, not a shape", metaInShape, quote(s))
		}
	}
	return nil
}

// readOptimizer reads the optimizer's config and step count, if saved.
func (c *Checkpoint) readOptimizer(md map[string]string) error {
	oc, ok := md[metaOptimizer]
	if !ok {
		return nil
	}
	c.Optimizer = new(optim.Config)
	if err := strictjson.Decode([]byte(oc), c.Optimizer); err != nil {
		return errors.Wrapf(err, "metadata field %s", metaOptimizer)
	}
	// Saved hyperparameters are checked as given ones are: an optimizer
	// that could not be made from them is refused now, not at the first
	// step of a resumed run.
	if _, err := optim.New(*c.Optimizer); err != nil {
		return errors.Wrapf(err, "metadata field %s", metaOptimizer)
	}
	steps, err := strconv.ParseInt(md[metaOptSteps], 10, 64)
	if err != nil || steps < 0 {
		return errors.Errorf("metadata field %s is %s, not a step count", metaOptSteps, quote(md[metaOptSteps]))
	}
	c.OptState = OptimizerState{Tensors: map[string][]float64{}, Steps: steps}
	return nil
}

// readTensors sorts the file's tensors into parameters and optimizer state.
func (c *Checkpoint) readTensors(f *safetensors.File) error {
	for _, t := range f.Tensors {
		d, err := t.Float64s()
		if err != nil {
			return errors.Wrapf(err, "tensor %s", quote(t.Name))
		}
		if name, ok := strings.CutPrefix(t.Name, optPrefix); ok {
			if c.Optimizer == nil {
				return errors.Errorf("optimizer tensor %s without an optimizer config (metadata field %s)", quote(t.Name), metaOptimizer)
			}
			c.OptState.Tensors[name] = d
			continue
		}
		if name, ok := strings.CutPrefix(t.Name, extraPrefix); ok {
			c.Extra[name] = ParamValue{Shape: append([]int(nil), t.Shape...), Data: d}
			continue
		}
		c.Params[t.Name] = ParamValue{Shape: append([]int(nil), t.Shape...), Data: d}
		if t.DType == safetensors.F64 {
			c.Dtype = tensor.Float64
		}
	}
	return nil
}

// ownKey reports whether a metadata key is the checkpoint's own rather than
// a user's Meta.
func ownKey(k string) bool {
	switch k {
	case metaFormat, metaVersion, metaSpec, metaOptimizer, metaOptSteps, metaEpoch, metaDigest,
		metaKind, metaConfig, metaClasses, metaInShape, metaSumV1:
		return true
	}
	return false
}

// Restore copies the checkpoint's parameters into m. Every parameter of m
// must be present with the same shape, and the checkpoint may hold no other;
// errors name the tensor and both shapes.
func (c *Checkpoint) Restore(m *graph.Model) error {
	if err := c.Fits(m); err != nil {
		return err
	}
	for _, name := range m.Params.Names() {
		if err := graph.SetFloat64s(m.Params.Get(name), c.Params[name].Data); err != nil {
			return errors.Wrapf(err, "tensor %s", name)
		}
	}
	return nil
}

// Fits checks, without changing m, what Restore checks: every parameter of
// m is in the checkpoint with the same shape, and the checkpoint holds no
// other.
func (c *Checkpoint) Fits(m *graph.Model) error {
	for _, name := range m.Params.Names() {
		p, ok := c.Params[name]
		if !ok {
			return errors.Errorf("checkpoint has no tensor %s", quote(name))
		}
		t := m.Params.Get(name)
		if !sameShape(p.Shape, t.Shape()) {
			return errors.Errorf("tensor %s has shape %s in the checkpoint, the model wants %s", quote(name), shortShape(p.Shape), shortShape(t.Shape()))
		}
	}
	for _, name := range sortedKeys(c.Params) {
		if m.Params.Get(name) == nil {
			return errors.Errorf("checkpoint tensor %s is not a parameter of this model", quote(name))
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

// quote quotes a value for an error message, cut to a short prefix: a
// damaged file can hold megabytes in one field.
func quote(s string) string {
	const n = 40
	if len(s) > n {
		return strconv.Quote(s[:n]) + "…"
	}
	return strconv.Quote(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
