package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/stats"
	"github.com/draftroom/draftroom/storage"
)

// Stats are the server's counters, read by /metrics (package metrics).
// They are updated with atomic adds on the paths they count, once per
// batch where a batch is at hand, never with a lock or an allocation.
type Stats struct {
	OpsCommitted    atomic.Uint64
	FanoutFrames    atomic.Uint64 // op frames queued to other subscribers
	SlowDisconnects atomic.Uint64 // sessions dropped for a full send queue
	RateLimited     atomic.Uint64 // requests and messages refused as rate_limited
	StoreErrors     atomic.Uint64 // failed store calls (not refusals)
	CommitConflicts atomic.Uint64 // commits another node won (storage.ErrRevConflict)
	CommitRetries   atomic.Uint64 // commits retried after catching up
	// AckLatency: from reading an op to queueing its ack. CommitLatency:
	// one Store.Commit (fsync, or the Redis round trip).
	AckLatency    stats.Histogram
	CommitLatency stats.Histogram

	refused [len(refusalCodes)]atomic.Uint64
}

// refusalCodes are the codes an op can be refused with, in the order of
// Stats.refused.
var refusalCodes = [...]string{dr.CodeBadRequest, dr.CodeUnauthorized, dr.CodeForbidden, dr.CodeNotFound, dr.CodeBadOp, dr.CodeRevAhead, dr.CodeTooLarge, dr.CodeRateLimited, dr.CodeInternal, dr.CodeExists, dr.CodeConflict, dr.CodeUnavailable}

// refuse counts an op refused with code.
func (st *Stats) refuse(code string) {
	for i, c := range refusalCodes {
		if c == code {
			st.refused[i].Add(1)
			break
		}
	}
	if code == dr.CodeRateLimited {
		st.RateLimited.Add(1)
	}
}

// OpsRefused returns how many ops were refused, by error code.
func (st *Stats) OpsRefused() map[string]uint64 {
	out := make(map[string]uint64, len(refusalCodes))
	for i, c := range refusalCodes {
		out[c] = st.refused[i].Load()
	}
	return out
}

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Load returns the open WebSocket connections and the drafts loaded.
func (s *Server) Load() (connections, drafts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions), len(s.drafts)
}

// Drain marks the server as draining: /healthz answers 503 so that a load
// balancer sends no new connections, while everything else is served as
// before until Shutdown. Shutdown drains too.
func (s *Server) Drain() { s.draining.Store(true) }

// BackupReporter reports the periodic backups (storage.BackupSchedule).
type BackupReporter interface {
	BackupStatus() storage.BackupStatus
}

// healthJSON is /healthz's answer (docs/OPERATIONS.md).
type healthJSON struct {
	Status     string                `json:"status"` // ok, draining, unhealthy
	Mode       string                `json:"mode"`   // open, tokens
	ModeReason string                `json:"mode_reason,omitempty"`
	Draining   bool                  `json:"draining"`
	Store      storeHealthJSON       `json:"store"`
	Backup     *storage.BackupStatus `json:"backup,omitempty"`
}

type storeHealthJSON struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// healthz answers 200 when the server takes connections, 503 while it
// drains or when its store fails; the body says which mode it is in and
// why, and how the last backups went.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CommitTimeout)
	defer cancel()
	h := healthJSON{Status: "ok", Mode: "tokens", ModeReason: s.cfg.ModeReason, Draining: s.draining.Load(), Store: storeHealthJSON{OK: true}}
	if s.open.on.Load() {
		h.Mode = "open"
	} else if s.open.endedBy.Load() != nil {
		h.ModeReason = *s.open.endedBy.Load()
	}
	// The answer says which way the store fails; the detail (paths,
	// addresses) goes to the log, as /healthz needs no credential. A
	// store can answer reads and still refuse writes (Bolt after its
	// write-ahead log or checkpoints failed).
	_, err := s.store.Drafts(ctx)
	why := "the store does not answer reads"
	if err == nil {
		if err = s.store.Health(); err != nil {
			why = "the store refuses writes"
		}
	}
	if err != nil {
		s.storeErrs.log(s.log, time.Now(), slog.LevelWarn, "healthz: "+why, "err", err)
		s.stats.StoreErrors.Add(1)
		h.Status, h.Store = "unhealthy", storeHealthJSON{Error: why + " (see the server log)"}
	}
	if s.cfg.Backups != nil {
		// Without paths or error text (the log has them): /healthz
		// needs no credential.
		b := s.cfg.Backups.BackupStatus()
		b.Dir, b.LastFile = "", filepath.Base(b.LastFile)
		if b.LastFile == "." {
			b.LastFile = ""
		}
		if b.LastError != "" {
			b.LastError = "the last backup failed (see the server log)"
		}
		h.Backup = &b
	}
	status := http.StatusOK
	switch {
	case h.Draining:
		h.Status, status = "draining", http.StatusServiceUnavailable
	case err != nil:
		status = http.StatusServiceUnavailable
	}
	WriteJSON(w, status, h)
	return nil
}

