package loadtest

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// checkBucket asserts that v falls in bucketOf(v), that the bucket's bounds
// are ordered, and that its width is within the promised relative error.
func checkBucket(t *testing.T, v int64) {
	t.Helper()
	i := bucketOf(v)
	if i < 0 || i >= numBuckets {
		t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, numBuckets)
	}
	high := bucketHigh(i)
	low := int64(0)
	if i > 0 {
		low = bucketHigh(i-1) + 1
	}
	if v < low || v > high {
		t.Fatalf("v %d in bucket %d = [%d, %d]", v, i, low, high)
	}
	if v >= exactBelow && float64(high-low+1) > float64(low)/subBuckets+1 {
		t.Fatalf("bucket %d = [%d, %d] wider than 1/%d of its low bound", i, low, high, subBuckets)
	}
}

func TestBuckets(t *testing.T) {
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, math.MaxInt64 - 1, math.MaxInt64} {
		checkBucket(t, v)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		checkBucket(t, rng.Int64()>>rng.IntN(63))
	}
	if got := bucketOf(math.MaxInt64); got != numBuckets-1 {
		t.Errorf("bucketOf(MaxInt64) = %d, want the last bucket %d", got, numBuckets-1)
	}
}

func FuzzBuckets(f *testing.F) {
	for _, v := range []int64{0, 63, 64, 1 << 20, math.MaxInt64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		if v < 0 {
			v = -(v + 1)
		}
		checkBucket(t, v)
	})
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Summary().N != 0 {
		t.Fatalf("empty histogram: %+v", h.Summary())
	}
	// 1..1000 ms, shuffled, recorded from several goroutines.
	vals := rand.New(rand.NewPCG(3, 4)).Perm(1000)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for _, v := range vals[g*250 : (g+1)*250] {
				h.Record(time.Duration(v+1) * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(c.q)
		// Upper bound of the bucket: never below, at most ~1/32 above.
		if got < c.want || float64(got) > float64(c.want)*(1+1.0/subBuckets) {
			t.Errorf("Quantile(%v) = %v, want %v (+%.1f%%)", c.q, got, c.want, 100.0/subBuckets)
		}
	}
	s := h.Summary()
	if s.N != 1000 || s.Max != 1000 || s.Mean != 500.5 {
		t.Errorf("summary %+v, want n 1000, max 1000, mean 500.5", s)
	}
	h.Record(-time.Second) // a clock step counts as 0
	if h.Count() != 1001 || h.Quantile(0.0001) != 0 {
		t.Errorf("negative record: count %d, min quantile %v", h.Count(), h.Quantile(0.0001))
	}
}
