//go:build race

package ot

// raceEnabled is true under the race detector, which makes the long trace
// replays ten times slower.
const raceEnabled = true