// getBackup streams a consistent copy of the embedded store to a
// facilitator (GET /api/admin/backup). The copy is first written to a
// file in BackupScratch, so that the store's read transaction does not
// last as long as a slow download, then sent with its length. A store
// that takes no backups of its own (Redis, Memory) says so
// (errors.ErrUnsupported): bad_request.
func (s *Server) getBackup(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Identify(r)
	if err != nil {
		return err
	}
	if !id.IsFacilitator() || len(id.Drafts) > 0 {
		return dr.Errorf(dr.CodeForbidden, "only a facilitator with access to every draft takes backups")
	}
	f, err := os.CreateTemp(s.cfg.BackupScratch, "draftroom-download"+storage.BackupTemp+"*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := s.store.Backup(r.Context(), f)
	if errors.Is(err, errors.ErrUnsupported) {
		return dr.Errorf(dr.CodeBadRequest, "this server's store takes no backups through draftroom: with Redis, back up Redis's own RDB or AOF files (docs/OPERATIONS.md)")
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.stats.StoreErrors.Add(1)
		return fmt.Errorf("backup: %w", err)
	}
	s.Audit(r.Context(), id, ActionBackup, "", strconv.FormatInt(n, 10)+" bytes")
	// The copy may take longer to send than -http-write allows a response.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.Header().Set("Content-Disposition", `attachment; filename="`+storage.BackupName(time.Now())+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, f); err != nil {
		s.log.Warn("backup download ended early", "err", err)
	}
	return nil
}

// SetMetrics makes GET /metrics serve h (package metrics builds it from
// the server, hence after New); until then, and with nil, /metrics is
// not_found.
func (s *Server) SetMetrics(h http.Handler) {
	if h == nil {
		s.metrics.Store(nil)
		return
	}
	s.metrics.Store(&h)
}

// serveMetrics serves the SetMetrics handler to those allowed: with
// MetricsToken, a request carrying it as a bearer token; with
// MetricsByDefault, not a request that came through a proxy.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	h := s.metrics.Load()
	if h == nil {
		notFound(w, r)
		return nil
	}
	if tok := s.cfg.MetricsToken; tok != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			return dr.Errorf(dr.CodeUnauthorized, "metrics need the metrics token (Authorization: Bearer <token>)")
		}
	} else if s.cfg.MetricsByDefault && proxied(r.Header) {
		return dr.Errorf(dr.CodeUnauthorized, "metrics are served to local requests only; this one came through a proxy (set -metrics-token)")
	}
	(*h).ServeHTTP(w, r)
	return nil
}

// proxied reports whether a request came through a reverse proxy, as far
// as its headers say.
func proxied(h http.Header) bool {
	return h.Get("Forwarded") != "" || h.Get("X-Forwarded-For") != ""
}

// openMode is the server's open-mode state (Config.Open, OpenByDefault),
// shared by the authenticator and /healthz.
type openMode struct {
	on        atomic.Bool
	byDefault bool
	endedBy   atomic.Pointer[string] // why open mode ended while serving
}

// allows reports whether a credential-less request may use open mode;
// when not, the error says why.
func (m *openMode) allows(proxied bool) error {
	if !m.on.Load() {
		return errNeedToken
	}
	if m.byDefault && proxied {
		return dr.Errorf(dr.CodeUnauthorized, "a token is required: this request came through a proxy, and open mode is only on by default for local requests (start with -open to allow it)")
	}
	return nil
}

// end turns open mode off, when it was only on by default. It costs a
// field read otherwise: it runs on every token authentication.
func (m *openMode) end(why string) {
	if m.byDefault && m.on.Load() && m.on.CompareAndSwap(true, false) {
		m.endedBy.Store(&why)
	}
}

// errNeedToken: open mode is off; the caller words the error for its
// transport.
var errNeedToken = dr.Errorf(dr.CodeUnauthorized, "a token is required")

// ActionBackup is the audit action of a backup download.
const ActionBackup = "backup"
