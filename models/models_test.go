package models

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFromConfigRebuildsPresets: the config a checkpoint records rebuilds the
// same architecture (same parameter names and shapes).
func TestFromConfigRebuildsPresets(t *testing.T) {
	for _, name := range Presets {
		t.Run(name, func(t *testing.T) {
			a, err := Preset(name)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := json.Marshal(a.Config)
			if err != nil {
				t.Fatal(err)
			}
			b, err := FromConfig(a.Kind, cfg)
			if err != nil {
				t.Fatal(err)
			}
			pa, pb := a.Net.Params(), b.Net.Params()
			if len(pa) != len(pb) {
				t.Fatalf("%d parameters rebuilt as %d", len(pa), len(pb))
			}
			for i := range pa {
				if pa[i].Name != pb[i].Name || len(pa[i].Shape) != len(pb[i].Shape) {
					t.Errorf("parameter %d: %s%v rebuilt as %s%v", i, pa[i].Name, pa[i].Shape, pb[i].Name, pb[i].Shape)
				}
			}
		})
	}
}

func TestFromConfigErrors(t *testing.T) {
	for _, c := range []struct{ kind, cfg, want string }{
		{"resnet", `{}`, `unknown architecture kind "resnet"`},
		{"mlp", `{"hidden": [512], "widths": 3}`, "unknown field"},
		{"mlp", `{"hidden": [0]}`, "hidden layer 0 has size 0"},
		{"cnn", `{"Blocks": []}`, "cnn"},
	} {
		_, err := FromConfig(c.kind, []byte(c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromConfig(%s, %s) = %v, want an error containing %q", c.kind, c.cfg, err, c.want)
		}
	}
	if _, err := Preset("vgg"); err == nil {
		t.Error("unknown preset accepted")
	}
}
