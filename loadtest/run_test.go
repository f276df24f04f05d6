package loadtest

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// startServer runs an open-mode server on a loopback listener over store.
func startServer(t *testing.T, store dr.Store) string {
	t.Helper()
	return startNode(t, store, nil)
}

// startNode is startServer for a node that shares its store with other
// nodes, connected to them by fan (nil: the only node).
func startNode(t *testing.T, store dr.Store, fan server.Fanout) string {
	t.Helper()
	// No rate limits: a saturating writer on the memory store commits
	// more than the default 1,000 ops/s per connection on a quick machine,
	// and these tests are about the tool, not the server's limits.
	srv := server.New(server.Config{Open: true, OpsPerSecond: 1e9, OpsBurst: 1e9, MsgsPerSecond: 1e9, MsgsBurst: 1e9, Fanout: fan}, store, nil)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Close()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return hs.URL
}

func boltStore(t *testing.T) *storage.Bolt {
	t.Helper()
	st, err := storage.OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// checkSane asserts what every healthy run shows.
func checkSane(t *testing.T, rep Report, subsPerDraft int) {
	t.Helper()
	if !rep.Converged || len(rep.Diverged) != 0 || rep.Checked != rep.Writers+rep.Readers {
		t.Errorf("converged %v, checked %d of %d: %v", rep.Converged, rep.Checked, rep.Writers+rep.Readers, rep.Diverged)
	}
	if rep.Ops <= 0 || rep.OpsPerS <= 0 || rep.Ack.N == 0 || rep.AckWire.N == 0 {
		t.Errorf("ops %d (%v/s), acks measured %d/%d", rep.Ops, rep.OpsPerS, rep.Ack.N, rep.AckWire.N)
	}
	if len(rep.Errors) != 0 || rep.Disconnects != 0 || rep.Resyncs != 0 || rep.FanoutIncomplete != 0 {
		t.Errorf("errors %v, disconnects %d, resyncs %d, incomplete %d", rep.Errors, rep.Disconnects, rep.Resyncs, rep.FanoutIncomplete)
	}
	// Every measured op reaches every other subscriber of its draft.
	if want := int64(rep.AckWire.N) * int64(subsPerDraft-1); rep.Deliveries != want || rep.FanoutLast.N != rep.AckWire.N {
		t.Errorf("deliveries %d, want %d (acks %d × %d others); last-arrival samples %d", rep.Deliveries, want, rep.AckWire.N, subsPerDraft-1, rep.FanoutLast.N)
	}
	if rep.Ack.P50 <= 0 || rep.Ack.P99 < rep.Ack.P50 || rep.Ack.Max < rep.Ack.P99 || rep.Ack.Max > 30_000 {
		t.Errorf("ack summary not ordered or absurd: %+v", rep.Ack)
	}
	if rep.FanoutLast.P50 < rep.Fanout.P50 || rep.FanoutLast.Max != rep.Fanout.Max {
		t.Errorf("fan-out to the last subscriber %+v below fan-out to each %+v", rep.FanoutLast, rep.Fanout)
	}
	// The commit stamp falls between the send and the last arrival (give
	// or take its millisecond resolution).
	if rep.Commit.N != rep.FanoutLast.N || rep.Commit.Max > rep.FanoutLast.Max+1 {
		t.Errorf("send → commit %+v against send → last arrival %+v", rep.Commit, rep.FanoutLast)
	}
	if rep.ToolCPU <= 0 {
		t.Errorf("tool CPU %v", rep.ToolCPU)
	}
}

func TestRunRateBolt(t *testing.T) {
	url := startServer(t, boltStore(t))
	rep, err := Run(context.Background(), Config{URLs: []string{url}, Writers: 4, Readers: 6, Rate: 20,
		Warmup: 300 * time.Millisecond, Duration: 1500 * time.Millisecond, TextLen: 200,
		ServerPID: os.Getpid()}) // the server is in this process
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, rep, 10)
	// Each op carries at least one edit; the ops sent in the window carry
	// at most the edits of the window and of the warm-up (composed behind
	// a slow ack): 4 writers at 20/s over 1.8 s, with slack for the edges.
	if rep.Edits < rep.Ops || rep.Edits > 4*20*25/10 {
		t.Errorf("%d edits in %d ops from 4 writers at 20/s over 1.5 s", rep.Edits, rep.Ops)
	}
	if rep.ServerCPU <= 0 || rep.ServerRSSMB <= 0 || rep.ServerUSPerDelivery <= 0 || rep.ServerErr != "" {
		t.Errorf("server figures: cpu %v, rss %v MB, µs/delivery %v, err %q", rep.ServerCPU, rep.ServerRSSMB, rep.ServerUSPerDelivery, rep.ServerErr)
	}
}

