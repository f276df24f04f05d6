package server

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// healthReporter is implemented by a store that can be up but refuse
// writes (storage.Bolt while its checkpoints fail): Health returns why,
// or nil.
type healthReporter interface {
	Health() error
}

// storeRefusesWrites returns, for /healthz, an unavailable error saying
// why the store refuses writes (up and serving reads, but not healthy),
// or nil. The store's reason names no file; it is logged too, at most
// once per storeErrLogEvery.
func (s *Server) storeRefusesWrites() error {
	h, ok := s.store.(healthReporter)
	if !ok {
		return nil
	}
	err := h.Health()
	if err == nil {
		return nil
	}
	s.storeErrs.log(s.log, time.Now(), slog.LevelWarn, "healthz: the store refuses writes", "err", err)
	return Errorf(ErrUnavailable, "the store refuses writes: %v", err)
}

// alreadyLogged marks an error that was logged where it happened (a
// failed commit, logged once for its batch through Server.storeErrs), so
// that answering each submitter with it does not log it again.
type alreadyLogged struct{ error }

func (e alreadyLogged) Unwrap() error { return e.error }

// storeErrLogEvery is how often a store error that repeats is logged: a
// full disk refuses every op, and one line per op would fill what little
// space is left (and bury the first line, the one that says why).
const storeErrLogEvery = 10 * time.Second

// logLimiter lets a repeated log line through once per storeErrLogEvery
// and counts the ones it held back, reported with the next line. The zero
// value is ready.
type logLimiter struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// log logs msg with args at level unless a line went out less than
// storeErrLogEvery ago, in which case it counts it.
func (l *logLimiter) log(logger *slog.Logger, now time.Time, level slog.Level, msg string, args ...any) {
	l.mu.Lock()
	if now.Before(l.next) {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.next = now.Add(storeErrLogEvery)
	n := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	logger.Log(context.Background(), level, msg, args...)
}
