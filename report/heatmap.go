package report

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// figureMargin is the white border around a figure, so nothing touches the
// image edge when a plot has no title.
const figureMargin = 8 // points

// figureDPI renders figures at 1.5× the usual 96 dpi so that small labels
// stay legible when the PNG is viewed at full size.
const figureDPI = 144

// WritePNG draws the matrix as a heat map to a PNG file at path: true classes
// down the Y axis (class 0 at the top), predicted classes along the X axis,
// the count written in each cell, and a colour scale beside it.
//
// Colours follow log(1+count): at 98% accuracy the diagonal holds hundreds of
// samples per class and the errors a handful, so on a linear scale every
// error cell would be as white as an empty one. The file is written
// atomically; on error an existing file at path is left untouched.
func (c *Confusion) WritePNG(path string, title string) error {
	if err := c.check(); err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	data, err := c.renderPNG(title)
	if err != nil {
		return errors.Wrapf(err, "drawing %s", path)
	}
	return fileio.WriteFile(path, data, 0o644)
}

// check reports whether c has the shape NewConfusion gives, so that a
// hand-made matrix gives an error rather than a panic while drawing.
func (c *Confusion) check() error {
	if c.Classes < 1 || c.Classes > maxClasses {
		return errors.Errorf("confusion matrix: %d classes, want 1 to %d", c.Classes, maxClasses)
	}
	if len(c.Counts) != c.Classes {
		return errors.Errorf("confusion matrix: %d rows for %d classes", len(c.Counts), c.Classes)
	}
	for t, row := range c.Counts {
		if len(row) != c.Classes {
			return errors.Errorf("confusion matrix: row %d has %d columns for %d classes", t, len(row), c.Classes)
		}
		for p, v := range row {
			if v < 0 {
				return errors.Errorf("confusion matrix: Counts[%d][%d] = %d is negative", t, p, v)
			}
		}
	}
	return nil
}

// cells is the plot.Plotter of the coloured cells: column = predicted
// class, row = true class (row 0 on top), colour = blues at
// log(1+count)/top.
//
// It paints one image with a pixel per output pixel rather than one filled
// rectangle per cell as plotter.HeatMap does: that is as sharp, takes
// constant time in the number of classes (HeatMap needs about 15 s at 1000
// classes), and adds no glyph boxes (HeatMap reserves ±5 pt around every
// cell centre, which pads small cells away from the axes).
type cells struct {
	c   *Confusion
	top float64
}

// DataRange implements plot.DataRanger: cell k spans [k-0.5, k+0.5].
func (g cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	hi := float64(g.c.Classes) - 0.5
	return -0.5, hi, -0.5, hi
}

