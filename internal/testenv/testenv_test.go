package testenv

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestUntilWaitsForTheCondition: Until returns once the condition holds,
// polling it more than once when it does not hold at first.
func TestUntilWaitsForTheCondition(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	Until(t, "the third call", func() bool { return calls.Add(1) >= 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
}

// fakeTB records what a test helper did to its test.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = format
	panic(f)
}
func (f *fakeTB) Skip(args ...any) {
	f.skip = "skip"
	panic(f)
}

// run calls fn with a fakeTB and returns it after fn failed or skipped it.
func run(fn func(tb testing.TB)) (f *fakeTB) {
	f = &fakeTB{}
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
	}()
	fn(f)
	return f
}

// TestUntilWithinFails: a condition that never holds fails the test after
// the deadline.
func TestUntilWithinFails(t *testing.T) {
	t.Parallel()
	f := run(func(tb testing.TB) { UntilWithin(tb, 10*time.Millisecond, "never", func() bool { return false }) })
	if f.fatal == "" {
		t.Fatal("UntilWithin returned without failing on a condition that never holds")
	}
}

// TestMissingTool skips outside CI and fails in CI.
func TestMissingTool(t *testing.T) {
	t.Setenv("CI", "")
	if f := run(func(tb testing.TB) { MissingTool(tb, "no %s", "tool") }); f.skip == "" || f.fatal != "" {
		t.Errorf("outside CI: skip %q fatal %q, want a skip", f.skip, f.fatal)
	}
	t.Setenv("CI", "true")
	if f := run(func(tb testing.TB) { MissingTool(tb, "no %s", "tool") }); f.fatal == "" || f.skip != "" {
		t.Errorf("in CI: skip %q fatal %q, want a failure", f.skip, f.fatal)
	}
}
