package graph

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/internal/strictjson"
)

// An architecture is saved as JSON with the weights, so that one call
// rebuilds it from a checkpoint file alone (as Keras's load_model does). A
// layer or loss is written as {"type": name, "config": {...}}: its
// registered name and its exported fields, marshalled by encoding/json.
// Layers that hold other layers (Sequential, Residual, Concat, Merge) write
// their children the same way. Initializers are not part of the
// specification: a rebuilt model's weights come from the checkpoint.
//
// tapestry's own layers and losses are registered here; register a type of
// your own, once, before saving or loading a model that uses it:
//
//	graph.RegisterLayer("scaled_tanh", ScaledTanh{})

// Bounds on an architecture's specification. A specification comes from a
// file, which may be anything; these bounds are checked in one pass over it
// before anything is decoded, so that a hostile one is refused quickly and
// the errors it causes, which quote names and shapes, stay short.
const (
	// MaxNameLen is the most bytes any string of a specification may have
	// as written in its JSON: a layer's or input's name, a registered type
	// name, a mode, a key. Names are identifiers ("block3.conv2"), and a
	// layer's name appears in its errors, sometimes twice: 128 bytes is
	// ample for a name and keeps such an error well under a kilobyte.
	MaxNameLen = 128
	// MaxShapeDims is the most dimensions an input's shape, or a layer's
	// shape (a field Shape of type []int, as Reshape's), may have. Errors
	// print shapes; 16 is far more than any layer here handles.
	MaxShapeDims = 16
	// MaxSpecDepth is the most levels of JSON objects and arrays nested
	// in each other that a specification may have. A layer inside a
	// composite one is two or three levels deeper (its spec, its config,
	// the list of layers): a ResNet is about a dozen levels deep, and 64
	// allows some twenty composite layers inside each other. Each level
	// is read again by the levels above it, so the bound also bounds the
	// cost of reading a specification to a small multiple of its length.
	MaxSpecDepth = 64
	// maxLiteral is the most bytes a number in a specification may have
	// (a float64 written by encoding/json has at most 24).
	maxLiteral = 64
)

// specLimits are the bounds above, for strictjson.Check.
var specLimits = strictjson.Limits{Depth: MaxSpecDepth, String: MaxNameLen, Literal: maxLiteral}

// registry maps names to the registered types and back.
type registry struct {
	mu     sync.RWMutex
	kind   string // "layer" or "loss"
	byName map[string]reflect.Type
	byType map[reflect.Type]string
}

var (
	layerTypes = &registry{kind: "layer", byName: map[string]reflect.Type{}, byType: map[reflect.Type]string{}}
	lossTypes  = &registry{kind: "loss", byName: map[string]reflect.Type{}, byType: map[reflect.Type]string{}}
)

// RegisterLayer makes the type of zero known by name, so that an
// architecture holding it can be written to a checkpoint and read back. It
// panics if name or the type is registered already, if name is longer than
// MaxNameLen, or if the type is not a struct: registration is done once, at
// start-up, by the program. A string in the type's configuration must fit
// in MaxNameLen bytes, and a field Shape []int in MaxShapeDims dimensions,
// for the layer to be read back.
func RegisterLayer(name string, zero Layer) { layerTypes.register(name, zero) }

// RegisterLoss is RegisterLayer for a loss.
func RegisterLoss(name string, zero Loss) { lossTypes.register(name, zero) }

