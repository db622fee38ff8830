// Package train fits graph models. A Trainer runs an optimizer over the
// batches of a Source, one epoch at a time, validating after each, and
// saves and restores everything an exact resume needs: the model's weights,
// the optimizer's state, the position inside the epoch, the history, and
// the states of the generators that order the examples and draw the dropout
// masks.
//
//	t, err := train.New(model, opt, train.Config{Batch: 128, Epochs: 10, Seed: 1})
//	err = t.Fit(ctx, trainSet, valSet)   // stops cleanly when ctx is done
//	err = t.Save("last.safetensors")
//
// and later, exactly where it stopped:
//
//	ck, err := checkpoint.Load("last.safetensors")
//	t, err := train.New(model, opt, cfg) // same architecture, optimizer, config
//	err = t.Restore(ck)
//	err = t.Fit(ctx, trainSet, valSet)
package train
