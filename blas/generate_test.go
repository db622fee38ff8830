package blas

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedKernelsCurrent checks that gemm_amd64.s and
// gemm_kernels_amd64.go are what internal/gen writes now, so that an edit
// to the generator is not left out of them.
func TestGeneratedKernelsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	dir := t.TempDir()
	s, g := filepath.Join(dir, "k.s"), filepath.Join(dir, "k.go")
	cmd := exec.Command("go", "run", "internal/gen/main.go", "-s", s, "-go", g)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the generator: %v\n%s", err, out)
	}
	for fresh, committed := range map[string]string{s: "gemm_amd64.s", g: "gemm_kernels_amd64.go"} {
		want, err := os.ReadFile(fresh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(committed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what internal/gen writes: run go generate in blas", committed)
		}
	}
}
