//go:build race

package genl_test

// The race detector changes what escapes and how big the heap is, so heap
// figures are only checked without it.
func init() { raceEnabled = true }
