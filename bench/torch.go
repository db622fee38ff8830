package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// torchEpoch is the line torch_mnist.py prints on stdout for an epoch.
type torchEpoch struct {
	Model         string   `json:"model"`
	Batch         int      `json:"batch"`
	Threads       int      `json:"threads"`
	Samples       int      `json:"train_samples"`
	SamplesPerSec float64  `json:"train_samples_per_s"`
	Seconds       float64  `json:"train_seconds"`
	Loss          *float64 `json:"train_loss"`
}

// seconds is the training time of the epoch. train_seconds is rounded to a
// millisecond and train_samples_per_s to a tenth of a sample per second;
// samples / train_samples_per_s is the more precise of the two whenever its
// rounding error, samples·0.05/rate², is under half a millisecond, as it is
// for any real run of more than a few hundred samples per second.
func (e torchEpoch) seconds() float64 {
	r := e.SamplesPerSec
	if r > 0 && float64(e.Samples)*0.05/(r*r) < 0.0005 {
		return float64(e.Samples) / r
	}
	return e.Seconds
}

// parseTorchEpoch returns the last epoch line of torch_mnist.py's stdout.
func parseTorchEpoch(stdout []byte) (torchEpoch, error) {
	var last *torchEpoch
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e torchEpoch
		if err := json.Unmarshal(line, &e); err != nil {
			return torchEpoch{}, errors.Wrapf(err, "reading the PyTorch peer's line %q", line)
		}
		if e.Samples > 0 && e.SamplesPerSec > 0 {
			last = &e
		}
	}
	if last == nil {
		return torchEpoch{}, errors.Errorf("the PyTorch peer printed no epoch line with train_samples and train_samples_per_s (stdout: %q)", clip(stdout))
	}
	return *last, nil
}

// torchInfer is the line torch_mnist.py --infer prints on stdout.
type torchInfer struct {
	Model         string    `json:"model"`
	Mode          string    `json:"mode"`
	Batch         int       `json:"batch"`
	Threads       int       `json:"threads"`
	Calls         int       `json:"calls"`
	P50us         float64   `json:"p50_us"`
	SamplesPerSec float64   `json:"samples_per_s"`
	LatenciesUs   []float64 `json:"latencies_us"`
}

// parseTorchInfer returns the inference line of torch_mnist.py --infer's
// stdout.
func parseTorchInfer(stdout []byte) (torchInfer, error) {
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<26) // the line lists every call's latency
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r torchInfer
		if err := json.Unmarshal(line, &r); err != nil {
			return torchInfer{}, errors.Wrapf(err, "reading the PyTorch peer's line %q", clip(line))
		}
		if r.Mode == "infer" && r.Calls > 0 && len(r.LatenciesUs) == r.Calls && r.SamplesPerSec > 0 {
			return r, nil
		}
	}
	if err := sc.Err(); err != nil {
		return torchInfer{}, errors.Wrap(err, "reading the PyTorch peer's output")
	}
	return torchInfer{}, errors.Errorf("the PyTorch peer printed no inference line with calls, latencies_us and samples_per_s (stdout: %q)", clip(stdout))
}

// torchPeer runs torch_mnist.py.
type torchPeer struct {
	python, script, libPath, data string
	seed                          uint64 // -seed, for the peer's initialization and order
}

// env is the process environment with the peer's LD_LIBRARY_PATH first.
func (t torchPeer) env() []string {
	lib := t.libPath
	if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
		lib += string(os.PathListSeparator) + old
	}
	return append(os.Environ(), "LD_LIBRARY_PATH="+lib)
}

// available reports why PyTorch cannot be imported, or nil if it can.
func (t torchPeer) available(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, t.python, "-c", "import torch")
	cmd.Env = t.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return errors.Errorf("%s -c \"import torch\" failed (%v): %s", t.python, err, lastLine(out))
	}
	return nil
}

// exec runs the peer script with args (and --data, if set) and returns
// what it printed and its command line for errors; a failed run's error
// quotes the last line of its stderr.
func (t torchPeer) exec(ctx context.Context, args ...string) (stdout, stderr []byte, cmdline string, err error) {
	args = append([]string{t.script}, args...)
	if t.data != "" {
		args = append(args, "--data", t.data)
	}
	if t.seed != 0 {
		args = append(args, "--seed", strconv.FormatUint(t.seed, 10))
	}
	cmdline = t.python + " " + strings.Join(args, " ")
	cmd := exec.CommandContext(ctx, t.python, args...)
	cmd.Env = t.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, nil, cmdline, errors.Errorf("%s: %v: %s", cmdline, err, lastLine(errb.Bytes()))
	}
	return out.Bytes(), errb.Bytes(), cmdline, nil
}