func TestRunSaturateDrafts(t *testing.T) {
	url := startServer(t, storage.NewMemory())
	// Two servers URLs (the same server twice) to exercise round-robin.
	rep, err := Run(context.Background(), Config{URLs: []string{url, url + "/ws"}, Mode: ModeSaturate,
		Writers: 6, Readers: 3, Drafts: 3, Prefix: "sat-", Warmup: -1, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, rep, 3)
	// Saturating writers have one op in flight and nothing composed.
	if rep.EditsPer != 1 {
		t.Errorf("edits per op %v, want 1 in saturate mode", rep.EditsPer)
	}
}

func TestRunIdle(t *testing.T) {
	url := startServer(t, storage.NewMemory())
	rep, err := Run(context.Background(), Config{URLs: []string{url}, Mode: ModeIdle, Readers: 50, Drafts: 2,
		Warmup: -1, Duration: 200 * time.Millisecond, ServerPID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Converged || rep.Checked != 50 || rep.Ops != 0 || rep.ServerKBPerConn <= 0 {
		t.Errorf("idle: converged %v, checked %d, ops %d, KB/conn %v", rep.Converged, rep.Checked, rep.Ops, rep.ServerKBPerConn)
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []Config{
		{Mode: "burst", Writers: 1},
		{Mode: ModeRate},
		{Mode: ModeIdle, Writers: 1, Readers: 1},
		{Writers: 1, URLs: []string{"ftp://x"}},
		{Writers: 1, URLs: []string{"127.0.0.1:80"}},
		{Writers: 1, URLs: []string{"http://example.org:8080"}},
		{Writers: 1, URLs: []string{"http://10.0.0.1:8080"}},
	} {
		if _, err := Run(ctx, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("Run(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	// Nothing listens: setup fails, quickly.
	hs := httptest.NewServer(nil)
	url := hs.URL
	hs.Close()
	if _, err := Run(ctx, Config{URLs: []string{url}, Writers: 1}); !errors.Is(err, ErrSetup) {
		t.Errorf("Run against a closed port = %v, want ErrSetup", err)
	}
	// A refused client (reviewers cannot open a draft that is missing on
	// a server that does not create it) is a setup error too: here, a
	// token the server does not know.
	srvURL := startServer(t, storage.NewMemory())
	if _, err := Run(ctx, Config{URLs: []string{srvURL}, Writers: 1, Token: "nope"}); !errors.Is(err, ErrSetup) {
		t.Errorf("Run with a bad token = %v, want ErrSetup", err)
	}
}

func TestEndpoints(t *testing.T) {
	for _, c := range []struct{ in, http, ws string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws"},
		{"ws://[::1]:9/ws", "http://[::1]:9", "ws://[::1]:9/ws"},
		{"https://localhost/draftroom/", "https://localhost/draftroom", "wss://localhost/draftroom/ws"},
	} {
		h, w, err := endpoints(c.in)
		if err != nil || h != c.http || w != c.ws {
			t.Errorf("endpoints(%q) = %q, %q, %v; want %q, %q", c.in, h, w, err, c.http, c.ws)
		}
	}
}
