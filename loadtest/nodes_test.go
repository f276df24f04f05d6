package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/storage"
)

// TestRunTwoNodesRedis runs two server nodes on one Redis store ($REDIS_URL,
// or a redis-server of the test's own) with clients spread over both: every
// client converges to its own node's text, and both nodes agree.
func TestRunTwoNodesRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("two server nodes on Redis: a few seconds")
	}
	redisURL := redistest.URL(t) // skips, saying why, without redis-server
	prefix := fmt.Sprintf("drtest-load-%d:", time.Now().UnixNano())
	var urls []string
	for i := range 2 {
		st, err := storage.OpenRedisURL(redisURL, storage.RedisOptions{Prefix: prefix, NodeID: fmt.Sprint("n", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		urls = append(urls, startNode(t, st, st))
	}
	rep, err := Run(context.Background(), Config{URLs: urls, Writers: 4, Readers: 6, Rate: 20,
		Warmup: 200 * time.Millisecond, Duration: time.Second, TextLen: 200})
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, rep, 10)
	t.Logf("%.0f ops/s; nodes agreed after %v ms", rep.OpsPerS, rep.NodesAgreeMS)
	if !rep.NodesAgree || len(rep.Nodes) != 2 {
		t.Fatalf("nodes agree %v, nodes %+v", rep.NodesAgree, rep.Nodes)
	}
	// Clients are dealt round-robin over the URLs: 5 on each.
	for i, n := range rep.Nodes {
		if n.URL != urls[i] || !n.Agree || n.Clients != 5 || n.Diverged != 0 {
			t.Errorf("node %d: %+v, want %s agreeing with 5 clients converged", i, n, urls[i])
		}
	}
}

// fakeNode is a server URL in front of a real server: WebSockets and every
// request pass through, except GET /api/docs/{id}, whose answer change
// alters (a node that lost or invented an edit).
func fakeNode(t *testing.T, real string, change func(rev *int, text *string)) string {
	t.Helper()
	target, err := url.Parse(real)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target) // relays WebSocket upgrades too
	mux := http.NewServeMux()
	mux.Handle("/", proxy)
	mux.HandleFunc("GET /api/docs/{id}", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(real + "/api/docs/" + url.PathEscape(r.PathValue("id")))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
			http.Error(w, fmt.Sprintf("HTTP %d %v", resp.StatusCode, err), http.StatusBadGateway)
			return
		}
		rev, text := int(v["rev"].(float64)), v["text"].(string)
		change(&rev, &text)
		v["rev"], v["text"] = rev, text
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, bytes.NewReader(b))
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestRunNodeDiffers: when one server URL answers a text or revision that
// differs from the other's, the run reports it per URL and fails with
// ErrDiverged, even though every client is in step with the real server.
func TestRunNodeDiffers(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(rev *int, text *string)
		want   string
	}{
		{"text", func(_ *int, text *string) { *text += "?" }, "differ at rev"},
		{"rev", func(rev *int, _ *string) { *rev++ }, " at rev "},
	} {
		t.Run(c.name, func(t *testing.T) {
			real := startServer(t, storage.NewMemory())
			fake := fakeNode(t, real, c.change)
			// The real node first: it creates the drafts, and it is the
			// reference the other URL is compared with.
			rep, err := Run(context.Background(), Config{URLs: []string{real, fake}, Writers: 2, Readers: 2, Drafts: 2,
				Rate: 20, Warmup: -1, Duration: 500 * time.Millisecond, Quiesce: time.Second, TextLen: 100})
			if !errors.Is(err, ErrDiverged) {
				t.Fatalf("Run = %v, want ErrDiverged", err)
			}
			if rep.Converged || rep.NodesAgree || rep.Checked != 4 || rep.Ops == 0 {
				t.Errorf("converged %v, nodes agree %v, checked %d, ops %d", rep.Converged, rep.NodesAgree, rep.Checked, rep.Ops)
			}
			// Writer 0 and reader 0 are on the real node, writer 1 and
			// reader 1 on the fake one; only the latter differ from their
			// node's answer.
			want := []NodeCheck{{URL: real, Agree: true, Clients: 2}, {URL: fake, Agree: false, Clients: 2, Diverged: 2}}
			if fmt.Sprint(rep.Nodes) != fmt.Sprint(want) {
				t.Errorf("nodes %+v, want %+v", rep.Nodes, want)
			}
			all := strings.Join(rep.Diverged, "\n")
			for _, s := range []string{c.want, fake, "via " + fake} {
				if !strings.Contains(all, s) {
					t.Errorf("problems %q do not say %q", rep.Diverged, s)
				}
			}
			if strings.Contains(all, "via "+real) {
				t.Errorf("clients of the real node reported: %q", rep.Diverged)
			}
			// The agreement was waited for until the quiesce time was up.
			if rep.NodesAgreeMS < 500 {
				t.Errorf("gave up on agreement after %v ms, quiesce 1s", rep.NodesAgreeMS)
			}
		})
	}
}
