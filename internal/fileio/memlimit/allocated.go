package memlimit

import "runtime"

// Allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc
// over the call): what a test shows a reader did not ask for on a hostile
// file's word, in the process itself rather than under a limit.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
