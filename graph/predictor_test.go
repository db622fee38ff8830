package graph

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestPredictorConcurrent runs many goroutines predicting at once (run it
// with -race) and checks each result equals the single-threaded one.
func TestPredictorConcurrent(t *testing.T) {
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const examples = 37 // not a multiple of the batch size: padding is exercised
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, examples*6)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	want, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPredictor(m, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			// Each goroutine predicts a different slice of the inputs.
			lo := g % examples
			got, err := p.Predict(x[lo*6:])
			if err != nil {
				errs <- err
				return
			}
			for i, v := range got {
				if v != want[lo*3+i] {
					t.Errorf("goroutine %d: prob[%d] = %v, want %v", g, i, v, want[lo*3+i])
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(p.free) != 3 || len(p.queue) != 0 {
		t.Errorf("%d programs free and %d requests queued after the calls, want 3 and 0", len(p.free), len(p.queue))
	}
}

// TestModelPredictConcurrent: Model.Predict and Probabilities from many
// goroutines at once, with batch sizes that make the model compile new
// programs while others run (run it with -race), give the single-threaded
// results.
func TestModelPredictConcurrent(t *testing.T) {
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, 40*6)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	// The references, computed one example at a time.
	want := make([]float64, 0, 40*3)
	for i := 0; i < 40; i++ {
		y, err := m.Predict(x[i*6 : i*6+6])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, y...)
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			n := 1 + (g*7)%40 // sizes 1 … 40: new programs compile as others run
			for rep := 0; rep < 5; rep++ {
				got, err := m.Predict(x[:n*6])
				if err != nil {
					t.Error(err)
					return
				}
				for i, v := range got {
					if math.Abs(v-want[i]) > 1e-6 {
						t.Errorf("goroutine %d: output %d = %v, want %v", g, i, v, want[i])
						return
					}
				}
				if _, err := m.Probabilities(x[:n*6]); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

// TestPredictorCombines has many goroutines predict one example at a time
// through a predictor of batch 8: their requests run together, and each
// gets the outputs of its own example alone, to the bit.
func TestPredictorCombines(t *testing.T) {
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const examples = 50
	rng := rand.New(rand.NewPCG(2, 3))
	x := make([]float32, examples*6)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	want := make([][]float64, examples)
	for i := range want {
		if want[i], err = m.Predict(x[i*6 : i*6+6]); err != nil {
			t.Fatal(err)
		}
	}
	p, err := NewPredictor(m, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 100 {
				e := (g*7 + i) % examples
				n := 1 + (g+i)%3 // one to three examples, so that batches mix sizes
				n = min(n, examples-e)
				got, err := p.Predict(x[e*6 : (e+n)*6])
				if err != nil {
					t.Error(err)
					return
				}
				for j := range n {
					for c, v := range want[e+j] {
						if got[j*3+c] != v {
							t.Errorf("goroutine %d call %d: example %d output %d = %v, want %v", g, i, e+j, c, got[j*3+c], v)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if len(p.free) != 2 || len(p.queue) != 0 {
		t.Errorf("%d programs free and %d requests queued after the calls, want 2 and 0", len(p.free), len(p.queue))
	}
}

// TestPredictorGathersReadyCallers releases 8 goroutines at once on one
// processor, each predicting one example through a predictor of batch 8
// with one program set: the first to run holds the set and yields before
// it runs, so the other seven queue their requests and all eight run as
// one batch. Without the yield the first ran alone and the others made a
// second run. The scheduler gives no promise of order, so a round that
// splits is allowed now and then; the rounds in one batch are counted.
func TestPredictorGathersReadyCallers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	m, err := NewModel(smallArch(), Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPredictor(m, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 6)
	const rounds = 20
	whole := 0
	for range rounds {
		before := p.Stats()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				<-start
				if _, err := p.Predict(x); err != nil {
					t.Error(err)
				}
			})
		}
		runtime.Gosched() // let all eight reach <-start
		close(start)
		wg.Wait()
		after := p.Stats()
		if got := after.Examples - before.Examples; got != 8 {
			t.Fatalf("Stats counted %d examples for 8 predictions of one", got)
		}
		if after.Runs-before.Runs == 1 {
			whole++
		}
	}
	if whole < rounds*3/4 {
		t.Errorf("8 ready callers ran as one batch in %d of %d rounds, want most", whole, rounds)
	}
}
