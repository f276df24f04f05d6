package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestCheckpointFaultThroughServer: the audit's stuck checkpoint, end to
// end. While the embedded store cannot copy its log into the bbolt file,
// every acknowledged revision stays readable over HTTP (before: the op log
// was behind the head and text?rev=head answered rev_ahead), edits are
// refused as unavailable, /healthz answers 503 with the reason (before:
// 200); once the disk takes writes again, the node takes edits again
// without a restart (before: refused until restart).
func TestCheckpointFaultThroughServer(t *testing.T) {
	t.Parallel()
	st, err := storage.OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), storage.BoltOptions{
		CheckpointOps: 1, CheckpointRetry: 5 * time.Millisecond, CheckpointRetryMax: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := server.New(server.Config{Open: true}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	call := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, hs.URL+path, r)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	health := func() int { code, _ := call("GET", "/healthz", nil); return code }

	if code, out := call("POST", "/api/docs", map[string]string{"id": "art-1", "title": "Article 1", "text": "v0"}); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	if code, out := call("PUT", "/api/docs/art-1/text", map[string]any{"text": "v1", "rev": 0}); code != http.StatusOK {
		t.Fatalf("import 1: %d %v", code, out)
	}
	call("GET", "/api/docs/art-1/ops", nil) // a read: revision 1 is in the file

	storage.FailCheckpoints(st, errors.New("injected: no space left on device"))
	if code, out := call("PUT", "/api/docs/art-1/text", map[string]any{"text": "v2", "rev": 1}); code != http.StatusOK || out["rev"] != 2.0 {
		t.Fatalf("import 2 (logged, acknowledged): %d %v", code, out)
	}
	waitUntil(t, "healthz to answer 503", func() bool { return health() == http.StatusServiceUnavailable })
	if code, out := call("GET", "/healthz", nil); !strings.Contains(fmt.Sprint(out), "refuses writes") {
		t.Errorf("healthz while checkpoints fail: %d %v, want the reason: the store refuses writes", code, out)
	}
	if err := st.Health(); err == nil || !strings.Contains(err.Error(), "no space left") || strings.Contains(err.Error(), "draftroom.db") {
		t.Errorf("Health: %v, want the cause and no file name", err)
	}
	if code, out := call("GET", "/api/docs/art-1/text?rev=2", nil); code != http.StatusOK || out["text"] != "v2" {
		t.Errorf("text?rev=2 while checkpoints fail: %d %v, want v2", code, out)
	}
	if code, out := call("GET", "/api/docs/art-1/ops?from=1", nil); code != http.StatusOK || len(out["ops"].([]any)) != 2 {
		t.Errorf("ops while checkpoints fail: %d %v, want 2 ops", code, out)
	}
	if code, out := call("PUT", "/api/docs/art-1/text", map[string]any{"text": "v3", "rev": 2}); code != http.StatusServiceUnavailable {
		t.Errorf("import while checkpoints fail: %d %v, want 503 unavailable", code, out)
	}

	storage.FailCheckpoints(st, nil)
	waitUntil(t, "healthz to answer 200", func() bool { return health() == http.StatusOK })
	if code, out := call("PUT", "/api/docs/art-1/text", map[string]any{"text": "v3", "rev": 2}); code != http.StatusOK || out["rev"] != 3.0 {
		t.Fatalf("import after the disk recovered: %d %v, want rev 3", code, out)
	}
}

// waitUntil polls cond, a condition with no event to wait on, until it
// holds (testenv.Until).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Until(t, what, cond)
}
