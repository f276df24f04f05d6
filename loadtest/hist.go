package loadtest

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram bucket layout: values below exactBelow (nanoseconds) have a
// bucket each; above, every power of two is split into subBuckets equal
// buckets, so a bucket's width is at most 1/subBuckets of its lower bound
// (about 3% relative error), in a fixed array of numBuckets counters.
const (
	subBits    = 5
	subBuckets = 1 << subBits               // 32
	exactBelow = 2 * subBuckets             // 64: values 0..63 are exact
	numBuckets = exactBelow + 57*subBuckets // shifts 1..57 cover every int64
)

// Histogram is a log-bucketed histogram of durations, safe for concurrent
// use without locks: recording is a few atomic adds, so thousands of client
// reader goroutines can share one. The zero value is ready to use.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64 // nanoseconds, for the mean
	max    atomic.Int64
}

// bucketOf is the index of the bucket holding v (v >= 0).
func bucketOf(v int64) int {
	if v < exactBelow {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	top := int(v >> shift) // in [subBuckets, 2*subBuckets)
	return exactBelow + (shift-1)*subBuckets + top - subBuckets
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < exactBelow {
		return int64(i)
	}
	shift := (i-exactBelow)/subBuckets + 1
	top := int64((i-exactBelow)%subBuckets + subBuckets)
	if shift == 57 && top == 2*subBuckets-1 { // (top+1)<<57 would overflow
		return math.MaxInt64
	}
	return (top+1)<<shift - 1
}

// Record adds one duration; negative durations (clock steps) count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the largest recorded value (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the upper bound of the bucket holding the q-quantile
// (0 < q <= 1), clipped to Max: an overestimate by at most one bucket
// width (about 3%). It is 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketHigh(i)), h.Max())
		}
	}
	return h.Max()
}

// Summary is a histogram's figures in milliseconds, as reported.
type Summary struct {
	N    uint64  `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Summary returns count, mean, p50, p90, p99 and max in milliseconds.
func (h *Histogram) Summary() Summary {
	n := h.n.Load()
	s := Summary{N: n, P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
	if n > 0 {
		s.Mean = ms(time.Duration(h.sum.Load() / int64(n)))
	}
	return s
}

// ms converts to milliseconds rounded to microseconds.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
