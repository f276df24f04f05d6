package server

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// TestWriteList: a list answers {key: list}, [] for none (never null),
// and a failed read is an internal error, not an empty list.
func TestWriteList(t *testing.T) {
	s := New(Config{Open: true}, storage.NewMemory(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	r := httptest.NewRequest("GET", "/api/docs/d/labels", nil)
	for _, tc := range []struct {
		list []dr.Label
		err  error
		code int
		body string
	}{
		{nil, nil, http.StatusOK, `{"labels":[]}`},
		{[]dr.Label{{Name: "v1", Rev: 3}}, nil, http.StatusOK, `"name":"v1"`},
		{nil, errors.New("disk on fire"), http.StatusInternalServerError, `"code":"internal"`},
	} {
		w := httptest.NewRecorder()
		s.handle(func(w http.ResponseWriter, r *http.Request) error {
			return writeList(w, "labels", "d", tc.list, tc.err)
		}).ServeHTTP(w, r)
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("list %v, err %v: HTTP %d %s; want %d with %s", tc.list, tc.err, w.Code, w.Body, tc.code, tc.body)
		}
		if tc.err != nil && strings.Contains(w.Body.String(), "disk on fire") {
			t.Errorf("the internal error's detail reached the client: %s", w.Body)
		}
	}
}
