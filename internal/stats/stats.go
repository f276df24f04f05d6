// Package stats holds the lock-free counters the server and the stores
// update on their hot paths; the metrics package reads them when
// /metrics is scraped. Updating one is an atomic add or two: no locks,
// no allocation, no dependency.
package stats

import (
	"sync/atomic"
	"time"
)

// LatencyBounds are the upper bounds, in seconds, of Histogram's buckets:
// from 100µs (an ack with the write-ahead log on a fast disk) to 10s (a
// commit waiting out a Redis failover).
var LatencyBounds = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram counts durations into LatencyBounds' buckets. The zero value
// is ready to use; it is safe for concurrent use.
type Histogram struct {
	counts [len(LatencyBounds) + 1]atomic.Uint64 // the last is +Inf
	sumNS  atomic.Int64
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBounds) && s > LatencyBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNS.Add(int64(d))
}

// Snapshot returns the cumulative count of each bucket of LatencyBounds
// (by upper bound), the total count and the sum in seconds, as
// Prometheus wants them. Concurrent Observes may make it off by the ones
// in flight, never inconsistent in a way that matters to a scrape.
func (h *Histogram) Snapshot() (buckets map[float64]uint64, count uint64, sum float64) {
	buckets = make(map[float64]uint64, len(LatencyBounds))
	for i, b := range LatencyBounds {
		count += h.counts[i].Load()
		buckets[b] = count
	}
	count += h.counts[len(LatencyBounds)].Load()
	return buckets, count, time.Duration(h.sumNS.Load()).Seconds()
}
