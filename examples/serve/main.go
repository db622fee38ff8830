// Command serve answers predictions over HTTP: an endpoint that many
// clients call at once, every request served by one shared model.
//
//	go run ./examples/serve -model runs/x/best.safetensors -addr localhost:8080
//	curl -d '{"inputs": [[0.1, 0.2, …]]}' localhost:8080/predict
//	curl -H 'Content-Type: application/octet-stream' --data-binary @x.f32 localhost:8080/predict
//
// A request is JSON, or with Content-Type application/octet-stream the
// examples' inputs as little-endian float32, one example after the other.
// The reply is JSON. Reading one MNIST image's 784 numbers from JSON takes
// encoding/json 0.35–1 ms on the 2-core machines this was measured on,
// four to ten times the prediction (about 80 µs for the default MLP), and
// 8 clients sending one image a request got 1.4–2 times the replies a
// second in binary (go test -run '^$' -bench . ./examples/serve/).
//
// The requests share one graph.Predictor, which runs the examples of
// requests that wait at the same time as one batch: a batch reads the
// weights once for all its examples, so that 8 goroutines predicting one
// example each make about twice the predictions a second that they make
// through graph.Model.Predict (go test -run '^$' -bench MLP1x8 ./graph/;
// Model.Predict is safe for concurrent use too, but runs each call on its
// own). -batch bounds the examples of one run and the programs compiled for
// it (batches 1, 2, 4, … up to it, for each processor).
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"io"
	"log"
	"math"
	"mime"
	"net/http"
	"runtime"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/models"
)

func main() {
	path := flag.String("model", "", "checkpoint to serve (written by cmd/train or train.Trainer.Save)")
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	batch := flag.Int("batch", 32, "most examples predicted in one run of the model")
	flag.Parse()
	m, _, err := models.Load(*path)
	if err != nil {
		log.Fatal(err)
	}
	p, err := graph.NewPredictor(m, *batch, runtime.GOMAXPROCS(0))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/predict", Handler(p))
	log.Printf("serving %s on http://%s/predict", *path, *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// Request is a batch of examples, each the model's input flattened.
type Request struct {
	Inputs [][]float32 `json:"inputs"`
}

// Response holds each example's outputs and, for a classifier, its class
// probabilities.
type Response struct {
	Outputs       [][]float64 `json:"outputs"`
	Probabilities [][]float64 `json:"probabilities,omitempty"`
	Error         string      `json:"error,omitempty"`
}

// maxBody bounds a request: a client's payload is not ours to allocate.
const maxBody = 8 << 20

// Handler serves POST /predict with p's model.
func Handler(p *graph.Predictor) http.Handler {
	_, classifier := p.Model().Arch.Loss.(graph.Classifier)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			reply(w, http.StatusMethodNotAllowed, Response{Error: "POST a JSON object {\"inputs\": [[…], …]}"})
			return
		}
		x, err := readInputs(w, r, p.Model().InSize(0))
		if err != nil {
			reply(w, http.StatusBadRequest, Response{Error: errors.Wrap(err, "reading the request").Error()})
			return
		}
		res, err := predict(p, x, classifier)
		if err != nil {
			reply(w, http.StatusBadRequest, Response{Error: err.Error()})
			return
		}
		reply(w, http.StatusOK, res)
	})
}

// readInputs reads a request's examples, in JSON or binary by its
// Content-Type, as in values each, one after the other.
func readInputs(w http.ResponseWriter, r *http.Request, in int) ([]float32, error) {
	body := http.MaxBytesReader(w, r.Body, maxBody)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/octet-stream" {
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || len(b)%(4*in) != 0 {
			return nil, errors.Errorf("%d bytes is not a whole number of examples of %d float32 values", len(b), in)
		}
		x := make([]float32, len(b)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			// JSON cannot carry NaN or ±Inf, in either direction.
			if math.IsNaN(float64(x[i])) || math.IsInf(float64(x[i]), 0) {
				return nil, errors.Errorf("value %d of example %d is %v", i%in, i/in, x[i])
			}
		}
		return x, nil
	}
	var req Request
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, err
	}
	if len(req.Inputs) == 0 {
		return nil, errors.New("no inputs")
	}
	x := make([]float32, 0, len(req.Inputs)*in)
	for i, row := range req.Inputs {
		if len(row) != in {
			return nil, errors.Errorf("input %d has %d values, the model takes %d", i, len(row), in)
		}
		x = append(x, row...)
	}
	return x, nil
}

// predict runs the examples in x through the model, together with those
// of the other requests waiting for p.
func predict(p *graph.Predictor, x []float32, classifier bool) (Response, error) {
	out := p.Model().OutSize()
	y, err := p.Predict(x)
	if err != nil {
		return Response{}, err
	}
	res := Response{Outputs: rows(y, out)}
	if classifier {
		prob := append([]float64(nil), y...)
		p.Model().Arch.Loss.(graph.Classifier).Probabilities(prob, out)
		res.Probabilities = rows(prob, out)
	}
	return res, nil
}

func rows(v []float64, cols int) [][]float64 {
	out := make([][]float64, len(v)/cols)
	for i := range out {
		out[i] = v[i*cols : (i+1)*cols]
	}
	return out
}

// reply writes res with status. It encodes res before the status goes
// out: JSON cannot carry the NaN or ±Inf a broken model may output, and
// the client then gets a 500 that says so rather than a 200 with a cut
// body.
func reply(w http.ResponseWriter, status int, res Response) {
	body, err := json.Marshal(res)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(Response{Error: errors.Wrap(err, "the model's outputs cannot be written as JSON").Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
