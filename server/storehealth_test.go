package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// fullDisk is a store whose commits fail as the embedded store's do when
// the disk is full, and which reports itself unhealthy meanwhile.
type fullDisk struct {
	*storage.Memory
	full   atomic.Bool
	broken atomic.Bool // commits fail with an error of no known kind
}

func (f *fullDisk) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	if f.broken.Load() {
		return fmt.Errorf("storage: commit %s@%d: a bug", id, base)
	}
	if f.full.Load() {
		return fmt.Errorf("storage: commit %s@%d: storage: append to log /data/draftroom.db.wal.0: %w: %w", id, base, storage.ErrUnavailable, syscall.ENOSPC)
	}
	return f.Memory.Commit(ctx, id, base, c)
}

func (f *fullDisk) Health() error {
	if f.full.Load() {
		return fmt.Errorf("%w: append to log /data/draftroom.db.wal.0: %w", storage.ErrUnavailable, syscall.ENOSPC)
	}
	return nil
}

// syncBuffer is a log destination tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFullDisk: with the disk full, every op is answered with the
// retryable unavailable (not internal), the repeated store error is logged
// once rather than once or twice per op, and /healthz answers 503 with
// the reason; once the disk has room, ops commit and /healthz is 200.
func TestFullDisk(t *testing.T) {
	st := &fullDisk{Memory: storage.NewMemory()}
	var logs syncBuffer
	ls := startServer(t, st, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ls.create("art-1", "")
	rc := ls.dialRaw()
	rc.hello("drafter")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.expect("snapshot")

	if code, _, _ := ls.roundTrip(nil, "GET", "/healthz", nil); code != http.StatusOK {
		t.Fatalf("healthz before: %d, want 200", code)
	}
	st.full.Store(true)
	const ops = 200
	for seq := 1; seq <= ops; seq++ {
		rc.send(fmt.Sprintf(`{"type":"op","doc":"art-1","rev":0,"seq":%d,"op":["x"]}`, seq))
		m := rc.expect("error")
		if m["code"] != dr.CodeUnavailable || m["seq"] != float64(seq) {
			t.Fatalf("op %d on a full disk: %v, want unavailable with its seq", seq, m)
		}
		if strings.Contains(fmt.Sprint(m["message"]), "wal") {
			t.Fatalf("the error shows internal detail: %v", m)
		}
	}
	lines := strings.Count(logs.String(), "\n")
	if lines > 2 {
		t.Errorf("%d refused ops logged %d lines, want at most 2:\n%s", ops, lines, logs.String())
	}
	if !strings.Contains(logs.String(), "no space left on device") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}

	code, body, _ := ls.roundTrip(nil, "GET", "/healthz", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "refuses writes") {
		t.Errorf("healthz on a full disk: %d %s, want 503 saying the store refuses writes", code, body)
	}

	st.full.Store(false)
	rc.send(`{"type":"op","doc":"art-1","rev":0,"seq":1,"op":["x"]}`)
	if m := rc.expect("ack"); m["rev"] != 1.0 {
		t.Fatalf("op after the disk has room: %v, want ack rev 1", m)
	}
	if code, _, _ := ls.roundTrip(nil, "GET", "/healthz", nil); code != http.StatusOK {
		t.Errorf("healthz after: %d, want 200", code)
	}
}

// TestStoreErrorLoggedOnce: a commit failing with an error of no known
// kind answers internal, and is logged once for the failures in a row,
// not once per batch plus once per submitter.
func TestStoreErrorLoggedOnce(t *testing.T) {
	st := &fullDisk{Memory: storage.NewMemory()}
	st.broken.Store(true)
	var logs syncBuffer
	ls := startServer(t, st, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ls.create("art-1", "")
	rc := ls.dialRaw()
	rc.hello("drafter")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.expect("snapshot")
	for seq := 1; seq <= 50; seq++ {
		rc.send(fmt.Sprintf(`{"type":"op","doc":"art-1","rev":0,"seq":%d,"op":["x"]}`, seq))
		if m := rc.expect("error"); m["code"] != dr.CodeInternal {
			t.Fatalf("op %d: %v, want internal", seq, m)
		}
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 1 {
		t.Errorf("50 failed commits logged %d lines, want 1:\n%s", lines, logs.String())
	}
}
