package report

import (
	"bytes"
	"image/color"
	"math"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/tapestry-ml/tapestry/internal/fileio"
)

// Epoch is one point of a training history: the losses and one metric of
// the task (an accuracy as a fraction in [0, 1], an R², an error) over the
// training batches and the validation set. The validation figures are NaN
// when the run had none.
type Epoch struct {
	Epoch       int
	TrainLoss   float64
	ValLoss     float64
	TrainMetric float64
	ValMetric   float64
}

// Colours of the series: the Tableau 10 blue and orange, told apart by
// readers with the common forms of colour blindness.
var (
	trainColor = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 255}
	valColor   = color.NRGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 255}
)

// WriteCurvesPNG draws a training history to a PNG file at path: on the
// left the training and validation loss per epoch, on the right the named
// metric per epoch ("accuracy" in percent). Every epoch is drawn as a point
// joined by lines, so a history of one epoch shows. Points that are not
// finite (validation figures without validation, a diverged loss) are left
// out. The file is written atomically; on error an existing file at path is
// left untouched.
func WriteCurvesPNG(path string, hist []Epoch, metric, title string) error {
	data, err := renderCurves(hist, metric, title)
	if err != nil {
		return errors.Wrapf(err, "drawing %s", path)
	}
	return fileio.WriteFile(path, data, 0o644)
}

func renderCurves(hist []Epoch, metric, title string) ([]byte, error) {
	if len(hist) == 0 {
		return nil, errors.New("training history is empty")
	}
	scale, label := 1.0, metric
	percent := strings.HasSuffix(metric, "accuracy")
	if percent {
		scale, label = 100, metric+" (%)"
	}
	loss := series(hist, func(e Epoch) float64 { return e.TrainLoss })
	valLoss := series(hist, func(e Epoch) float64 { return e.ValLoss })
	trainAcc := series(hist, func(e Epoch) float64 { return scale * e.TrainMetric })
	valAcc := series(hist, func(e Epoch) float64 { return scale * e.ValMetric })
	if len(loss)+len(trainAcc)+len(valAcc) == 0 {
		return nil, errors.Errorf("training history of %d epochs has no finite loss or %s", len(hist), metric)
	}

	left := curvePlot("loss", "loss")
	if err := addSeries(left, loss, "train", trainColor, draw.CircleGlyph{}); err != nil {
		return nil, err
	}
	if err := addSeries(left, valLoss, "validation", valColor, draw.TriangleGlyph{}); err != nil {
		return nil, err
	}
	// Loss falls, so its top right is empty; accuracy rises, so its bottom
	// right is. The offsets keep the legends off the axes.
	left.Legend.Top = true
	left.Legend.XOffs, left.Legend.YOffs = -legendInset, -legendInset

	right := curvePlot(metric, label)
	if err := addSeries(right, trainAcc, "train", trainColor, draw.CircleGlyph{}); err != nil {
		return nil, err
	}
	if err := addSeries(right, valAcc, "validation", valColor, draw.TriangleGlyph{}); err != nil {
		return nil, err
	}
	right.Legend.XOffs, right.Legend.YOffs = -legendInset, legendInset
	widenFlat(&left.Y)
	accMax := right.Y.Max
	widenFlat(&right.Y)
	if percent && accMax <= 100 {
		right.Y.Max = math.Min(right.Y.Max, 100) // a flat 100% widens to 95–100, not to 105
	}

	const width, height = 10 * vg.Inch, 4 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(figureDPI))
	dc := draw.New(img)
	if title != "" {
		style := text.Style{
			Color:   color.Black,
			Font:    font.From(plot.DefaultFont, vg.Points(14)),
			XAlign:  draw.XCenter,
			YAlign:  draw.YTop,
			Handler: plot.DefaultTextHandler,
		}
		const pad = 8
		dc.FillText(style, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - pad}, title)
		dc = draw.Crop(dc, 0, 0, 0, -(style.Height(title) + 2*pad))
	}
	plots := [][]*plot.Plot{{left, right}}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Inch / 2, PadLeft: 6, PadRight: 12, PadTop: 6, PadBottom: 6}
	canvases := plot.Align(plots, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, errors.Wrap(err, "encoding PNG")
	}
	return buf.Bytes(), nil
}

// widenFlat gives an axis whose data are one value (one epoch, or a flat
// curve) a range of ±5% around it; plot.Plot would use ±1, which puts a loss
// of 0.3 on an axis from -1 to 1.5.
func widenFlat(a *plot.Axis) {
	if a.Min != a.Max {
		return
	}
	pad := 0.05 * math.Abs(a.Min)
	if pad == 0 {
		pad = 0.05 // a flat zero loss: any small range shows it
	}
	a.Min -= pad
	a.Max += pad
}

// legendInset is how far a legend sits inside the corner of its panel.
const legendInset = 8 // points

// series collects (epoch, f(epoch)) for the epochs where f is finite.
func series(hist []Epoch, f func(Epoch) float64) plotter.XYs {
	var xys plotter.XYs
	for _, e := range hist {
		y := f(e)
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: float64(e.Epoch), Y: y})
	}
	return xys
}

func curvePlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = plot.TickerFunc(epochTicks)
	p.Y.Tick.Marker = plot.TickerFunc(niceTicks)
	p.Y.AutoRescale = true // end the axis on a labelled tick
	p.Add(plotter.NewGrid())
	return p
}

// addSeries adds a line with a marker at each point, and its legend entry;
// an empty series adds nothing.
func addSeries(p *plot.Plot, xys plotter.XYs, name string, c color.Color, shape draw.GlyphDrawer) error {
	if len(xys) == 0 {
		return nil
	}
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return errors.Wrapf(err, "plotting %s", name)
	}
	line.Color = c
	line.Width = vg.Points(1.5)
	points.Color = c
	points.Shape = shape
	points.Radius = vg.Points(3)
	p.Add(line, points)
	p.Legend.Add(name, line, points)
	return nil
}
