package checkpoint

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapestry-ml/tapestry/graph"
)

// TestHelperSaveLoop is not a test: TestKillDuringSave runs the test binary
// with TAPESTRY_SAVE_LOOP set, and this then saves checkpoints to that path
// until it is killed.
func TestHelperSaveLoop(t *testing.T) {
	path := os.Getenv("TAPESTRY_SAVE_LOOP")
	if path == "" {
		t.Skip("helper process for TestKillDuringSave")
	}
	// A 784-512-512-10 model: ~2.7 MB a checkpoint, so a kill often lands
	// in the middle of a write.
	arch := graph.Arch{Net: graph.NewSequential(graph.Dense{Name: "fc1", In: 784, Out: 512}, graph.ReLU{},
		graph.Dense{Name: "fc2", In: 512, Out: 512}, graph.ReLU{}, graph.Dense{Name: "fc3", In: 512, Out: 10}),
		InShape: []int{784}}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for epoch := 0; ; epoch++ {
		c, _ := New(m, nil, epoch)
		if err := c.Save(path, graph.Float32); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKillDuringSave kills a process with SIGKILL while it saves checkpoints
// in a loop, again and again, and checks each time that the checkpoint on
// disk still loads: the write is atomic (temporary file, fsync, rename).
func TestKillDuringSave(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "last.safetensors")
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 8; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSaveLoop$")
		cmd.Env = append(os.Environ(), "TAPESTRY_SAVE_LOOP="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until this process has replaced the checkpoint once (so it
		// is in its save loop), then kill it at a random moment.
		var before time.Time
		if st, err := os.Stat(path); err == nil {
			before = st.ModTime()
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if st, err := os.Stat(path); err == nil && st.ModTime() != before {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		c, err := Load(path)
		if err != nil {
			t.Fatalf("round %d: the checkpoint is damaged after SIGKILL: %v", round, err)
		}
		if c.Arch == nil || len(c.Params) != 6 {
			t.Fatalf("round %d: arch %v, %d tensors", round, c.Arch, len(c.Params))
		}
	}
	// A killed save may leave its temporary file behind, never a damaged target.
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if e.Name() != "last.safetensors" && !strings.Contains(e.Name(), ".tmp") {
			t.Errorf("unexpected file %s", e.Name())
		}
	}
}
