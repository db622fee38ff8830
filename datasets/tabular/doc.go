// Package tabular turns a CSV file into training data: the columns typed,
// numbers standardized and text one-hot encoded with statistics of the
// training rows alone, the task (classification or regression) read off the
// target column, and an Encoder that is saved with the model so that a row
// to predict is encoded the same way and the model's output decoded.
//
// The shortest use:
//
//	t, err := tabular.Read("houses.csv")
//	train, test, err := tabular.SplitRows(t.Len(), 0.2, rand.New(rand.NewPCG(seed, 0)))
//	enc, err := tabular.Fit(t, train, tabular.Config{Target: "price"})
//	d, err := enc.Encode(t, train) // a *datasets.Dataset: features [n, enc.Width()]
//	batches, err := d.Batches(64, false)
//	meta, err := json.Marshal(enc) // store with the checkpoint
//	x, err := enc.EncodeRow(map[string]string{"rooms": "3", "town": "Leeds"})
//	out, err := model.Predict(x)
//	price, err := enc.Value(out[0]) // the model's standardized output, in the target's unit
//
// A regression's targets are standardized like the features, so a model
// trained on them predicts, and train's loss and metrics measure, in
// standard deviations of the target: Encoder.Value turns a prediction back
// into the target's unit, and MSE and MAE scale by Target().Std squared and
// by Target().Std (cmd/train's last line does so; R² is the same in both).
//
// A column's kind is read off its training cells: numbers make a Numeric
// column, text a Categorical one; Config.Categorical declares a column of
// codes (a postcode, a product number) categorical whatever its cells. A
// column of numbers in which at most a tenth of the cells are not
// (MaxStrayPercent: "1.5x" among 200 numbers) is an error naming them, as
// such a cell is a mistake far more often than text: correct it, or declare
// the column categorical.
//
// Nothing is guessed silently. A missing value (an empty cell, NA, N/A,
// NaN, null or ?) is an error, not imputed; so is a category or class the
// training rows did not have. Every error about a cell names the file, the
// line as an editor counts it (a quoted field may span lines) and the
// column.
package tabular
