package bench

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "torch_mnist.py")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"zero", Config{}, ""},
		{"mlp", Config{Workloads: []string{"mlp"}, Procs: []int{1, 2}, Batch: 32, Steps: 3, Warmup: 0, Repeat: 1, BLAS: "tapestry"}, ""},
		{"unknown workload", Config{Workloads: []string{"resnet"}}, `unknown workload "resnet"`},
		{"twice", Config{Workloads: []string{"mlp", "mlp"}}, "listed twice"},
		{"zero procs", Config{Procs: []int{0}}, "GOMAXPROCS 0"},
		{"too many procs", Config{Procs: []int{100000}}, "GOMAXPROCS 100000"},
		{"procs twice", Config{Procs: []int{2, 2}}, "GOMAXPROCS 2 listed twice"},
		{"negative batch", Config{Batch: -1}, "batch size -1"},
		{"negative steps", Config{Steps: -1}, "steps -1"},
		{"negative warmup", Config{Warmup: -1}, "warm-up steps -1"},
		{"negative repeat", Config{Repeat: -2}, "repeat -2"},
		{"negative calls", Config{Calls: -3}, "calls -3"},
		{"inference", Config{Workloads: []string{"mlp-infer-1", "mlp-serve-8", "mlp-epoch"}, Calls: 10}, ""},
		{"sized inference", Config{Workloads: []string{"mlp-infer-64", "cnn-serve-16", "lenet5-infer-2048"}}, ""},
		{"batch 0", Config{Workloads: []string{"mlp-infer-0"}}, `unknown workload "mlp-infer-0"`},
		{"one server caller", Config{Workloads: []string{"mlp-serve-1"}}, `unknown workload "mlp-serve-1"`},
		{"batch over the images", Config{Workloads: []string{"mlp-infer-2049"}}, `unknown workload "mlp-infer-2049"`},
		{"bad blas", Config{BLAS: "mkl"}, `unknown BLAS "mkl"`},
		{"missing torch script", Config{CompareTorch: true, TorchScript: missing}, "torch_mnist.py"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseLists(t *testing.T) {
	if got := ParseNames(" mlp, ,cnn,"); !reflect.DeepEqual(got, []string{"mlp", "cnn"}) {
		t.Errorf("ParseNames = %q", got)
	}
	if got := ParseNames(""); got != nil {
		t.Errorf("ParseNames(\"\") = %q, want nil", got)
	}
	if got, err := ParseProcs("1, 2"); err != nil || !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("ParseProcs = %v, %v", got, err)
	}
	if _, err := ParseProcs("1,two"); err == nil || !strings.Contains(err.Error(), `"two"`) {
		t.Errorf("ParseProcs(1,two) error %v", err)
	}
}

func TestDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if !reflect.DeepEqual(c.Workloads, Available()) || !reflect.DeepEqual(c.Procs, []int{2}) ||
		c.Steps != 50 || c.Warmup != 0 || c.Repeat != 5 || c.BLAS != "tapestry" || c.Log == nil {
		t.Errorf("defaults %+v", c)
	}
	// mlp is always a preset (models.Presets), so it is always available.
	if a := Available(); len(a) == 0 || a[0] != "mlp" {
		t.Errorf("Available() = %v, want mlp first", a)
	}
}

// TestLookupSizedWorkloads checks the inference workloads whose names give
// their size: the table's own come out as listed, and others follow the
// same rules.
func TestLookupSizedWorkloads(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Workload
	}{
		{"mlp-infer-1", Workload{Name: "mlp-infer-1", Kind: Infer, Preset: "mlp", Batch: 1, Calls: 5000, Torch: "mlp"}},
		{"mlp-infer-256", Workload{Name: "mlp-infer-256", Kind: Infer, Preset: "mlp", Batch: 256, Calls: 200, Torch: "mlp"}},
		{"mlp-serve-8", Workload{Name: "mlp-serve-8", Kind: Infer, Preset: "mlp", Batch: 1, Callers: 8, PredictorBatch: 8, Calls: 2000, Torch: "mlp"}},
		{"mlp-infer-16", Workload{Name: "mlp-infer-16", Kind: Infer, Preset: "mlp", Batch: 16, Calls: 312, Torch: "mlp"}},
		{"cnn-serve-3", Workload{Name: "cnn-serve-3", Kind: Infer, Preset: "cnn", Batch: 1, Callers: 3, PredictorBatch: 3, Calls: 2000, Torch: "cnn"}},
		{"lenet5-infer-2048", Workload{Name: "lenet5-infer-2048", Kind: Infer, Preset: "lenet5", Batch: 2048, Calls: 200}},
	} {
		got, ok := LookupWorkload(tc.name)
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("LookupWorkload(%q) = %+v, %v; want %+v", tc.name, got, ok, tc.want)
		}
	}
	for _, name := range []string{"mlp-infer-", "mlp-infer-01", "mlp-infer-+4", "mlp-infer-4x", "mlp-serve-1025", "resnet-infer-1", "mlp-infer-99999999999999999999"} {
		if w, ok := LookupWorkload(name); ok {
			t.Errorf("LookupWorkload(%q) = %+v, want none", name, w)
		}
	}
}
