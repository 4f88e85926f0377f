//go:build race

package ethtool_test

// The race detector changes what escapes, so allocation counts are only
// checked without it.
func init() { raceEnabled = true }
