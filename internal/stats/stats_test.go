package stats

import (
	"testing"
	"time"
)

func TestHistogram(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{50 * time.Microsecond, 100 * time.Microsecond, 3 * time.Millisecond, 20 * time.Second} {
		h.Observe(d)
	}
	buckets, count, sum := h.Snapshot()
	if count != 4 {
		t.Errorf("count %d, want 4", count)
	}
	if want := 20.00315; sum < want-1e-9 || sum > want+1e-9 {
		t.Errorf("sum %v, want %v", sum, want)
	}
	for bound, want := range map[float64]uint64{0.0001: 2, 0.0025: 2, 0.005: 3, 10: 3} {
		if buckets[bound] != want {
			t.Errorf("bucket le=%v: %d, want %d", bound, buckets[bound], want)
		}
	}
}

func TestHistogramNoAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Observe(time.Millisecond) }); n != 0 {
		t.Errorf("Observe allocates %v times", n)
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Observe(time.Duration(i&1023) * time.Microsecond)
	}
}
