package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// TestRoutesServeTheirHandlers: every route the docs describe, and every
// route of the table, reaches a handler of its own, not the JSON 404 for
// unknown endpoints; so a route dropped from routes.go fails here.
func TestRoutesServeTheirHandlers(t *testing.T) {
	s := New(Config{Open: true}, storage.NewMemory(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	s.SetMetrics(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "metrics") }))
	documented := regexp.MustCompile(`\b(GET|POST|PUT|DELETE)\s+(/(?:api|ws|healthz|metrics)[A-Za-z0-9_./{}-]*)`)
	patterns := map[string]bool{}
	for _, m := range documented.FindAllStringSubmatch(readDocs(t), -1) {
		patterns[m[1]+" "+strings.TrimRight(m[2], ".")] = true
	}
	if len(patterns) < 20 {
		t.Fatalf("found %d routes in docs/*.md; the pattern no longer reads them", len(patterns))
	}
	for _, rt := range s.routeTable() {
		if strings.Contains(rt.pattern, " ") {
			patterns[rt.pattern] = true
		}
	}
	wildcard := regexp.MustCompile(`\{[a-z]+\}`)
	for p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		path = wildcard.ReplaceAllString(path, "x1")
		r := httptest.NewRequest(method, path, strings.NewReader("{}"))
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if strings.Contains(w.Body.String(), "no such endpoint") || w.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: HTTP %d %s; want the route's own handler", method, path, w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/api/nothing-here", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no such endpoint") {
		t.Errorf("GET /api/nothing-here: HTTP %d %s; want the JSON 404", w.Code, w.Body)
	}
}

// readDocs returns docs/*.md, all together.
func readDocs(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("docs/*.md: %v (found %d)", err, len(files))
	}
	var docs strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	return docs.String()
}

// TestWiringIsDocumented: each route and message type in routes.go is
// described in docs/ (PROTOCOL.md and the topic docs), so adding one to the
// table without documenting it fails here.
func TestWiringIsDocumented(t *testing.T) {
	docs := readDocs(t)
	s := New(Config{Open: true}, storage.NewMemory(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	for _, rt := range s.routeTable() {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			continue
		}
		re := regexp.MustCompile(method + `\s+` + regexp.QuoteMeta(path) + `([^/\w{]|$)`)
		if !re.MatchString(docs) {
			t.Errorf("route %s is not documented in docs/*.md", rt.pattern)
		}
	}
	for typ := range s.handlers {
		if !strings.Contains(docs, `{"type":"`+typ+`"`) {
			t.Errorf("message type %q is not documented in docs/*.md", typ)
		}
	}
}

// TestErrorCode: the one mapping gives each kind of error its protocol
// code, HTTP status and message, wrapped or not.
func TestErrorCode(t *testing.T) {
	malformed := fmt.Errorf("component 2 is not a string or number: %w", ot.ErrMalformed)
	for _, tc := range []struct {
		err      error
		code     string
		status   int
		message  string
		internal bool
	}{
		{Errorf(ErrForbidden, "only a facilitator creates drafts"), CodeForbidden, 403, "only a facilitator creates drafts", false},
		{fmt.Errorf("propose: %w", Errorf(ErrConflict, "group b1.0 changed")), CodeConflict, 409, "group b1.0 changed", false},
		{Errorf(ErrLocked, "agreed"), CodeLocked, 423, "agreed", false},
		{fmt.Errorf("load d: %w", storage.ErrNotFound), CodeNotFound, 404, "no such draft", false},
		{fmt.Errorf("commit: %w", storage.ErrUnavailable), CodeUnavailable, 503, "storage is unavailable, nothing was changed; retry shortly", false},
		{context.DeadlineExceeded, CodeUnavailable, 503, "storage is unavailable, nothing was changed; retry shortly", false},
		{storage.ErrExists, CodeExists, 409, "it already exists", false},
		{ErrRevAhead, CodeRevAhead, 400, CodeRevAhead, false},
		{fmt.Errorf("apply: %w", ot.ErrDeleteMismatch), CodeBadOp, 400, "deleted text differs from the draft's text at that position", false},
		{malformed, CodeBadOp, 400, "malformed op: component 2 is not a string or number", false},
		{fmt.Errorf("%w: role must be facilitator, drafter or reviewer", auth.ErrBadRequest), CodeBadRequest, 400, "role must be facilitator, drafter or reviewer", false},
		{errors.New("disk on fire"), CodeInternal, 500, "internal error; the operation was not carried out, please retry", true},
	} {
		code, msg, internal := ErrorCode(tc.err)
		if code != tc.code || msg != tc.message || internal != tc.internal || httpStatus(code) != tc.status {
			t.Errorf("ErrorCode(%v) = %q, %q, %v (HTTP %d); want %q, %q, %v (HTTP %d)",
				tc.err, code, msg, internal, httpStatus(code), tc.code, tc.message, tc.internal, tc.status)
		}
	}
}
