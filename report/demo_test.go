package report

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestDemo renders the figures with realistic data to /tmp/report-demo for
// a person to look at; it runs only with REPORT_DEMO=1.
func TestDemo(t *testing.T) {
	if os.Getenv("REPORT_DEMO") != "1" {
		t.Skip("set REPORT_DEMO=1 to render /tmp/report-demo/*.png")
	}
	dir := "/tmp/report-demo"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := demoConfusion()
	t.Logf("\n%s", c.Text())
	if err := c.WritePNG(filepath.Join(dir, "confusion.png"), "MNIST test set, MLP 512-512"); err != nil {
		t.Fatal(err)
	}
	if err := WriteCurvesPNG(filepath.Join(dir, "curves.png"), demoHistory(10, true), "accuracy", "MLP 512-512, Adam lr 1e-3"); err != nil {
		t.Fatal(err)
	}
}

// mnistTestSupport is the number of images of each digit in the MNIST test
// set (LeCun et al.; they sum to 10,000).
var mnistTestSupport = [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}

// demoConfusion makes a 10-class matrix shaped like an MNIST evaluation at
// about 98% accuracy: each class keeps 98% of its samples and spreads the rest
// over a few confusable digits.
func demoConfusion() *Confusion {
	r := rand.New(rand.NewPCG(1, 2))
	var labels, predicted []int
	for k, n := range mnistTestSupport {
		for range n {
			p := k
			if r.Float64() < 0.02 { // 2% errors: ~98% accuracy
				// Errors go mostly to two look-alikes, as in real MNIST
				// matrices (4↔9, 3↔5, 7↔2 …).
				switch u := r.Float64(); {
				case u < 0.4:
					p = (k + 5) % 10
				case u < 0.7:
					p = (k + 2) % 10
				default:
					p = (k + 1 + r.IntN(9)) % 10
				}
			}
			labels = append(labels, k)
			predicted = append(predicted, p)
		}
	}
	c, err := NewConfusion(10, labels, predicted)
	if err != nil {
		panic(err)
	}
	return c
}

// demoHistory makes a plausible MLP-on-MNIST history: loss decaying from
// about 0.35, training accuracy rising towards 99.5%, validation towards 98%.
func demoHistory(epochs int, validation bool) []Epoch {
	h := make([]Epoch, epochs)
	for i := range h {
		x := float64(i)
		h[i] = Epoch{
			Epoch:       i + 1,
			TrainLoss:   0.02 + 0.33*math.Exp(-x/1.8),
			TrainMetric: 0.995 - 0.085*math.Exp(-x/1.6),
			ValLoss:     math.NaN(),
			ValMetric:   math.NaN(),
		}
		if validation {
			h[i].ValLoss = 0.06 + 0.25*math.Exp(-x/1.8)
			h[i].ValMetric = 0.981 - 0.03*math.Exp(-x/1.5) + 0.001*math.Sin(3*x)
		}
	}
	return h
}
