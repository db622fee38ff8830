package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
	"github.com/tapestry-ml/tapestry/models/mlp"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// A Fixture is a good checkpoint written by the current code through the
// library, with what a test needs to take the load path to its end: the
// trainer's config it was trained with and a source of data its model
// takes.
type Fixture struct {
	Name   string
	Path   string
	Arch   graph.Arch
	Config train.Config
	Source datasets.Source
}

// Trainer makes the trainer a resume of the fixture needs, for model m:
// the optimizer the fixture trained with and a copy of its config (so that
// its callbacks hold no state of an earlier run).
func (f Fixture) Trainer(m *graph.Model, opt optim.Config) (*train.Trainer, error) {
	o, err := optim.New(opt)
	if err != nil {
		return nil, err
	}
	cfg := f.Config
	cfg.Callbacks = nil
	for _, c := range f.Config.Callbacks {
		if es, ok := c.(*train.EarlyStopping); ok {
			cfg.Callbacks = append(cfg.Callbacks, &train.EarlyStopping{Patience: es.Patience, RestoreBest: es.RestoreBest})
		}
	}
	return train.New(m, o, cfg)
}

// CSVName is the file WriteFixtures writes the tabular model's rows to.
const CSVName = "rows.csv"

// WriteFixtures trains, for a few steps each and through the library, an
// MLP (784-32-10), a CNN (LeNet-5) and a tabular MLP with its encoder (and
// early stopping's best weights), on data made here, and saves each
// checkpoint in dir as it is interrupted inside its second epoch, so that
// its position, history and optimizer state all hold something. It also
// writes the CSV file the tabular model was trained on (CSVName).
func WriteFixtures(dir string) ([]Fixture, error) {
	var out []Fixture
	small, err := mlp.New(mlp.Config{Inputs: 784, Hidden: []int{32}, Outputs: 10})
	if err != nil {
		return nil, err
	}
	lenet, err := models.Preset("lenet5")
	if err != nil {
		return nil, err
	}
	images := imageSource(200)
	for _, f := range []Fixture{{Name: "mlp", Arch: small}, {Name: "cnn", Arch: lenet}} {
		f.Path, f.Source = filepath.Join(dir, f.Name+".safetensors"), images
		f.Config = train.Config{Batch: 50, Epochs: 3, Seed: 7}
		if err := trainAndSave(f, nil); err != nil {
			return nil, errors.Wrap(err, f.Name)
		}
		out = append(out, f)
	}
	tab, err := tabularFixture(dir)
	if err != nil {
		return nil, errors.Wrap(err, "tabular")
	}
	return append(out, tab), nil
}

// imageSource is n MNIST-shaped examples of noise with labels 0 to 9.
func imageSource(n int) datasets.Source {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*784)
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 10
	}
	d, err := datasets.New(x, []int{784}, labels)
	if err != nil {
		panic(err) // the data made here is always valid
	}
	b, err := d.Batches(50, false)
	if err != nil {
		panic(err)
	}
	return b
}

// tabularFixture writes a CSV file of 60 rows, fits an encoder on it, and
// trains and saves a tabular MLP with the encoder in its metadata.
func tabularFixture(dir string) (Fixture, error) {
	path := filepath.Join(dir, CSVName)
	rng := rand.New(rand.NewPCG(3, 3))
	var b strings.Builder
	b.WriteString("x,colour,size\n")
	for i := 0; i < 60; i++ {
		x := rng.Float64() * 2
		colour := []string{"red", "blue", "green"}[i%3]
		size := "small"
		if x > 1 {
			size = "big"
		}
		fmt.Fprintf(&b, "%.3f,%s,%s\n", x, colour, size)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return Fixture{}, err
	}
	t, err := tabular.Read(path)
	if err != nil {
		return Fixture{}, err
	}
	rows := make([]int, t.Len())
	for i := range rows {
		rows[i] = i
	}
	enc, err := tabular.Fit(t, rows, tabular.Config{Target: "size"})
	if err != nil {
		return Fixture{}, err
	}
	d, err := enc.Encode(t, rows)
	if err != nil {
		return Fixture{}, err
	}
	src, err := d.Batches(16, false)
	if err != nil {
		return Fixture{}, err
	}
	arch, err := mlp.New(mlp.Config{Inputs: enc.Width(), Hidden: []int{8}, Outputs: len(enc.Target().Classes), NoDropout: true})
	if err != nil {
		return Fixture{}, err
	}
	encJSON, err := json.Marshal(enc)
	if err != nil {
		return Fixture{}, err
	}
	f := Fixture{Name: "tabular", Path: filepath.Join(dir, "tabular.safetensors"), Arch: arch, Source: src,
		Config: train.Config{Batch: 16, Epochs: 3, Seed: 9, Callbacks: []train.Callback{&train.EarlyStopping{Patience: 5, RestoreBest: true}}}}
	return f, trainAndSave(f, map[string]string{tabular.MetaKey: string(encJSON)})
}

// trainAndSave trains f's architecture with Adam until the second step of
// its second epoch, then saves the checkpoint there, with meta.
func trainAndSave(f Fixture, meta map[string]string) error {
	m, err := graph.NewModel(f.Arch, graph.Float32, rand.New(rand.NewPCG(f.Config.Seed, 1)))
	if err != nil {
		return err
	}
	tr, err := f.Trainer(m, optim.Config{Name: "adam"})
	if err != nil {
		return err
	}
	defer tr.Close()
	tr.Meta = meta
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr.OnStep = func(s train.StepInfo) {
		if s.Epoch == 2 && s.Batch == 2 {
			cancel()
		}
	}
	if err := tr.Fit(ctx, f.Source, f.Source); !errors.Is(err, train.ErrInterrupted) {
		return errors.Errorf("training was not interrupted where it should be: %v", err)
	}
	return tr.Save(f.Path)
}
