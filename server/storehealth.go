package server

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

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
