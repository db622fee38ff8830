//go:build linux && !race

package memlimit

// raceFactor is 1 without the race detector: the budget is the budget.
const raceFactor = 1
