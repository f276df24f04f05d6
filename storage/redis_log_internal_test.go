package storage

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRedisLogRateLimited: go-redis's per-dial lines while Redis is down
// become one line per period, the next one saying how many were held.
func TestRedisLogRateLimited(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := &redisLog{log: slog.New(slog.NewTextHandler(&out, nil)), every: time.Hour}
	for range 500 {
		l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %s", 2, "connection refused")
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("500 go-redis lines became %d, want 1:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "failed to dial after 2 attempts: connection refused") {
		t.Errorf("the line lost its detail: %s", out.String())
	}
	l.next = time.Time{} // the period is over
	l.Printf(context.Background(), "again")
	if !strings.Contains(out.String(), "suppressed=499") {
		t.Errorf("the next line does not count the 499 held back:\n%s", out.String())
	}
}
