package server_test

import (
	"context"
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
