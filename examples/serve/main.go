// Command serve answers predictions over HTTP: a JSON endpoint that many
// clients call at once, every request served by one shared model.
//
//	go run ./examples/serve -model runs/x/best.safetensors -addr localhost:8080
//	curl -d '{"inputs": [[0.1, 0.2, …]]}' localhost:8080/predict
//
// The requests share one graph.Predictor, which runs the examples of
// requests that wait at the same time as one batch: a batch reads the
// weights once for all its examples, so 8 clients sending one example each
// get about twice the predictions a second that graph.Model.Predict gives
// them (it is safe for concurrent use too, but runs each call on its own).
// -batch bounds the examples of one run and the programs compiled for it
// (batches 1, 2, 4, … up to it, for each processor).
package main

import (
	"encoding/json"
	"flag"
	"log"
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
		var req Request
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			reply(w, http.StatusBadRequest, Response{Error: errors.Wrap(err, "reading the request").Error()})
			return
		}
		res, err := predict(p, req.Inputs, classifier)
		if err != nil {
			reply(w, http.StatusBadRequest, Response{Error: err.Error()})
			return
		}
		reply(w, http.StatusOK, res)
	})
}

// predict runs the examples through the model, together with those of the
// other requests waiting for p.
func predict(p *graph.Predictor, inputs [][]float32, classifier bool) (Response, error) {
	m := p.Model()
	in, out := m.InSize(0), m.OutSize()
	if len(inputs) == 0 {
		return Response{}, errors.New("no inputs")
	}
	x := make([]float32, 0, len(inputs)*in)
	for i, row := range inputs {
		if len(row) != in {
			return Response{}, errors.Errorf("input %d has %d values, the model takes %d", i, len(row), in)
		}
		x = append(x, row...)
	}
	y, err := p.Predict(x)
	if err != nil {
		return Response{}, err
	}
	res := Response{Outputs: rows(y, out)}
	if classifier {
		p := append([]float64(nil), y...)
		m.Arch.Loss.(graph.Classifier).Probabilities(p, out)
		res.Probabilities = rows(p, out)
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

func reply(w http.ResponseWriter, status int, res Response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}
