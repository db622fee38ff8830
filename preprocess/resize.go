package preprocess

import "math"

// resize resamples p to w x h with a triangle (bilinear) filter widened by the
// reduction factor when shrinking, so that every source pixel contributes to the
// output in proportion to its overlap: antialiased like the area averaging that
// prepared MNIST, and smooth rather than blocky when a small digit is enlarged. This
// is the scheme of Pillow's Image.resize with BILINEAR.
func resize(p plane, w, h int) plane {
	xw := weights(p.w, w)
	yw := weights(p.h, h)
	// Rows first (p.h x w), then columns (h x w).
	rows := newPlane(w, p.h)
	for y := 0; y < p.h; y++ {
		src := p.pix[y*p.w : (y+1)*p.w]
		for x, tw := range xw {
			rows.pix[y*w+x] = tw.apply(func(i int) float32 { return src[i] })
		}
	}
	out := newPlane(w, h)
	for y, tw := range yw {
		for x := 0; x < w; x++ {
			out.pix[y*w+x] = tw.apply(func(i int) float32 { return rows.pix[i*w+x] })
		}
	}
	return out
}

// taps are the normalized filter weights of one output pixel over source pixels
// first, first+1, ...
type taps struct {
	first int
	w     []float64
}

func (t taps) apply(src func(int) float32) float32 {
	var sum float64
	for i, w := range t.w {
		sum += w * float64(src(t.first+i))
	}
	// The weights sum to 1, so the result stays within the source's [0, 1] but for
	// rounding, which must not let ink exceed 1.
	return float32(min(1, max(0, sum)))
}

// weights returns the taps of each of out output pixels resampling in source pixels.
// Pixel i covers [i, i+1) and has its centre at i+0.5 on both grids.
func weights(in, out int) []taps {
	ratio := float64(in) / float64(out)
	support := max(1, ratio) // the triangle's half-width, in source pixels
	ts := make([]taps, out)
	for i := range ts {
		c := (float64(i) + 0.5) * ratio
		first := max(0, int(math.Floor(c-support)))
		last := min(in-1, int(math.Ceil(c+support)))
		t := taps{first: first}
		var sum float64
		for j := first; j <= last; j++ {
			w := max(0, 1-math.Abs(float64(j)+0.5-c)/support)
			t.w = append(t.w, w)
			sum += w
		}
		for k := range t.w {
			t.w[k] /= sum
		}
		ts[i] = t
	}
	return ts
}
