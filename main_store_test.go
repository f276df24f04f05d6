package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/internal/redistest"
)

// TestOpenStoreKeepsWhatItOpened: openStore hands back the concrete store
// it opened beside the contract, so that main wires what only that kind
// has (backups and metrics for the embedded store, fan-out for Redis)
// without asking the store what it is.
func TestOpenStoreKeepsWhatItOpened(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	data := t.TempDir()
	st, err := openStore(config{Data: data}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.bolt == nil || st.redis != nil || st.Store == nil || st.where != filepath.Join(data, "draftroom.db") {
		t.Errorf("embedded store: bolt %v, redis %v, where %q", st.bolt != nil, st.redis != nil, st.where)
	}

	url := redistest.Start(t).URL()
	rst, err := openStore(config{Redis: url, RedisWait: 10 * time.Second}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer rst.Close()
	if rst.redis == nil || rst.bolt != nil || rst.Store == nil || !strings.HasPrefix(rst.where, "redis ") {
		t.Errorf("Redis store: bolt %v, redis %v, where %q", rst.bolt != nil, rst.redis != nil, rst.where)
	}
}

// listenLine receives what run prints when it listens.
type listenLine chan string

func (c listenLine) Write(p []byte) (int, error) {
	select {
	case c <- string(p):
	default:
	}
	return len(p), nil
}

// runNode starts run with args and returns its base URL; run stops when
// the test ends.
func runNode(t *testing.T, args ...string) string {
	t.Helper()
	cfg, err := parseConfig(append([]string{"-addr", "127.0.0.1:0", "-open", "-metrics=false"}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(listenLine, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, lines, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case line := <-lines:
		_, rest, ok := strings.Cut(line, "listening on ")
		base, _, _ := strings.Cut(rest, "/ ")
		if !ok || !strings.HasPrefix(base, "http://") {
			t.Fatalf("run printed %q, want its address", line)
		}
		return base
	case err := <-done:
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("run did not listen within 20 s")
	}
	return ""
}

// TestRunConnectsRedisNodes: two servers that run started on one Redis
// relay each other's ops to their clients at once. main gives the server
// the Redis store it opened as its fan-out (server.Config.Fanout);
// without that, each node would still commit to Redis, but a client of
// the other node would not see the op until it reopened the draft.
func TestRunConnectsRedisNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("two servers on a Redis of their own: a few seconds")
	}
	url := redistest.Start(t).URL()
	a, b := runNode(t, "-redis", url), runNode(t, "-redis", url)
	resp, err := http.Post(a+"/api/docs", "application/json", bytes.NewReader([]byte(`{"id":"art-1","title":"Article 1","text":"The Parties shall act."}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create on node a: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	open := func(base, delegation string) *client.Doc {
		c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", client.Options{Delegation: delegation, Name: "N", Role: "drafter"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		d, err := c.Open(ctx, "art-1")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	onA, onB := open(a, "CAN"), open(b, "FRA")
	if err := onA.Insert(0, "1. "); err != nil {
		t.Fatal(err)
	}
	if err := onB.WaitRev(ctx, 1); err != nil {
		t.Fatalf("node b's client never got node a's op: %v (text %q)", err, onB.Text())
	}
	if got := onB.Text(); got != "1. The Parties shall act." {
		t.Errorf("node b's client: %q", got)
	}
}
