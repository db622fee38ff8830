//go:build linux && race

package memlimit

// raceFactor multiplies the budget under the race detector, whose shadow memory takes
// address space in proportion to the heap: about twice the heap, and more for its
// metadata, so four times the budget leaves the load the room it has without it.
const raceFactor = 4
