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
// panics if name or the type is registered already, or if the type is not
// a struct: registration is done once, at start-up, by the program.
func RegisterLayer(name string, zero Layer) { layerTypes.register(name, zero) }

// RegisterLoss is RegisterLayer for a loss.
func RegisterLoss(name string, zero Loss) { lossTypes.register(name, zero) }

func (r *registry) register(name string, zero any) {
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Struct || name == "" {
		panic(fmt.Sprintf("graph: Register%s(%q, %T): want a name and a struct value", r.kind, name, zero))
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

func (r *registry) unmarshal(b []byte) (any, error) {
	var s spec
	if err := strictjson.Decode(b, &s); err != nil {
		return nil, errors.Wrapf(err, "reading a %s", r.kind)
	}
	r.mu.RLock()
	t, ok := r.byName[s.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, errors.Errorf("unknown %s type %.40q (register it with graph.Register%s%s)", r.kind, s.Type, upper(r.kind[:1]), r.kind[1:])
	}
	p := reflect.New(t)
	if len(s.Config) > 0 {
		if err := strictjson.Decode(s.Config, p.Interface()); err != nil {
			return nil, errors.Wrapf(err, "reading %s %s", r.kind, s.Type)
		}
	}
	return p.Elem().Interface(), nil
}

func upper(s string) string { return strings.ToUpper(s) }

// MarshalLayer writes a layer as {"type": name, "config": fields}.
func MarshalLayer(l Layer) ([]byte, error) { return layerTypes.marshal(l) }

// UnmarshalLayer reads a layer written by MarshalLayer.
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
	var j archJSON
	if err := strictjson.Decode(b, &j); err != nil {
		return errors.Wrap(err, "reading the architecture")
	}
	net, err := UnmarshalLayer(j.Net)
	if err != nil {
		return err
	}
	loss, err := UnmarshalLoss(j.Loss)
	if err != nil {
		return err
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

func (l *layerList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
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
