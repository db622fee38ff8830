package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapestry-ml/tapestry/datasets/mnist"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// drawDigit renders MNIST test image i as a user would photograph it: dark
// ink on white paper, three times larger, off-centre in a 120×100 canvas.
func drawDigit(t *testing.T, d *mnist.Dataset, i int, path string) {
	img := image.NewGray(image.Rect(0, 0, 120, 100))
	for p := range img.Pix {
		img.Pix[p] = 255
	}
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			v := d.Images[i*784+y*28+x]
			for dy := 0; dy < 3; dy++ {
				for dx := 0; dx < 3; dx++ {
					img.SetGray(10+3*x+dx, 5+3*y+dy, color.Gray{Y: 255 - v})
				}
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// trainedMLP trains the default MLP for 2 epochs on 5,000 MNIST images with
// the library, as a user would, and saves it.
func trainedMLP(t *testing.T, dir string) string {
	t.Helper()
	full, err := mnist.Load(dir, mnist.Train)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := models.Preset("mlp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(optim.Config{Name: "adam"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(m, opt, train.Config{Batch: 128, Epochs: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	batches, err := mnist.NewBatches(full.Subset(0, 5000), 128, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Fit(context.Background(), batches, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mlp.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPredictDrawnDigits(t *testing.T) {
	dir, err := mnist.Locate("")
	if err != nil {
		t.Skip(err)
	}
	test, err := mnist.Load(dir, "t10k")
	if err != nil {
		t.Fatal(err)
	}
	ckpt := trainedMLP(t, dir)

	tmp := t.TempDir()
	var files []string
	for i := 0; i < 20; i++ {
		p := filepath.Join(tmp, "digit"+string(rune('a'+i))+".png")
		drawDigit(t, test, i, p)
		files = append(files, p)
	}
	notImage := filepath.Join(tmp, "notes.txt")
	os.WriteFile(notImage, []byte("not an image"), 0o644)
	empty := filepath.Join(tmp, "empty.png")
	f, _ := os.Create(empty)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 0, 0)))
	f.Close()

	var out, errb bytes.Buffer
	code := run(append([]string{"-model", ckpt, "-json"}, append(files, notImage, empty)...), &out, &errb)
	if code != 1 {
		t.Errorf("exit %d with two bad files, want 1", code)
	}
	dec := json.NewDecoder(&out)
	correct, n := 0, 0
	var bad []Prediction
	for dec.More() {
		var p Prediction
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Error != "" {
			bad = append(bad, p)
			continue
		}
		if len(p.Top) != 3 || p.Top[0].Probability < p.Top[1].Probability {
			t.Errorf("%s: top %v", p.File, p.Top)
		}
		if p.Top[0].Class == int(test.Labels[n]) {
			correct++
		}
		n++
	}
	if n != 20 {
		t.Fatalf("%d predictions, want 20", n)
	}
	// A 2-epoch MLP scores ~95% on MNIST; drawn, rescaled and recentred
	// digits lose a little. 16 of 20 is far above chance (2 of 20).
	if correct < 16 {
		t.Errorf("%d of 20 drawn digits classified right", correct)
	}
	if len(bad) != 2 || !strings.Contains(bad[0].Error, "notes.txt") || !strings.Contains(bad[1].Error, "empty.png") {
		t.Errorf("errors %+v, want one for notes.txt and one for empty.png", bad)
	}
}

func TestPredictUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 {
		t.Errorf("no args: exit %d, want 2", code)
	}
	if code := run([]string{"-model", filepath.Join(t.TempDir(), "none.safetensors"), "x.png"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "none.safetensors") {
		t.Errorf("missing checkpoint: exit %d, %q", code, errb.String())
	}
}
