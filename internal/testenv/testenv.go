// Package testenv holds what the tests of several packages need from their
// environment: waiting for a condition that has no event to wait on, and
// skipping when a tool the test drives (Redis, Chromium, LibreOffice,
// xmllint, Node) is missing — except in CI, where a missing tool is a
// failure, so that a test that cannot run never passes silently.
package testenv

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI: the CI environment variable is
// set to "true" (as GitHub Actions and most CI systems do, and .ci/run).
func InCI() bool { return os.Getenv("CI") == "true" }

// MissingTool skips t because a tool it needs is missing, saying why; in CI
// it fails t instead, since CI installs every tool the tests need.
func MissingTool(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("CI=true and a tool the test needs is missing: %s", why)
	}
	t.Skip(why)
}

// Timeout is how long Until waits before it fails the test: long enough for
// a machine busy with other test runs, short enough that a condition that
// never holds fails the test rather than the package's -timeout.
const Timeout = 30 * time.Second

// Until polls cond until it holds and fails t, naming what it waited for,
// after Timeout. It is for conditions that have no event to wait on (a
// state inside another process, a file, a queue's length); where there is
// a channel or a callback, wait on that instead. It polls after 1 ms, then
// less and less often, up to every MaxPoll, so that a condition that takes
// seconds (a Redis failover) is not asked thousands of times.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	UntilWithin(t, Timeout, what, cond)
}

// MaxPoll is the longest wait between two polls of Until.
const MaxPoll = 50 * time.Millisecond

// UntilWithin is Until with its own deadline, for a test whose meaning is
// that the condition holds within a bound.
func UntilWithin(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, MaxPoll) {
		if !time.Now().Before(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		timer := time.NewTimer(min(wait, time.Until(deadline)))
		<-timer.C
	}
}
