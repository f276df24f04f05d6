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
	"github.com/draftroom/draftroom/dr"
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

// TestProtocolError: the one edge gives each kind of error its protocol
// code, HTTP status and message, wrapped or not; the detail of an internal
// error is not shown.
func TestProtocolError(t *testing.T) {
	malformed := fmt.Errorf("component 2 is not a string or number: %w", ot.ErrMalformed)
	for _, tc := range []struct {
		err     error
		code    string
		status  int
		message string
	}{
		{dr.Errorf(dr.CodeForbidden, "only a facilitator creates drafts"), dr.CodeForbidden, 403, "only a facilitator creates drafts"},
		{fmt.Errorf("propose: %w", dr.Errorf(dr.CodeConflict, "group b1.0 changed")), dr.CodeConflict, 409, "group b1.0 changed"},
		{dr.Errorf(dr.CodeLocked, "agreed"), dr.CodeLocked, 423, "agreed"},
		{fmt.Errorf("load d: %w", storage.ErrNotFound), dr.CodeNotFound, 404, "no such draft"},
		{draftNotFound("d", fmt.Errorf("load d: %w", storage.ErrNotFound)), dr.CodeNotFound, 404, "no draft d"},
		{fmt.Errorf("commit: %w", storage.ErrUnavailable), dr.CodeUnavailable, 503, "storage is unavailable, nothing was changed; retry shortly"},
		{fmt.Errorf("%w: draft d is busy on other nodes (3 attempts): %w", errUnavailable, storage.ErrRevConflict), dr.CodeUnavailable, 503, "storage is unavailable, nothing was changed; retry shortly"},
		{errClosed, dr.CodeUnavailable, 503, "storage is unavailable, nothing was changed; retry shortly"},
		{context.DeadlineExceeded, dr.CodeUnavailable, 503, "storage is unavailable, nothing was changed; retry shortly"},
		{fmt.Errorf("handler: %w", context.Canceled), dr.CodeUnavailable, 503, "storage is unavailable, nothing was changed; retry shortly"},
		{storage.ErrExists, dr.CodeExists, 409, "it already exists"},
		{dr.Errorf(dr.CodeRevAhead, "rev 9 is ahead of the draft (at 4)"), dr.CodeRevAhead, 400, "rev 9 is ahead of the draft (at 4)"},
		{fmt.Errorf("apply: %w", ot.ErrDeleteMismatch), dr.CodeBadOp, 400, "deleted text differs from the draft's text at that position"},
		{malformed, dr.CodeBadOp, 400, "malformed op: component 2 is not a string or number"},
		{auth.Request{Delegation: "CAN", Name: "Ana", Role: "admin"}.Check(), dr.CodeBadRequest, 400, `role must be facilitator, drafter or reviewer, got "admin"`},
		{errors.New("disk on fire"), dr.CodeInternal, 500, "internal error; the operation was not carried out, please retry"},
		{&detailedError{err: dr.Errorf(dr.CodeNotClean, "revision 3 still has 2 square brackets")}, dr.CodeNotClean, 422, "revision 3 still has 2 square brackets"},
	} {
		code, msg, status := protocolError(tc.err)
		if code != tc.code || msg != tc.message || status != tc.status {
			t.Errorf("protocolError(%v) = %q, %q, HTTP %d; want %q, %q, HTTP %d",
				tc.err, code, msg, status, tc.code, tc.message, tc.status)
		}
	}
}

// TestErrorDetail: the fields an error carries beyond code and message
// reach the answer through wraps, and an error without them adds none.
func TestErrorDetail(t *testing.T) {
	rev := 3
	err := fmt.Errorf("export: %w", &detailedError{err: dr.Errorf(dr.CodeNotClean, "unclean"), detail: errorDetail{Rev: &rev, Positions: []int{4, 9}}})
	if d := detailOf(err); d.Rev == nil || *d.Rev != 3 || fmt.Sprint(d.Positions) != "[4 9]" || d.Group != nil {
		t.Errorf("detailOf through a wrap = %+v, want rev 3, positions [4 9]", d)
	}
	if d := detailOf(dr.Errorf(dr.CodeConflict, "changed")); d.Rev != nil || d.Positions != nil || d.Group != nil {
		t.Errorf("detailOf(plain error) = %+v, want nothing", d)
	}
	frame := string((&Server{log: slog.New(slog.DiscardHandler)}).errorFrame(err, replyTo{doc: "d"}, "test", "k", "v"))
	if want := `{"type":"error","code":"not_clean","message":"unclean","doc":"d","rev":3,"positions":[4,9]}`; frame != want {
		t.Errorf("errorFrame = %s, want %s", frame, want)
	}
}
