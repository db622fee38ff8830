package graph

import (
	"reflect"

	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
)

// Types whose specification would not reload them as they were: a layer
// with its config in an unexported field reloaded as its zero value (its
// output went from 5.6 to 0 without an error), and one holding a Layer saved
// a checkpoint that could never be loaded.
type (
	hiddenScale  struct{ scale float64 }
	wrapsLayer   struct{ Inner Layer }
	wrapsLayers  struct{ Inner []Layer }
	nestedHidden struct{ Opts struct{ n int } }
	withFunc     struct{ F func() }
	selfWritten  struct{ inner Layer }
	taggedOut    struct {
		Init Initializer `json:"-"`
		N    int
	}
)

func (selfWritten) MarshalJSON() ([]byte, error) { return []byte("{}"), nil }
func (*selfWritten) UnmarshalJSON([]byte) error  { return nil }

func TestSpecProblem(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string // "" for none
	}{
		{hiddenScale{}, "field hiddenScale.scale is not exported"},
		{wrapsLayer{}, "field wrapsLayer.Inner is of interface type graph.Layer"},
		{wrapsLayers{}, "field wrapsLayers.Inner[] is of interface type graph.Layer"},
		{nestedHidden{}, "field nestedHidden.Opts.n is not exported"},
		{withFunc{}, "field withFunc.F is of type func()"},
		{selfWritten{}, ""},
		{taggedOut{}, ""},
	} {
		got := specProblem(reflect.TypeOf(c.v))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%T: %q, want %q", c.v, got, c.want)
		}
	}
	// Every type tapestry registers comes back from its specification.
	for _, r := range []*registry{layerTypes, lossTypes} {
		for name, typ := range r.byName {
			if p := specProblem(typ); p != "" {
				t.Errorf("registered %s %q: %s", r.kind, name, p)
			}
		}
	}
}

// TestRegisterRefusesWhatCannotReloadAsItWas: registration panics, naming
// the field, before any checkpoint of such a layer is written.
func TestRegisterRefusesWhatCannotReloadAsItWas(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, `RegisterLayer("test_hidden_scale"`) || !strings.Contains(msg, "field hiddenLayer.scale is not exported") {
			t.Errorf("panic %q", msg)
		}
	}()
	RegisterLayer("test_hidden_scale", hiddenLayer{})
}

// hiddenLayer is a Layer with its config unexported.
type hiddenLayer struct{ scale float64 }

func (hiddenLayer) Params() []ParamSpec                            { return nil }
func (hiddenLayer) OutShape(in []int) ([]int, error)               { return in, nil }
func (hiddenLayer) Forward(b *Builder, x *G.Node) (*G.Node, error) { return x, nil }
