package storage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RouteRedisLogs sends go-redis's own log lines to logger at WARN, at
// most one per every, each with the count of those held back since the
// last. go-redis logs every failed dial of its pool: while Redis is down
// (or restarting), several lines a second, on the disk the server logs
// to. It sets go-redis's process-wide logger: main calls it once.
func RouteRedisLogs(logger *slog.Logger, every time.Duration) {
	redis.SetLogger(&redisLog{log: logger, every: every})
}

// redisLog is the go-redis logger RouteRedisLogs installs.
type redisLog struct {
	log   *slog.Logger
	every time.Duration

	mu   sync.Mutex
	next time.Time
	held int
}

func (l *redisLog) Printf(ctx context.Context, format string, v ...any) {
	now := time.Now()
	l.mu.Lock()
	if now.Before(l.next) {
		l.held++
		l.mu.Unlock()
		return
	}
	l.next = now.Add(l.every)
	held := l.held
	l.held = 0
	l.mu.Unlock()
	args := []any{"detail", fmt.Sprintf(format, v...)}
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	l.log.Warn("redis client", args...)
}
