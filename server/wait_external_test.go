package server_test

import (
	"testing"

	"github.com/draftroom/draftroom/internal/testenv"
)

// waitUntil polls cond until it holds, failing the test with what after
// testenv.Timeout: a wait for a condition that has no event to wait on,
// not for a duration.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testenv.Until(t, what, cond)
}