// Plot implements plot.Plotter.
func (g cells) Plot(dc draw.Canvas, p *plot.Plot) {
	n := g.c.Classes
	pal := blues.Colors()
	colors := make([]color.Color, n*n)
	for t, row := range g.c.Counts {
		for q, v := range row {
			colors[t*n+q] = pal[int(math.Log1p(float64(v))/g.top*float64(len(pal)-1)+0.5)]
		}
	}
	trX, trY := p.Transforms(&dc)
	x0, x1 := trX(-0.5), trX(float64(n)-0.5)
	y0, y1 := trY(-0.5), trY(float64(n)-0.5) // y0 > y1: row 0 is on top
	rect := vg.Rectangle{Min: vg.Point{X: x0, Y: min(y0, y1)}, Max: vg.Point{X: x1, Y: max(y0, y1)}}

	// One image pixel per device pixel when the canvas has a resolution;
	// one per cell otherwise (vector formats scale it).
	w, h := n, n
	if r, ok := innermost(dc.Canvas).(interface{ DPI() float64 }); ok {
		w = max(1, int(math.Round(float64(rect.Max.X-rect.Min.X)/vg.Inch.Points()*r.DPI())))
		h = max(1, int(math.Round(float64(rect.Max.Y-rect.Min.Y)/vg.Inch.Points()*r.DPI())))
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for py := range h {
		t := py * n / h // image row 0 is drawn at the top
		for px := range w {
			img.Set(px, py, colors[t*n+px*n/w])
		}
	}
	dc.DrawImage(rect, img)
}

// innermost returns the device canvas under the draw.Canvas layers that
// plot.Plot wraps around it when it crops.
func innermost(c vg.Canvas) vg.Canvas {
	for {
		switch d := c.(type) {
		case draw.Canvas:
			c = d.Canvas
		case *draw.Canvas:
			c = d.Canvas
		default:
			return c
		}
	}
}

// blues is the colour scale, white to dark blue: ColorBrewer's 9-class
// sequential "Blues" (Cynthia Brewer, colorbrewer2.org), interpolated.
var blues = ramp(brewer.Blues[9].Colors())

// ramp holds the stops of a colour scale, evenly spaced over [0, 1].
type ramp []color.Color

// at returns the colour at t in [0, 1], linearly interpolated in RGB.
func (r ramp) at(t float64) color.Color {
	t = math.Max(0, math.Min(1, t))
	x := t * float64(len(r)-1)
	i := min(int(x), len(r)-2)
	f := x - float64(i)
	r0, g0, b0, _ := r[i].RGBA()
	r1, g1, b1, _ := r[i+1].RGBA()
	mix := func(a, b uint32) uint8 { return uint8((float64(a)*(1-f) + float64(b)*f) / 257) }
	return color.NRGBA{R: mix(r0, r1), G: mix(g0, g1), B: mix(b0, b1), A: 255}
}

// Colors samples the ramp at even steps (so a ramp is a palette.Palette).
func (r ramp) Colors() []color.Color {
	const steps = 256 // finer than the eye tells apart
	cs := make([]color.Color, steps)
	for i := range cs {
		cs[i] = r.at(float64(i) / (steps - 1))
	}
	return cs
}

// darkFrom is the colour-scale position past which a cell is dark enough to
// need white text; below it black text reads better.
const darkFrom = 0.55

func (c *Confusion) renderPNG(title string) ([]byte, error) {
	n := c.Classes
	maxCount := 0
	for _, row := range c.Counts {
		for _, v := range row {
			maxCount = max(maxCount, v)
		}
	}
	// The top of the scale; at least log(2) so an empty matrix still has a
	// range (it draws all white).
	top := math.Log1p(float64(max(maxCount, 1)))

	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	p.X.Padding, p.Y.Padding = 0, 0
	// Row 0 on top, as the matrix reads in text.
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	p.Add(cells{c: c, top: top})

	// The data area is square and about a quarter inch a class, between
	// 5 in (few classes still get big cells) and 16 in.
	side := vg.Length(math.Max(5, math.Min(16, 0.25*float64(n)))) * vg.Inch
	cell := side / vg.Length(n)
	// Label every class while labels stay 20 pt apart (room for "99"),
	// otherwise every 2nd, 5th, 10th, … class.
	step := roundStep(int(math.Ceil(float64(vg.Points(20) / cell))))
	p.X.Tick.Marker = classTicks(n, step)
	p.Y.Tick.Marker = classTicks(n, step)

	// Measure the margins plot.Plot needs around the data area, on a
	// canvas that records nothing of use, to size the figure exactly.
	probe := vg.Length(20) * vg.Inch
	pc := draw.Canvas{Canvas: new(recorder.Canvas), Rectangle: vg.Rectangle{Max: vg.Point{X: probe, Y: probe}}}
	pda := p.DataCanvas(pc)
	marginX := probe - (pda.Max.X - pda.Min.X)
	marginY := probe - (pda.Max.Y - pda.Min.Y)

	bar := newColorScale(maxCount, top)
	width := marginX + side + bar.width() + 2*figureMargin
	height := marginY + side + 2*figureMargin
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(figureDPI))
	dc := draw.Crop(draw.New(img), figureMargin, -figureMargin, figureMargin, -figureMargin)
	hc := draw.Crop(dc, 0, -bar.width(), 0, 0)
	da := p.DataCanvas(hc)

	if lbl := cellLabels(c, da, top); lbl != nil {
		p.Add(lbl)
	}
	p.Draw(hc)
	bar.draw(dc, da)

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, errors.Wrap(err, "encoding PNG")
	}
	return buf.Bytes(), nil
}