func (r *registry) register(name string, zero any) {
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Struct || name == "" || len(name) > MaxNameLen {
		panic(fmt.Sprintf("graph: Register%s%s(%.40q, %T): want a name of 1 to %d bytes and a struct value", upper(r.kind[:1]), r.kind[1:], name, zero, MaxNameLen))
	}
	// A type whose specification cannot bring it back as it was would save
	// checkpoints that load changed or not at all: say so now, at start-up.
	if p := specProblem(t); p != "" {
		panic(fmt.Sprintf("graph: Register%s%s(%.40q, %T): %s", upper(r.kind[:1]), r.kind[1:], name, zero, p))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byName[name]; ok {
		panic(fmt.Sprintf("graph: %s type %q registered twice", r.kind, name))
	}
	if old, ok := r.byType[t]; ok {
		panic(fmt.Sprintf("graph: %s type %v registered twice (as %q and %q)", r.kind, t, old, name))
	}
	r.byName[name], r.byType[t] = t, name
}

// spec is how a registered value is written.
type spec struct {
	Type   string          `json:"type"`
	Config json.RawMessage `json:"config,omitempty"`
}

func (r *registry) marshal(v any) ([]byte, error) {
	t := reflect.TypeOf(v)
	r.mu.RLock()
	name, ok := r.byType[t]
	r.mu.RUnlock()
	if !ok {
		return nil, errors.Errorf("%s type %v is not registered (call graph.Register%s%s)", r.kind, t, upper(r.kind[:1]), r.kind[1:])
	}
	cfg, err := json.Marshal(v)
	if err != nil {
		return nil, errors.Wrapf(err, "writing %s %s", r.kind, name)
	}
	if string(cfg) == "{}" {
		cfg = nil
	}
	return json.Marshal(spec{Type: name, Config: cfg})
}

// unmarshal reads a spec. It checks b's bounds first (specLimits): it is
// called again for each layer inside a composite one, on that layer's part
// of the specification, so that the bounds hold however a layer is read.
func (r *registry) unmarshal(b []byte) (any, error) {
	if err := strictjson.Check(b, specLimits); err != nil {
		return nil, errors.Wrapf(err, "reading a %s", r.kind)
	}
	s, err := readSpec(b)
	if err != nil {
		return nil, errors.Wrapf(err, "reading a %s", r.kind)
	}
	r.mu.RLock()
	t, ok := r.byName[s.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, errors.Errorf("unknown %s type %.40q (register it with graph.Register%s%s)", r.kind, s.Type, upper(r.kind[:1]), r.kind[1:])
	}
	p := reflect.New(t)
	if u, ok := p.Interface().(json.Unmarshaler); ok && selfChecking[t] && len(s.Config) > 0 {
		// Decode would read the config twice before u reads it itself.
		if err := u.UnmarshalJSON(s.Config); err != nil {
			return nil, errors.Wrapf(err, "reading %s %s", r.kind, s.Type)
		}
	} else if len(s.Config) > 0 {
		if err := strictjson.Decode(s.Config, p.Interface()); err != nil {
			return nil, errors.Wrapf(err, "reading %s %s", r.kind, s.Type)
		}
	}
	if err := checkShapeFields(p.Elem()); err != nil {
		return nil, errors.Wrapf(err, "reading %s %s", r.kind, s.Type)
	}
	return p.Elem().Interface(), nil
}

// selfChecking lists the layers of this package whose UnmarshalJSON reads
// with strictjson.Decode, checking the syntax of what it is given: their
// configs are handed to it as they are, not decoded first, so that a
// composite layer's children are not read once more at each level. (A
// type's UnmarshalJSON may otherwise assume valid JSON: keep it so.)
var selfChecking = map[reflect.Type]bool{
	reflect.TypeFor[Sequential](): true, reflect.TypeFor[Residual](): true,
	reflect.TypeFor[Concat](): true, reflect.TypeFor[Merge](): true,
}

// readSpec splits b, {"type": name, "config": {...}}, into its name and
// its config, which it does not read: the type's decoding does. It reads
// b once (encoding/json would read the config twice more, and copy it,
// at each level of nested layers) and is as strict as strictjson.Decode.
func readSpec(b []byte) (spec, error) {
	var s spec
	ms, err := strictjson.Members(b)
	if err != nil {
		return s, err
	}
	for _, m := range ms {
		switch {
		case strings.EqualFold(m.Key, "type"):
			if s.Type, err = strictjson.String(m.Value); err != nil {
				return s, errors.Wrap(err, "type")
			}
		case strings.EqualFold(m.Key, "config"):
			s.Config = m.Value
		default:
			return s, errors.Errorf("unknown field %.40q", m.Key)
		}
	}
	return s, nil
}

// checkShapeFields refuses a field Shape []int of v (a struct) with more
// than MaxShapeDims dimensions: a shape read from a file, which errors
// print.
func checkShapeFields(v reflect.Value) error {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && f.Name == "Shape" && f.Type == reflect.TypeFor[[]int]() {
			if n := v.Field(i).Len(); n > MaxShapeDims {
				return errors.Errorf("config.%s: %d dimensions, more than %d", f.Name, n, MaxShapeDims)
			}
		}
	}
	return nil
}

func upper(s string) string { return strings.ToUpper(s) }

// MarshalLayer writes a layer as {"type": name, "config": fields}.
func MarshalLayer(l Layer) ([]byte, error) { return layerTypes.marshal(l) }

// UnmarshalLayer reads a layer written by MarshalLayer. It refuses, before
// decoding anything, a specification nested deeper than MaxSpecDepth or
// holding a string longer than MaxNameLen, and a shape of more than
// MaxShapeDims dimensions.
func UnmarshalLayer(b []byte) (Layer, error) {
	v, err := layerTypes.unmarshal(b)
	if err != nil {
		return nil, err
	}
	l, ok := v.(Layer)
	if !ok {
		return nil, errors.Errorf("registered layer type %T is not a Layer", v)
	}
	return l, nil
}

