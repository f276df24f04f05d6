package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// serveHTTP serves srv's handler on a test HTTP server until the test
// ends, then closes it and shuts srv down (a failed shutdown fails t).
func serveHTTP(t testing.TB, srv *server.Server) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Close()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return hs
}

// dialOpen connects a client to the WebSocket endpoint wsURL with opts and
// opens draft doc, failing t if either fails; the client is closed when
// the test ends.
func dialOpen(t testing.TB, ctx context.Context, wsURL string, opts client.Options, doc string) (*client.Client, *client.Doc) {
	t.Helper()
	c, err := client.Dial(ctx, wsURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d, err := c.Open(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

// redisStore opens the Redis store at url under key prefix (one prefix
// per test, shared by that test's server nodes), closed when the test
// ends.
func redisStore(t testing.TB, url, prefix string) *storage.Redis {
	t.Helper()
	st, err := storage.OpenRedisURL(url, storage.RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// roundTrip makes an HTTP request to ls, as w (the open-mode identity
// headers) when w is not nil, with body encoded as JSON when not nil, and
// returns the status, the whole answer and its content type.
func (ls *liveServer) roundTrip(w *who, method, path string, body any) (int, []byte, string) {
	ls.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ls.http.URL+path, r)
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Content-Type", "application/json") // open mode requires it
	}
	if w != nil {
		req.Header.Set(server.HeaderDelegation, w.delegation)
		req.Header.Set(server.HeaderName, w.name)
		req.Header.Set(server.HeaderRole, w.role)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ls.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ls.t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return resp.StatusCode, data, resp.Header.Get("Content-Type")
}

// decode decodes the JSON answer data of method path into out, when out
// is not nil, failing the test when it is not JSON.
func (ls *liveServer) decode(method, path string, data []byte, out any) {
	ls.t.Helper()
	if out == nil {
		return
	}
	if err := json.Unmarshal(data, out); err != nil {
		ls.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
	}
}
