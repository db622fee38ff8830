// Package report implements the evaluation report of a training run: a
// confusion matrix with per-class precision and recall as text, and PNG
// figures of the confusion matrix and of the training curves.
//
// The shortest use:
//
//	c, err := report.NewConfusion(10, labels, predicted)
//	if err != nil {
//		return err
//	}
//	fmt.Print(c.Text())
//	err = c.WritePNG("confusion.png", "MNIST test set")
//	...
//	err = report.WriteCurvesPNG("curves.png", history, "accuracy", "mlp 512-512")
//
// Figures are drawn with gonum.org/v1/plot, which embeds its fonts, so no
// system fonts are needed. Every file is written atomically: a temporary file
// in the same folder is written, synced and renamed over the target, so a
// crash or an error never leaves a half-written or clobbered figure.
package report
