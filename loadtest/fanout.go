package loadtest

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// opKey names a submitted op across the whole run: which writer (its index)
// and the seq it sent. Subscribers see the same pair in the committed op's
// "client" and "seq", so it keys the send time at the writer and the
// arrival times at every other subscriber on one clock (the tool's).
type opKey struct {
	writer uint32
	seq    uint64
}

// flight is one op on its way to the subscribers of its draft.
type flight struct {
	sent   time.Duration // since the run's epoch; 0 until the writer reports it
	sentMs int64         // the send's wall clock, Unix ms
	ts     int64         // the commit time the server stamped on the op, Unix ms
	want   int           // arrivals expected: the draft's other subscribers
	got    int
	last   time.Duration // latest arrival
	early  []time.Duration
}

// tracker measures fan-out: for each op, the time from its send to its
// arrival at each other subscriber (all), and to the last of them (last).
// Arrivals may be reported before the send (the writer's send event is
// emitted after the frame is written, a reader may be faster): they wait
// in the flight until the send time is known. Flights are sharded so that
// thousands of reader goroutines rarely contend.
type tracker struct {
	epoch     time.Time
	from, to  atomic.Int64 // the measured window (offsets from epoch), for send times
	all, last *Histogram
	commit    *Histogram // send → the server's commit time stamp ("ts")
	shards    [64]trackerShard

	deliveries atomic.Int64 // arrivals of ops sent in the window
}

type trackerShard struct {
	mu      sync.Mutex
	flights map[opKey]*flight
	_       [40]byte // keep shards on separate cache lines
}

// newTracker returns a tracker whose window is empty until setWindow.
func newTracker(epoch time.Time, all, last, commit *Histogram) *tracker {
	t := &tracker{epoch: epoch, all: all, last: last, commit: commit}
	t.setWindow(math.MaxInt64, math.MaxInt64)
	for i := range t.shards {
		t.shards[i].flights = make(map[opKey]*flight)
	}
	return t
}

// setWindow sets the measured window [from, to), offsets from the epoch.
func (t *tracker) setWindow(from, to time.Duration) {
	t.from.Store(int64(from))
	t.to.Store(int64(to))
}

func (t *tracker) shard(k opKey) *trackerShard {
	return &t.shards[(k.seq^uint64(k.writer)*0x9e3779b1)%uint64(len(t.shards))]
}

// inWindow reports whether offset d is in the measured window.
func (t *tracker) inWindow(d time.Duration) bool {
	return int64(d) >= t.from.Load() && int64(d) < t.to.Load()
}

// sent records that writer sent seq at time at, to want other subscribers.
// A resend (after a reconnect) keeps the first send time.
func (t *tracker) sent(k opKey, at time.Time, want int) {
	if want <= 0 {
		return
	}
	sent := at.Sub(t.epoch)
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flights[k]
	if f == nil {
		s.flights[k] = &flight{sent: sent, sentMs: at.UnixMilli(), want: want}
		return
	}
	if f.sent != 0 {
		return
	}
	f.sent, f.sentMs, f.want = sent, at.UnixMilli(), want
	for _, a := range f.early {
		t.record(f, a)
	}
	f.early = nil
	if f.got >= f.want {
		t.finish(f)
		delete(s.flights, k)
	}
}

// arrived records that op k, committed at ts (Unix ms, the server's
// stamp), reached one subscriber at time at.
func (t *tracker) arrived(k opKey, ts int64, at time.Time) {
	a := at.Sub(t.epoch)
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flights[k]
	if f == nil {
		f = &flight{}
		s.flights[k] = f
	}
	f.got++
	f.last = max(f.last, a)
	f.ts = ts
	if f.sent == 0 {
		f.early = append(f.early, a)
		return
	}
	t.record(f, a)
	if f.got >= f.want {
		t.finish(f)
		delete(s.flights, k)
	}
}

func (t *tracker) record(f *flight, arrival time.Duration) {
	if t.inWindow(f.sent) {
		t.all.Record(arrival - f.sent)
		t.deliveries.Add(1)
	}
}

func (t *tracker) finish(f *flight) {
	if t.inWindow(f.sent) {
		t.last.Record(f.last - f.sent)
		if f.ts > 0 {
			// Both clocks are this machine's wall clock; the stamp has
			// millisecond resolution.
			t.commit.Record(time.Duration(f.ts-f.sentMs) * time.Millisecond)
		}
	}
}

// incomplete counts the ops sent in the window that have not reached every
// subscriber (a subscriber resynced from a snapshot and skipped them, or
// the run ended first).
func (t *tracker) incomplete() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, f := range s.flights {
			if f.sent != 0 && t.inWindow(f.sent) {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}
