//go:build race

package kitchen_test

// The race detector changes what escapes, so allocation counts are only
// checked without it.
func init() { raceEnabled = true }
