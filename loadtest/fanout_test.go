package loadtest

import (
	"sync"
	"testing"
	"time"
)

func TestTracker(t *testing.T) {
	epoch := time.Now()
	at := func(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }
	var all, last Histogram
	var commit Histogram
	tr := newTracker(epoch, &all, &last, &commit)
	tr.setWindow(100*time.Millisecond, 200*time.Millisecond)

	// Op (0,1) sent at 150 to 3 subscribers; one arrival precedes the send
	// event (the writer reports its send after writing the frame).
	k := opKey{writer: 0, seq: 1}
	tr.arrived(k, at(152).UnixMilli(), at(151))
	tr.sent(k, at(150), 3)
	tr.sent(k, at(170), 3) // a resend keeps the first send time
	tr.arrived(k, at(152).UnixMilli(), at(155))
	if last.Count() != 0 {
		t.Fatalf("last recorded before every subscriber got the op")
	}
	tr.arrived(k, at(152).UnixMilli(), at(160))
	if all.Count() != 3 || last.Count() != 1 {
		t.Fatalf("after 3 arrivals: all %d, last %d; want 3 and 1", all.Count(), last.Count())
	}
	if got := last.Max(); got != 10*time.Millisecond {
		t.Errorf("last = %v, want 10ms", got)
	}
	if got := all.Max(); got != 10*time.Millisecond {
		t.Errorf("all max = %v, want 10ms", got)
	}
	if got := commit.Max(); commit.Count() != 1 || got != 2*time.Millisecond {
		t.Errorf("send → commit stamp: %d samples, max %v; want 1, 2ms", commit.Count(), got)
	}

	// Outside the window: tracked, not recorded.
	k2 := opKey{writer: 1, seq: 1}
	tr.sent(k2, at(50), 1)
	tr.arrived(k2, at(152).UnixMilli(), at(60))
	// In the window, one of two subscribers never gets it.
	k3 := opKey{writer: 1, seq: 2}
	tr.sent(k3, at(190), 2)
	tr.arrived(k3, at(152).UnixMilli(), at(195))
	if all.Count() != 4 || last.Count() != 1 {
		t.Errorf("all %d, last %d; want 4 and 1", all.Count(), last.Count())
	}
	if n := tr.incomplete(); n != 1 {
		t.Errorf("incomplete = %d, want 1", n)
	}
	if d := tr.deliveries.Load(); d != 4 {
		t.Errorf("deliveries = %d, want 4", d)
	}
}

// TestTrackerConcurrent: many ops, each reaching many subscribers from
// different goroutines, in any order relative to the send: every op
// completes exactly once.
func TestTrackerConcurrent(t *testing.T) {
	epoch := time.Now()
	var all, last Histogram
	var commit Histogram
	tr := newTracker(epoch, &all, &last, &commit)
	tr.setWindow(0, time.Hour)
	const ops, subs = 500, 8
	var wg sync.WaitGroup
	for s := range subs {
		wg.Go(func() {
			for i := range ops {
				tr.arrived(opKey{writer: uint32(i % 7), seq: uint64(i)}, 0, epoch.Add(time.Duration(s+2)*time.Millisecond))
			}
		})
	}
	wg.Go(func() {
		for i := range ops {
			tr.sent(opKey{writer: uint32(i % 7), seq: uint64(i)}, epoch.Add(time.Millisecond), subs)
		}
	})
	wg.Wait()
	if all.Count() != ops*subs || last.Count() != ops {
		t.Fatalf("all %d, last %d; want %d and %d", all.Count(), last.Count(), ops*subs, ops)
	}
	if got, want := last.Max(), time.Duration(subs)*time.Millisecond; got != want {
		t.Errorf("last max %v, want %v", got, want)
	}
	if n := tr.incomplete(); n != 0 {
		t.Errorf("%d incomplete", n)
	}
}