// MarshalLoss writes a loss as {"type": name, "config": fields}.
func MarshalLoss(l Loss) ([]byte, error) { return lossTypes.marshal(l) }

// UnmarshalLoss reads a loss written by MarshalLoss.
func UnmarshalLoss(b []byte) (Loss, error) {
	v, err := lossTypes.unmarshal(b)
	if err != nil {
		return nil, err
	}
	l, ok := v.(Loss)
	if !ok {
		return nil, errors.Errorf("registered loss type %T is not a Loss", v)
	}
	return l, nil
}

// archJSON is how an Arch is written.
type archJSON struct {
	Inputs []Input         `json:"inputs"`
	Net    json.RawMessage `json:"net"`
	Loss   json.RawMessage `json:"loss"`
}

// MarshalJSON writes the architecture: its inputs, its network and its
// loss, each layer by its registered name and fields.
func (a Arch) MarshalJSON() ([]byte, error) {
	d := a.withDefaults()
	if d.Net == nil {
		return nil, errors.New("architecture has no network")
	}
	net, err := MarshalLayer(d.Net)
	if err != nil {
		return nil, err
	}
	loss, err := MarshalLoss(d.Loss)
	if err != nil {
		return nil, err
	}
	return json.Marshal(archJSON{Inputs: d.Inputs, Net: net, Loss: loss})
}

// UnmarshalJSON reads an architecture written by MarshalJSON and checks it.
func (a *Arch) UnmarshalJSON(b []byte) error {
	if err := strictjson.Check(b, specLimits); err != nil {
		return errors.Wrap(err, "reading the architecture")
	}
	var j archJSON
	if err := strictjson.Decode(b, &j); err != nil {
		return errors.Wrap(err, "reading the architecture")
	}
	for k, in := range j.Inputs {
		if len(in.Shape) > MaxShapeDims {
			return errors.Errorf("reading the architecture: inputs[%d].shape: %d dimensions, more than %d", k, len(in.Shape), MaxShapeDims)
		}
	}
	net, err := UnmarshalLayer(j.Net)
	if err != nil {
		return errors.Wrap(err, "reading the architecture: net")
	}
	loss, err := UnmarshalLoss(j.Loss)
	if err != nil {
		return errors.Wrap(err, "reading the architecture: loss")
	}
	arch := Arch{Net: net, Inputs: j.Inputs, Loss: loss}
	if err := arch.Validate(); err != nil {
		return errors.Wrap(err, "reading the architecture")
	}
	*a = arch
	return nil
}

// layerList is a list of layers that reads and writes its elements by their
// registered names: the children of a composite layer.
type layerList []Layer

func (l layerList) MarshalJSON() ([]byte, error) {
	out := make([]json.RawMessage, len(l))
	for i, c := range l {
		b, err := MarshalLayer(c)
		if err != nil {
			return nil, errors.Wrapf(err, "layer %d", i)
		}
		out[i] = b
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the list in one pass, without copying or decoding
// its elements, each of which UnmarshalLayer then reads once.
func (l *layerList) UnmarshalJSON(b []byte) error {
	raw, err := strictjson.Elements(b)
	if err != nil {
		return err
	}
	*l = make(layerList, len(raw))
	for i, r := range raw {
		c, err := UnmarshalLayer(r)
		if err != nil {
			return errors.Wrapf(err, "layer %d", i)
		}
		(*l)[i] = c
	}
	return nil
}

func init() {
	for name, l := range map[string]Layer{
		"identity": Identity{}, "dense": Dense{}, "relu": ReLU{}, "leaky_relu": LeakyReLU{}, "sigmoid": Sigmoid{}, "tanh": Tanh{},
		"dropout": Dropout{}, "flatten": Flatten{}, "reshape": Reshape{}, "sequential": Sequential{},
		"conv2d": Conv2D{}, "max_pool2d": MaxPool2D{}, "avg_pool2d": AvgPool2D{}, "batch_norm": BatchNorm{},
		"layer_norm": LayerNorm{}, "global_avg_pool2d": GlobalAvgPool2D{}, "rescale": Rescale{},
		"residual": Residual{}, "concat": Concat{}, "merge": Merge{},
		"gelu": GELU{}, "silu": SiLU{}, "softplus": Softplus{},
	} {
		RegisterLayer(name, l)
	}
	RegisterLoss("cross_entropy", CrossEntropy{})
	RegisterLoss("mse", MSE{})
	RegisterLoss("mae", MAE{})
	RegisterLoss("huber", Huber{})
	RegisterLoss("sigmoid_cross_entropy", SigmoidCrossEntropy{})
}
