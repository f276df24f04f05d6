package server_test

import (
	"testing"
	"time"
)

// waitUntil polls cond until it holds, failing the test with what after
// thirty seconds: a wait for a condition, not for a duration.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