// run trains model for maxBatches batches of one epoch, without testing, and
// returns the epoch line and the setup line the peer prints on stderr.
func (t torchPeer) run(ctx context.Context, model string, batch, threads, maxBatches int) (torchEpoch, string, error) {
	stdout, stderr, cmdline, err := t.exec(ctx, "--model", model, "--batch", strconv.Itoa(batch),
		"--threads", strconv.Itoa(threads), "--max-batches", strconv.Itoa(maxBatches),
		"--epochs", "1", "--no-test")
	if err != nil {
		return torchEpoch{}, "", err
	}
	e, err := parseTorchEpoch(stdout)
	if err != nil {
		return e, "", errors.Wrap(err, cmdline)
	}
	if e.Samples != batch*maxBatches {
		return e, "", errors.Errorf("the PyTorch peer trained on %d samples, want %d batches of %d", e.Samples, maxBatches, batch)
	}
	return e, setupLine(stderr), nil
}

// infer times calls predictions of model on batch test images at a time,
// after warmup untimed ones, and returns the peer's inference line.
func (t torchPeer) infer(ctx context.Context, model string, batch, threads, calls, warmup int) (torchInfer, string, error) {
	stdout, stderr, cmdline, err := t.exec(ctx, "--model", model, "--infer", "--batch", strconv.Itoa(batch),
		"--threads", strconv.Itoa(threads), "--calls", strconv.Itoa(calls), "--warmup-calls", strconv.Itoa(warmup))
	if err != nil {
		return torchInfer{}, "", err
	}
	r, err := parseTorchInfer(stdout)
	if err != nil {
		return r, "", errors.Wrap(err, cmdline)
	}
	if r.Batch != batch || r.Calls != calls {
		return r, "", errors.Errorf("the PyTorch peer ran %d calls of batch %d, want %d of %d", r.Calls, r.Batch, calls, batch)
	}
	return r, setupLine(stderr), nil
}

// torchRate is the peer's training speed over the batches that its long
// runs took beyond its short ones: samples / (median long − median short
// seconds), so that its first batches (thread-pool start, first
// allocations) drop out as the Go side's warm-up does. Medians taken before
// the difference keep one slow start-up from spoiling it. It returns 0 when
// the difference is not positive, which only noise on a loaded machine
// makes.
func torchRate(samples int, short, long []float64) float64 {
	dt := Median(long) - Median(short)
	if samples <= 0 || !(dt > 0) {
		return 0
	}
	return float64(samples) / dt
}

// findTorchScript returns bench/peers/torch_mnist.py in the module root:
// the nearest folder from dir up that holds go.mod.
func findTorchScript(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "bench", "peers", "torch_mnist.py")
			if _, err := os.Stat(p); err != nil {
				return "", errors.Wrapf(err, "the PyTorch peer script (module root %s; pass its path with -torch-script)", d)
			}
			return p, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.Errorf("the PyTorch peer script: no go.mod in %s or above it; pass its path with -torch-script", dir)
		}
		d = up
	}
}

// setupLine returns the peer's `{"info": "setup", ...}` line from stderr.
func setupLine(stderr []byte) string {
	for _, l := range strings.Split(string(stderr), "\n") {
		if strings.Contains(l, `"info": "setup"`) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// clip shortens b for an error message.
func clip(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// outputs loads the state_dict in weights into the peer's model and returns
// its outputs on the first batch test images: logits for mlp, the
// log-probabilities of its log_softmax for cnn.
func (t torchPeer) outputs(ctx context.Context, model, weights string, batch int) ([][]float64, error) {
	stdout, _, cmdline, err := t.exec(ctx, "--model", model, "--logits", weights, "--batch", strconv.Itoa(batch), "--threads", "1")
	if err != nil {
		return nil, err
	}
	var r struct {
		Batch   int         `json:"batch"`
		Outputs [][]float64 `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(lastLine(stdout)), &r); err != nil {
		return nil, errors.Wrapf(err, "%s: reading the PyTorch peer's outputs (stdout: %q)", cmdline, clip(stdout))
	}
	if r.Batch != batch || len(r.Outputs) != batch {
		return nil, errors.Errorf("the PyTorch peer printed %d rows of outputs, want %d", len(r.Outputs), batch)
	}
	return r.Outputs, nil
}
