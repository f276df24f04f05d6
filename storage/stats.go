package storage

import (
	"os"

	"github.com/draftroom/draftroom/internal/stats"
)

// BoltStats is what /metrics shows of the embedded store.
type BoltStats struct {
	WALBytes   int64            // the write-ahead log's files, together
	Checkpoint *stats.Histogram // how long copying the log into bbolt took
}

// Stats returns the store's figures. It reads the log files' sizes from
// the file system, so it costs the commit path nothing.
func (b *Bolt) Stats() BoltStats {
	st := BoltStats{Checkpoint: &b.ckTime}
	for _, suffix := range walSuffixes {
		if fi, err := os.Stat(b.path + suffix); err == nil {
			st.WALBytes += fi.Size()
		}
	}
	return st
}
