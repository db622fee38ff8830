// Package fileio holds tapestry's ground-floor file helpers: the one atomic
// writer that every package uses for a file it must never leave half
// written (checkpoints, config.json, metrics.jsonl, figures).
//
//	err := fileio.WriteFile("runs/x/config.json", data, 0o644)
package fileio