// cellLabels writes each count in its cell, sized so the widest count fills
// at most 80% of a cell's width; nil when that would be too small to read.
func cellLabels(c *Confusion, da draw.Canvas, top float64) *plotter.Labels {
	n := c.Classes
	cell := math.Min(float64(da.Max.X-da.Min.X), float64(da.Max.Y-da.Min.Y)) / float64(n)
	widest := "0"
	xys := make(plotter.XYs, 0, n*n)
	strs := make([]string, 0, n*n)
	for t, row := range c.Counts {
		for p, v := range row {
			s := strconv.Itoa(v)
			if len(s) > len(widest) {
				widest = s
			}
			xys = append(xys, plotter.XY{X: float64(p), Y: float64(t)})
			strs = append(strs, s)
		}
	}
	style := text.Style{
		Font:    font.From(plot.DefaultFont, vg.Points(10)),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}
	size := 10 * math.Min(0.8*cell/float64(style.Width(widest)), 0.45*cell/10)
	size = math.Min(size, 12) // big cells need no shouting
	if size < 5 {
		return nil
	}
	style.Font.Size = vg.Points(size)
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: strs})
	if err != nil {
		// Cells are finite integer coordinates; NewLabels cannot fail.
		panic(err)
	}
	for i := range lbl.TextStyle {
		s := style
		v := c.Counts[i/n][i%n]
		switch {
		case v == 0:
			s.Color = color.Gray{Y: 0xA8} // empty cells recede
		case math.Log1p(float64(v))/top > darkFrom:
			s.Color = color.White
		default:
			s.Color = color.Black
		}
		lbl.TextStyle[i] = s
	}
	return lbl
}

// colorScale is the bar beside the heat map that maps colours to counts.
type colorScale struct {
	top   float64 // log(1+count) at the top of the bar
	ticks []int   // counts marked on the bar
	label text.Style
	title text.Style
}

const (
	barGap   = 14 * vg.Millimeter / 4 // data area to bar
	barWidth = 6 * vg.Millimeter
	tickLen  = 1.5 * vg.Millimeter
)

func newColorScale(maxCount int, top float64) colorScale {
	// 0, then the powers of ten up to maxCount, then maxCount itself unless
	// it would crowd the last power (closer than 10% of the bar). An empty
	// matrix still gets a bar from 0 to 1.
	maxCount = max(maxCount, 1)
	ticks := []int{0}
	for d := 1; d <= maxCount; d *= 10 {
		ticks = append(ticks, d)
	}
	last := ticks[len(ticks)-1]
	if maxCount > last && (math.Log1p(float64(maxCount))-math.Log1p(float64(last)))/top > 0.1 {
		ticks = append(ticks, maxCount)
	}
	base := text.Style{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, vg.Points(10)),
		XAlign:  draw.XLeft,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}
	title := base
	title.XAlign = draw.XCenter
	title.Rotation = math.Pi / 2
	return colorScale{top: top, ticks: ticks, label: base, title: title}
}

const barTitle = "count (log scale)"

// width is the horizontal room the bar, its labels and its title take.
func (s colorScale) width() vg.Length {
	var lw vg.Length
	for _, t := range s.ticks {
		lw = max(lw, s.label.Width(strconv.Itoa(t)))
	}
	return barGap + barWidth + tickLen + 2 + lw + 8 + s.title.Height(barTitle) + 10
}

// draw paints the bar to the right of the data area da, spanning its height.
func (s colorScale) draw(dc draw.Canvas, da draw.Canvas) {
	x0 := da.Max.X + barGap
	x1 := x0 + barWidth
	y0, y1 := da.Min.Y, da.Max.Y
	const bands = 128 // smooth to the eye at this bar height
	h := (y1 - y0) / bands
	for i := range bands {
		y := y0 + vg.Length(i)*h
		dc.SetColor(blues.at((float64(i) + 0.5) / bands))
		// Each band overlaps the next by a hair so no seams show.
		dc.Fill(rect(x0, y, x1, y+h+0.3))
	}
	frame := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	dc.StrokeLines(frame, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
	var lw vg.Length
	for _, t := range s.ticks {
		y := y0 + (y1-y0)*vg.Length(math.Log1p(float64(t))/s.top)
		dc.StrokeLine2(frame, x1, y, x1+tickLen, y)
		str := strconv.Itoa(t)
		dc.FillText(s.label, vg.Point{X: x1 + tickLen + 2, Y: y}, str)
		lw = max(lw, s.label.Width(str))
	}
	dc.FillText(s.title, vg.Point{X: x1 + tickLen + 2 + lw + 8 + s.title.Height(barTitle)/2, Y: (y0 + y1) / 2}, barTitle)
}

func rect(x0, y0, x1, y1 vg.Length) vg.Path {
	var p vg.Path
	p.Move(vg.Point{X: x0, Y: y0})
	p.Line(vg.Point{X: x1, Y: y0})
	p.Line(vg.Point{X: x1, Y: y1})
	p.Line(vg.Point{X: x0, Y: y1})
	p.Close()
	return p
}
