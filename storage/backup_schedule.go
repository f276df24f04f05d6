package storage

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// BackupStatus is how the periodic backups are going, as /healthz shows
// it: the last good one, and the last failure if it came after it.
type BackupStatus struct {
	Dir         string    `json:"dir,omitempty"`
	Every       string    `json:"every"`
	Keep        int       `json:"keep"`
	LastOK      time.Time `json:"last_ok,omitzero"`
	LastFile    string    `json:"last_file,omitempty"`
	LastBytes   int64     `json:"last_bytes,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Failures    int       `json:"failures"` // in a row
}

// BackupSchedule takes a backup of Store into Dir every Every (named by
// BackupName, written by BackupFile), then keeps the Keep newest
// (PruneBackups). A failure is logged and reported by BackupStatus; the
// next attempt comes at the next tick.
type BackupSchedule struct {
	Store  *Bolt
	Dir    string
	Every  time.Duration
	Keep   int
	Logger *slog.Logger
	Now    func() time.Time // default time.Now

	mu     sync.Mutex
	status BackupStatus
}

// due reports whether the newest backup in Dir is Every old, or missing.
func (s *BackupSchedule) due() bool {
	last, ok := LatestBackup(s.Dir)
	return !ok || s.now().Sub(last) >= s.Every
}

func (s *BackupSchedule) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// LatestBackup returns the time of the newest backup in dir (by its
// BackupName), false when there is none.
func LatestBackup(dir string) (time.Time, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return time.Time{}, false
	}
	var latest time.Time
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), "draftroom-")
		if stamp, ok2 := strings.CutSuffix(stamp, ".db"); ok && ok2 {
			if t, err := time.Parse("20060102T150405Z", stamp); err == nil && t.After(latest) {
				latest = t
			}
		}
	}
	return latest, !latest.IsZero()
}

// BackupStatus returns the schedule's status.
func (s *BackupSchedule) BackupStatus() BackupStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Dir, st.Every, st.Keep = s.Dir, s.Every.String(), s.Keep
	return st
}

// Run takes backups until ctx ends: at once when the newest backup in Dir
// is older than Every (or there is none), so that a server restarted more
// often than Every still takes them, then every Every.
func (s *BackupSchedule) Run(ctx context.Context) {
	if s.due() {
		s.Once(ctx)
	}
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Once(ctx)
		}
	}
}

// Once takes one backup now and prunes the old ones; it returns the
// backup's path or the error (also logged and recorded in the status,
// unless ctx ended: a backup cut short by shutdown is not a failure).
func (s *BackupSchedule) Once(ctx context.Context) (string, error) {
	now := s.now
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	at := now()
	path := filepath.Join(s.Dir, BackupName(at))
	n, err := s.Store.BackupFile(ctx, path)
	if err != nil && ctx.Err() != nil {
		return "", err // shutting down: not a failure to report
	}
	s.mu.Lock()
	if err != nil {
		s.status.LastError, s.status.LastErrorAt = err.Error(), at
		s.status.Failures++
	} else {
		s.status.LastOK, s.status.LastFile, s.status.LastBytes = at, path, n
		s.status.LastError, s.status.LastErrorAt, s.status.Failures = "", time.Time{}, 0
	}
	s.mu.Unlock()
	if err != nil {
		log.Error("backup failed", "dir", s.Dir, "err", err)
		return "", err
	}
	log.Info("backup", "file", path, "bytes", n)
	if removed, err := PruneBackups(s.Dir, s.Keep, now()); err != nil {
		log.Warn("backup retention", "err", err)
	} else if len(removed) > 0 {
		log.Info("old backups removed", "files", removed)
	}
	return path, nil
}
