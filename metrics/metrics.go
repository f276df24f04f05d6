// Package metrics exposes the server's and the store's counters in the
// Prometheus text format (GET /metrics). It is the only package that
// imports the Prometheus client library: the server and the stores keep
// plain atomic counters (server.Stats, storage.BoltStats,
// internal/stats), which a Collector reads at scrape time, so the hot
// paths pay an atomic add and never a label lookup or an allocation.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/draftroom/draftroom/internal/stats"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// Handler returns the /metrics handler for srv: the server's counters,
// the embedded store's when bolt (the server's store, if it is the
// embedded one) is not nil, and the Go runtime's and the process's.
func Handler(srv *server.Server, bolt *storage.Bolt) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{srv: srv, bolt: bolt},
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: nil})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("draftroom_"+name, help, labels, nil)
}

var (
	descOpsCommitted   = desc("ops_committed_total", "Ops committed and acknowledged (typed and server-built).")
	descOpsRefused     = desc("ops_refused_total", "Ops refused, by protocol error code.", "code")
	descAckLatency     = desc("ack_latency_seconds", "From reading an op to queueing its ack (includes the commit).")
	descCommitLatency  = desc("commit_latency_seconds", "One store commit: the write-ahead log's fsync, or the Redis round trip.")
	descConnections    = desc("connections", "Open WebSocket connections.")
	descDrafts         = desc("drafts_loaded", "Drafts loaded in memory.")
	descFanout         = desc("fanout_frames_total", "Op frames queued to subscribers other than the op's author.")
	descSlow           = desc("slow_disconnects_total", "Connections dropped because their send queue was full.")
	descRateLimited    = desc("rate_limited_total", "Messages, ops and HTTP requests refused as rate_limited.")
	descStoreErrors    = desc("store_errors_total", "Failed store calls (commits, health checks, backups), refusals excluded.")
	descConflicts      = desc("commit_conflicts_total", "Commits another node won (Redis: the revision moved); each is caught up and retried.")
	descRetries        = desc("commit_retries_total", "Commits retried after catching up with another node's ops.")
	descWALBytes       = desc("wal_bytes", "Size of the embedded store's write-ahead log files.")
	descCheckpoint     = desc("checkpoint_duration_seconds", "Copying the write-ahead log into the bbolt file.")
	descBackupOK       = desc("backup_last_success_timestamp_seconds", "When the last periodic backup succeeded (Unix time; 0: none yet).")
	descBackupFailures = desc("backup_failures", "Periodic backups failed in a row since the last success.")
)

type collector struct {
	srv  *server.Server
	bolt *storage.Bolt
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOpsCommitted, descOpsRefused, descAckLatency, descCommitLatency, descConnections, descDrafts, descFanout, descSlow, descRateLimited, descStoreErrors, descConflicts, descRetries} {
		ch <- d
	}
	if c.bolt != nil {
		ch <- descWALBytes
		ch <- descCheckpoint
	}
	if c.srv.Config().Backups != nil {
		ch <- descBackupOK
		ch <- descBackupFailures
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descOpsCommitted, st.OpsCommitted.Load())
	for code, n := range st.OpsRefused() {
		counter(descOpsRefused, n, code)
	}
	histogram(ch, descAckLatency, &st.AckLatency)
	histogram(ch, descCommitLatency, &st.CommitLatency)
	conns, drafts := c.srv.Load()
	ch <- prometheus.MustNewConstMetric(descConnections, prometheus.GaugeValue, float64(conns))
	ch <- prometheus.MustNewConstMetric(descDrafts, prometheus.GaugeValue, float64(drafts))
	counter(descFanout, st.FanoutFrames.Load())
	counter(descSlow, st.SlowDisconnects.Load())
	counter(descRateLimited, st.RateLimited.Load())
	counter(descStoreErrors, st.StoreErrors.Load())
	counter(descConflicts, st.CommitConflicts.Load())
	counter(descRetries, st.CommitRetries.Load())
	if c.bolt != nil {
		bs := c.bolt.Stats()
		ch <- prometheus.MustNewConstMetric(descWALBytes, prometheus.GaugeValue, float64(bs.WALBytes))
		histogram(ch, descCheckpoint, bs.Checkpoint)
	}
	if br := c.srv.Config().Backups; br != nil {
		st := br.BackupStatus()
		var last float64
		if !st.LastOK.IsZero() {
			last = float64(st.LastOK.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(descBackupOK, prometheus.GaugeValue, last)
		ch <- prometheus.MustNewConstMetric(descBackupFailures, prometheus.GaugeValue, float64(st.Failures))
	}
}

func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h *stats.Histogram) {
	buckets, count, sum := h.Snapshot()
	ch <- prometheus.MustNewConstHistogram(d, count, sum, buckets)
}
