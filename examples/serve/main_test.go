package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tapestry-ml/tapestry/graph"
)

// TestServeConcurrently sends requests from 32 goroutines at once, each a
// batch of its own size, to one model behind the handler, and checks every
// answer against a direct prediction (run it with -race).
func TestServeConcurrently(t *testing.T) {
	m := newModel(t, 4, graph.Dense{Name: "fc1", In: 4, Out: 8}, graph.ReLU{}, graph.Dense{Name: "fc2", In: 8, Out: 3})
	// A batch of 4 with 2 program sets: requests of up to 5 examples run
	// together, alone, and split over several runs.
	srv := serve(t, m, 4, 2)
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			req := Request{Inputs: make([][]float32, 1+g%5)}
			var flat []float32
			for i := range req.Inputs {
				req.Inputs[i] = []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), 1, -1}
				flat = append(flat, req.Inputs[i]...)
			}
			body, _ := json.Marshal(req)
			resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var res Response
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
				t.Errorf("status %d, %v, %+v", resp.StatusCode, err, res)
				return
			}
			want, _ := m.Probabilities(flat)
			for i, row := range res.Probabilities {
				for j, p := range row {
					if math.Abs(p-want[i*3+j]) > 1e-6 {
						t.Errorf("goroutine %d: probability [%d][%d] = %v, want %v", g, i, j, p, want[i*3+j])
					}
				}
			}
		}(g)
	}
	wg.Wait()
	for _, c := range []struct {
		body string
		code int
	}{{`{"inputs": [[1, 2]]}`, 400}, {`{"inputs": []}`, 400}, {`{"pixels": [[1]]}`, 400}, {`not json`, 400}} {
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader([]byte(c.body)))
		if err != nil {
			t.Fatal(err)
		}
		var res Response
		_ = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode != c.code || res.Error == "" {
			t.Errorf("%s: status %d, %+v", c.body, resp.StatusCode, res)
		}
	}
}

// TestServeBinary sends the same examples as JSON and as little-endian
// float32: the replies agree, and a body that is not whole examples, or
// holds a NaN, is refused.
func TestServeBinary(t *testing.T) {
	srv := serve(t, newModel(t, 4, graph.Dense{Name: "fc1", In: 4, Out: 3}), 4, 1)
	post := func(ct string, body []byte) (int, Response) { return postReply(t, srv.URL, ct, body) }
	rows := [][]float32{{0.5, -1, 2, 0.25}, {3, 0, -0.5, 1}}
	js, _ := json.Marshal(Request{Inputs: rows})
	bin := f32bytes(append(rows[0], rows[1]...))
	codeJ, resJ := post("application/json", js)
	codeB, resB := post("application/octet-stream", bin)
	if codeJ != 200 || codeB != 200 || len(resB.Outputs) != 2 {
		t.Fatalf("status %d and %d: %+v, %+v", codeJ, codeB, resJ, resB)
	}
	for i := range resJ.Outputs {
		for j, v := range resJ.Outputs[i] {
			if resB.Outputs[i][j] != v {
				t.Errorf("output [%d][%d]: binary %v, JSON %v", i, j, resB.Outputs[i][j], v)
			}
		}
	}
	for name, body := range map[string][]byte{
		"empty":               nil,
		"a partial example":   bin[:4*5],
		"a NaN":               f32bytes([]float32{1, float32(math.NaN()), 0, 0}),
		"an infinite value":   f32bytes([]float32{1, 2, 3, float32(math.Inf(-1))}),
		"not a float's bytes": bin[:len(bin)-1],
	} {
		if code, res := post("application/octet-stream", body); code != 400 || res.Error == "" {
			t.Errorf("%s: status %d, %+v", name, code, res)
		}
	}
}

func f32bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// TestServeNonFiniteOutputs serves a model whose weights are NaN: the
// reply is a 500 that says the outputs cannot be written, not a 200 with a
// cut body.
func TestServeNonFiniteOutputs(t *testing.T) {
	m := newModel(t, 2, graph.Dense{Name: "fc1", In: 2, Out: 2})
	w := m.Params.Get("fc1.weight")
	if w == nil {
		t.Fatal("no fc1.weight")
	}
	w.Float32s()[0] = float32(math.NaN())
	srv := serve(t, m, 1, 1)
	code, res := postReply(t, srv.URL, "application/json", []byte(`{"inputs": [[1, 2]]}`))
	if code != http.StatusInternalServerError || !strings.Contains(res.Error, "cannot be written as JSON") {
		t.Errorf("status %d, %+v", code, res)
	}
}

// newModel is a float32 model of the layers on in inputs.
func newModel(t testing.TB, in int, layers ...graph.Layer) *graph.Model {
	t.Helper()
	m, err := graph.NewModel(graph.Arch{Net: graph.NewSequential(layers...), InShape: []int{in}}, graph.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// serve starts the handler for m behind a Predictor of batch and workers,
// closed when the test ends.
func serve(t testing.TB, m *graph.Model, batch, workers int) *httptest.Server {
	t.Helper()
	p, err := graph.NewPredictor(m, batch, workers)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(p))
	t.Cleanup(srv.Close)
	return srv
}

// postReply posts body as content type ct and reads the JSON reply.
func postReply(t testing.TB, url, ct string, body []byte) (int, Response) {
	t.Helper()
	resp, err := http.Post(url, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res Response
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, res
}

// The server's figures for one MNIST-sized image a request, from 8
// clients at once, sent as JSON and in binary, and reading one request's
// inputs alone (go test -run '^$' -bench . ./examples/serve/): the JSON
// decoding is most of a request's time.
func BenchmarkServeJSON(b *testing.B)   { benchServe(b, "application/json") }
func BenchmarkServeBinary(b *testing.B) { benchServe(b, "application/octet-stream") }

func BenchmarkReadInputsJSON(b *testing.B)   { benchRead(b, "application/json") }
func BenchmarkReadInputsBinary(b *testing.B) { benchRead(b, "application/octet-stream") }

// mnistRequest is one 784-value example in content type ct.
func mnistRequest(ct string) []byte {
	x := make([]float32, 784)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = r.Float32()
	}
	if ct == "application/octet-stream" {
		return f32bytes(x)
	}
	body, _ := json.Marshal(Request{Inputs: [][]float32{x}})
	return body
}

func benchServe(b *testing.B, ct string) {
	m := newModel(b, 784, graph.Dense{Name: "fc1", In: 784, Out: 512}, graph.ReLU{},
		graph.Dense{Name: "fc2", In: 512, Out: 512}, graph.ReLU{}, graph.Dense{Name: "fc3", In: 512, Out: 10})
	srv := serve(b, m, 8, runtime.GOMAXPROCS(0))
	body := mnistRequest(ct)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(srv.URL, ct, bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func benchRead(b *testing.B, ct string) {
	body := mnistRequest(ct)
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/predict", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		if _, err := readInputs(httptest.NewRecorder(), r, 784); err != nil {
			b.Fatal(err)
		}
	}
}
