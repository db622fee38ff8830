package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/pkg/errors"

	"github.com/tapestry-ml/tapestry/datasets"
	"github.com/tapestry-ml/tapestry/datasets/tabular"
	"github.com/tapestry-ml/tapestry/graph"
	"github.com/tapestry-ml/tapestry/optim"
	"github.com/tapestry-ml/tapestry/train"
)

// Candidates are the hidden layers a tabular run chooses among when -hidden
// is auto: none (a logistic or linear regression), one layer of 16 or 64
// units, two of 64. Small tabular data sets are often nearly linear, and on
// them an MLP fits noise a linear model does not (scikit-learn's diabetes:
// test R² 0.55 linear, 0.46–0.50 with hidden layers, on the split the README
// quotes); the data choose, as LogisticRegressionCV chooses its penalty.
var Candidates = [][]int{{}, {16}, {64}, {64, 64}}

// folds is the number of cross-validation folds.
const folds = 5

// streamFolds is the generator stream that deals rows into folds.
const streamFolds = 6

func candidateNames() string {
	names := make([]string, len(Candidates))
	for i, c := range Candidates {
		names[i] = ints(c)
		if len(c) == 0 {
			names[i] = `""`
		}
	}
	return strings.Join(names, ", ")
}

// selectHidden returns the candidate whose mean loss over the folds of rows
// is lowest: each fold's model is trained on the other folds (its encoder
// fitted on them alone, early stopping on ValFraction of them, as the run
// itself will be) and scored on the fold, which nothing in its training
// saw: scoring on the rows early stopping watched would favour the noisiest
// candidates.
func selectHidden(ctx context.Context, o Options, t *tabular.Table, rows []int, stderr io.Writer) ([]int, error) {
	if len(rows) < 2*folds {
		return nil, errors.Errorf("%d training rows are too few to choose hidden layers by %d-fold cross-validation; give -hidden", len(rows), folds)
	}
	order := append([]int(nil), rows...)
	rand.New(rand.NewPCG(o.Seed, streamFolds)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	means, ses := make([]float64, len(Candidates)), make([]float64, len(Candidates))
	best := 0
	for c, hidden := range Candidates {
		losses := make([]float64, folds)
		for f := range losses {
			lo, hi := f*len(order)/folds, (f+1)*len(order)/folds
			fit := append(append([]int(nil), order[:lo]...), order[hi:]...)
			loss, err := foldLoss(ctx, o, t, hidden, fit, order[lo:hi])
			if err != nil {
				return nil, errors.Wrapf(err, "cross-validating hidden layers [%s], fold %d", ints(hidden), f+1)
			}
			losses[f] = loss
		}
		means[c], ses[c] = meanSE(losses)
		fmt.Fprintf(stderr, "hidden [%s]: held-out loss %.4f ± %.4f over %d folds\n", ints(hidden), means[c], ses[c], folds)
		if means[c] < means[best] {
			best = c
		}
	}
	// The one-standard-error rule (Breiman et al. 1984; glmnet's
	// lambda.1se): the simplest candidate within one standard error of the
	// best, since a difference smaller than the folds' spread is noise, and
	// on noise the simpler model generalizes better.
	chosen := best
	for c := range Candidates {
		if means[c] <= means[best]+ses[best] {
			chosen = c
			break
		}
	}
	fmt.Fprintf(stderr, "hidden layers chosen: [%s] (the simplest within one standard error of the best)\n", ints(Candidates[chosen]))
	return Candidates[chosen], nil
}

// meanSE returns the mean of v and its standard error, s/√n with s the
// sample standard deviation.
func meanSE(v []float64) (mean, se float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/float64(len(v)-1)) / math.Sqrt(float64(len(v)))
}

// foldLoss trains one candidate on the fit rows and returns its loss on the
// held-out rows.
func foldLoss(ctx context.Context, o Options, t *tabular.Table, hidden, fit, held []int) (float64, error) {
	trainIdx, valIdx, err := splitRows(len(fit), o.ValFraction, true, o.Seed, streamValRows)
	if err != nil {
		return 0, err
	}
	trainRows, valRows := pick(fit, trainIdx), pick(fit, valIdx)
	enc, err := fitEncoder(t, trainRows, o, nil)
	if err != nil {
		return 0, err
	}
	src, _, err := encodeRows(enc, t, trainRows, o.Batch)
	if err != nil {
		return 0, err
	}
	test, _, err := encodeRows(enc, t, held, 256)
	if err != nil {
		return 0, err
	}
	var val datasets.Source
	if len(valRows) > 0 {
		if val, _, err = encodeRows(enc, t, valRows, 256); err != nil {
			return 0, err
		}
	}
	c := o
	c.Hidden = hidden
	arch, err := tabularArch(c, enc)
	if err != nil {
		return 0, err
	}
	m, err := graph.NewModel(arch, graph.Float32, rand.New(rand.NewPCG(o.Seed, 1)))
	if err != nil {
		return 0, err
	}
	opt, err := optim.New(o.optimizer())
	if err != nil {
		return 0, err
	}
	// A batch larger than the rows would compile a program no batch fills.
	cfg := train.Config{Batch: min(o.Batch, len(trainRows)), Epochs: o.Epochs, Seed: o.Seed}
	if o.Patience > 0 {
		cfg.Callbacks = []train.Callback{&train.EarlyStopping{Patience: o.Patience, RestoreBest: true}}
	}
	tr, err := train.New(m, opt, cfg)
	if err != nil {
		return 0, err
	}
	defer tr.Close()
	if err := tr.Fit(ctx, src, val); err != nil {
		return 0, err
	}
	r, err := train.Evaluate(m, test)
	if err != nil {
		return 0, err
	}
	return r.Loss, nil
}
