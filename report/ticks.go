package report

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// roundStep rounds a label step up to 1, 2 or 5 times a power of ten, so
// labelled classes are ones a reader counts in.
func roundStep(s int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= s {
				return m * p
			}
		}
	}
}

// classTicks labels every step-th class 0..n-1, and marks the rest.
func classTicks(n, step int) plot.Ticker {
	ticks := make(plot.ConstantTicks, n)
	for k := range ticks {
		ticks[k].Value = float64(k)
		if k%step == 0 {
			ticks[k].Label = strconv.Itoa(k)
		}
	}
	return ticks
}

// epochTicks marks whole epochs only, with a step of 1, 2 or 5 times a
// power of ten so that at most ten are labelled.
func epochTicks(lo, hi float64) []plot.Tick {
	step := roundStep(int(math.Ceil((hi - lo) / 10)))
	var ticks []plot.Tick
	for v := int(math.Ceil(lo/float64(step))) * step; float64(v) <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: float64(v), Label: strconv.Itoa(v)})
	}
	return ticks
}

// niceTicks labels about five to ten values spaced by 1, 2 or 5 times a power
// of ten, from the last such value at or below lo to the first at or above
// hi, so that with Axis.AutoRescale the axis ends on labels. gonum's
// DefaultTicks aims at three labels, too few to read a curve against.
func niceTicks(lo, hi float64) []plot.Tick {
	const most = 8 // intervals at most
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	mag := math.Pow10(int(math.Floor(math.Log10(span / most))))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if span/(m*mag) <= most {
			step = m * mag
			break
		}
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	first := math.Floor(lo/step+1e-9) * step
	var ticks []plot.Tick
	// The bound only matters where float rounding makes the steps uneven
	// (values near 1e17 with a span of a few units).
	for i := 0; i <= most+2; i++ {
		v := first + float64(i)*step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		if v >= hi-1e-9*step {
			break
		}
	}
	return ticks
}
