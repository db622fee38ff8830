package graph

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// An Initializer fills a new parameter tensor. fanIn and fanOut are the
// number of inputs and outputs of one unit, which the variance-scaling
// initializers need. Gorgonia's own initializers are seeded from the clock
// and HeN/HeU panic on float32 (docs/GORGONIA.md#initializers-are-seeded-from-the-clock), so these draw from the
// run's seeded rng.
type Initializer interface {
	Fill(rng *rand.Rand, t *tensor.Dense, fanIn, fanOut int) error
}

// Fans derives fan-in and fan-out from a parameter's shape: [in, out] for a
// dense weight; [out, in, kH, kW] for a convolution kernel; a vector has
// fan-in and fan-out equal to its length.
func Fans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 1:
		return shape[0], shape[0]
	case 2:
		return shape[0], shape[1]
	default:
		receptive := 1
		for _, d := range shape[2:] {
			receptive *= d
		}
		return shape[1] * receptive, shape[0] * receptive
	}
}

// Zeros initializes to 0.
type Zeros struct{}

// Constant initializes every element to V.
type Constant struct{ V float64 }

// Uniform draws from U(Low, High).
type Uniform struct{ Low, High float64 }

// GlorotUniform draws from U(−a, a) with a = √(6/(fanIn+fanOut)) (Glorot &
// Bengio 2010), Keras's default for dense and convolution kernels.
type GlorotUniform struct{}

// GlorotNormal draws from N(0, 2/(fanIn+fanOut)).
type GlorotNormal struct{}

// HeUniform draws from U(−a, a) with a = √(6/fanIn) (He et al. 2015).
type HeUniform struct{}

// HeNormal draws from N(0, 2/fanIn) (He et al. 2015).
type HeNormal struct{}

// Fill implements Initializer.
func (Zeros) Fill(_ *rand.Rand, t *tensor.Dense, _, _ int) error { t.Zero(); return nil }

// Fill implements Initializer.
func (c Constant) Fill(_ *rand.Rand, t *tensor.Dense, _, _ int) error {
	return fillWith(t, func() float64 { return c.V })
}

// Fill implements Initializer.
func (u Uniform) Fill(rng *rand.Rand, t *tensor.Dense, _, _ int) error {
	if !(u.High >= u.Low) {
		return errors.Errorf("uniform initializer: high %v < low %v", u.High, u.Low)
	}
	return uniform(rng, t, u.Low, u.High)
}

// Fill implements Initializer.
func (GlorotUniform) Fill(rng *rand.Rand, t *tensor.Dense, fanIn, fanOut int) error {
	a := math.Sqrt(6 / float64(fanIn+fanOut))
	return uniform(rng, t, -a, a)
}

// Fill implements Initializer.
func (GlorotNormal) Fill(rng *rand.Rand, t *tensor.Dense, fanIn, fanOut int) error {
	return normal(rng, t, math.Sqrt(2/float64(fanIn+fanOut)))
}

// Fill implements Initializer.
func (HeUniform) Fill(rng *rand.Rand, t *tensor.Dense, fanIn, _ int) error {
	a := math.Sqrt(6 / float64(fanIn))
	return uniform(rng, t, -a, a)
}

// Fill implements Initializer.
func (HeNormal) Fill(rng *rand.Rand, t *tensor.Dense, fanIn, _ int) error {
	return normal(rng, t, math.Sqrt(2/float64(fanIn)))
}

func uniform(rng *rand.Rand, t *tensor.Dense, lo, hi float64) error {
	if rng == nil {
		return errors.New("random initializer needs a *rand.Rand")
	}
	return fillWith(t, func() float64 { return lo + (hi-lo)*rng.Float64() })
}

func normal(rng *rand.Rand, t *tensor.Dense, std float64) error {
	if rng == nil {
		return errors.New("random initializer needs a *rand.Rand")
	}
	return fillWith(t, func() float64 { return std * rng.NormFloat64() })
}

func fillWith(t *tensor.Dense, f func() float64) error {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(f())
		}
	case []float64:
		for i := range d {
			d[i] = f()
		}
	default:
		return errors.Errorf("unsupported dtype %v", t.Dtype())
	}
	return nil
}
