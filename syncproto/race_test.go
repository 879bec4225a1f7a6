//go:build race

package syncproto

// The race detector changes escape analysis, so allocation counts mean nothing under it.
func init() { raceEnabled = true }
