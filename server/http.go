package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// handle adapts an HTTP handler that returns its error: the one place where
// an error becomes a response (writeError). A handler that returns an error
// has written nothing.
func (s *Server) handle(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// writeList answers a request for one of a draft's lists (proposals,
// labels): 200 with {key: list}, [] rather than null when there are none;
// or err, the error of reading the list, wrapped with key and doc and
// returned for s.handle to write.
func writeList[T any](w http.ResponseWriter, key, doc string, list []T, err error) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", key, doc, err)
	}
	if list == nil {
		list = []T{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{key: list})
	return nil
}

// writeResult answers with v as JSON and status, or returns err when it is
// not nil: the last step of most handlers.
func writeResult(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	WriteJSON(w, status, v)
	return nil
}

// draftRequest checks that the caller may use the draft named in the path
// (draftFor) and decodes the JSON body into a T.
func draftRequest[T any](s *Server, w http.ResponseWriter, r *http.Request) (who dr.Identity, doc string, req T, err error) {
	who, doc, err = s.draftFor(r)
	if err == nil {
		err = s.ReadJSON(w, r, &req)
	}
	return who, doc, req, err
}

// writeError writes err as {"error":{"code","message"}} with the status of
// its code (protocolError); internal errors are logged, not shown. Handlers
// return their errors and s.handle calls it: the HTTP API's one edge.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, status := protocolError(err)
	if code == dr.CodeRateLimited {
		s.stats.RateLimited.Add(1)
	}
	if code == dr.CodeInternal {
		s.log.Error("http", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.auditHTTPRefusal(r, code, msg) // audit.go: forbidden and unauthorized only
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		errorDetail
	}
	WriteJSON(w, status, map[string]body{"error": {code, msg, detailOf(err)}})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
		"code": dr.CodeNotFound, "message": "no such endpoint: " + r.Method + " " + r.URL.Path}})
}

// Identify authenticates an HTTP request (a bearer token, or open mode).
// Requests with a token are charged to the token's HTTP bucket
// (limits.go); beyond it: rate_limited.
func (s *Server) Identify(r *http.Request) (dr.Identity, error) {
	id, err := s.auth.Request(r)
	if err == nil && !s.allowRequest(id) {
		return dr.Identity{}, dr.Errorf(dr.CodeRateLimited, "too many requests with this token; slow down")
	}
	if err == nil {
		s.auditTokenUse(r, id) // audit.go: at most one entry per token a minute
	}
	return id, err
}

// ReadJSON decodes a request body of at most MaxBodyBytes into v. Bodies
// that are not valid UTF-8 or not JSON are bad_request; too long is
// too_large.
func (s *Server) ReadJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return dr.Errorf(dr.CodeTooLarge, "request body larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return dr.Errorf(dr.CodeBadRequest, "could not read the request body")
	}
	if !utf8.Valid(body) {
		return dr.Errorf(dr.CodeBadRequest, "request body is not valid UTF-8")
	}
	if hasLoneSurrogate(body) {
		return errLoneSurrogate
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return dr.Errorf(dr.CodeBadRequest, "field %s has the wrong type", te.Field)
		}
		return dr.Errorf(dr.CodeBadRequest, "request body is not the expected JSON object")
	}
	return nil
}

// draftFor authenticates a request about draft {id}: the id is valid and
// the identity may access it.
func (s *Server) draftFor(r *http.Request) (dr.Identity, string, error) {
	id, err := s.Identify(r)
	if err != nil {
		return dr.Identity{}, "", err
	}
	doc := r.PathValue("id")
	if err := dr.ValidDraftID(doc); err != nil {
		return dr.Identity{}, "", err
	}
	if !id.CanAccess(doc) {
		return dr.Identity{}, "", dr.Errorf(dr.CodeForbidden, "your credential does not give access to draft %s", doc)
	}
	return id, doc, nil
}

type draftJSON struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Rev     int       `json:"rev"`
	Created int64     `json:"created"`
	Updated int64     `json:"updated"`
	By      dr.Author `json:"by"`
	// Archived is set on archived drafts (server/drafts_meta.go).
	Archived bool `json:"archived,omitempty"`
}

func (s *Server) listDrafts(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Identify(r)
	if err != nil {
		return err
	}
	drafts, err := s.store.Drafts(r.Context())
	if err != nil {
		return fmt.Errorf("list drafts: %w", err)
	}
	sort.Slice(drafts, func(i, j int) bool { return drafts[i].ID < drafts[j].ID })
	out := make([]draftJSON, 0, len(drafts))
	for _, d := range drafts {
		if id.CanAccess(d.ID) {
			out = append(out, draftOut(d))
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"docs": out})
	return nil
}

func (s *Server) createDraft(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Identify(r)
	if err != nil {
		return err
	}
	var req struct {
		ID    string `json:"id"`
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	if err := s.ReadJSON(w, r, &req); err != nil {
		return err
	}
	if err := dr.ValidDraftID(req.ID); err != nil {
		return err
	}
	if !id.IsFacilitator() {
		return dr.Errorf(dr.CodeForbidden, "only a facilitator creates drafts")
	}
	if !id.CanAccess(req.ID) {
		return dr.Errorf(dr.CodeForbidden, "your credential does not give access to draft %s", req.ID)
	}
	if err := dr.ValidTitle(req.Title); err != nil {
		return err
	}
	if utf8.RuneCountInString(req.Text) > s.cfg.MaxDraftLen {
		return dr.Errorf(dr.CodeTooLarge, "drafts are at most %d characters", s.cfg.MaxDraftLen)
	}
	now := s.cfg.Now().UnixMilli()
	d := dr.Draft{ID: req.ID, Title: req.Title, Created: now, Updated: now, By: id.Author}
	if err := s.store.CreateDraft(r.Context(), d, req.Text); err != nil {
		if errors.Is(err, storage.ErrExists) {
			err = dr.Errorf(dr.CodeExists, "draft %s already exists", req.ID)
		}
		return err
	}
	s.Audit(r.Context(), id, ActionDraftCreate, req.ID, fmt.Sprintf("title=%q chars=%d", req.Title, utf8.RuneCountInString(req.Text)))
	WriteJSON(w, http.StatusCreated, map[string]any{"id": req.ID, "rev": 0})
	return nil
}

func (s *Server) getDraft(w http.ResponseWriter, r *http.Request) error {
	_, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	var out struct {
		ID    string `json:"id"`
		Title string `json:"title"`
		Rev   int    `json:"rev"`
		Text  string `json:"text"`
	}
	err = s.Do(r.Context(), doc, func(st *DraftState) error {
		info := st.Info()
		out.ID, out.Title, out.Rev, out.Text = info.ID, info.Title, st.Rev(), st.Text().String()
		return nil
	})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// OpJSON is a committed op as the HTTP API shows it (never the principal).
type OpJSON struct {
	Rev    int       `json:"rev"`
	Op     ot.Op     `json:"op"`
	Client string    `json:"client"`
	Seq    uint64    `json:"seq"`
	By     dr.Author `json:"by"`
	TS     int64     `json:"ts"`
	Kind   string    `json:"kind,omitempty"`
	Group  string    `json:"group,omitempty"`
}

// newOpJSON converts a stored op for the HTTP API.
func newOpJSON(op dr.Op) OpJSON {
	return OpJSON{op.Rev, op.Op, op.Client, op.Seq, op.By, op.TS, op.Kind, op.Group}
}

// revParam parses an optional non-negative integer query parameter.
func revParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, dr.Errorf(dr.CodeBadRequest, "%s must be a non-negative integer, got %q", name, dr.Clip(v))
	}
	return n, nil
}

func (s *Server) getOps(w http.ResponseWriter, r *http.Request) error {
	_, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	info, err := s.draftInfo(r.Context(), doc)
	if err != nil {
		return err
	}
	from, err := revParam(r, "from", 1)
	if err != nil {
		return err
	}
	to, err := revParam(r, "to", info.Rev)
	if err != nil {
		return err
	}
	from = max(from, 1)
	out := []OpJSON{}
	if from <= to {
		ops, err := s.store.Ops(r.Context(), doc, from, to)
		if err != nil {
			return fmt.Errorf("ops %s: %w", doc, err)
		}
		out = make([]OpJSON, len(ops))
		for i, op := range ops {
			out[i] = newOpJSON(op)
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ops": out})
	return nil
}

// TextAt returns draft id's text at revision rev (a snapshot plus the ops
// after it). rev beyond the head is rev_ahead.
func (s *Server) TextAt(ctx context.Context, id string, rev int) (string, error) {
	info, err := s.draftInfo(ctx, id)
	if err != nil {
		return "", err
	}
	if rev > info.Rev {
		return "", dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", rev, id, info.Rev)
	}
	return history.TextAt(ctx, s.store, id, rev)
}

// errLoneSurrogate refuses JSON text with a lone surrogate escape, over
// HTTP and WebSocket alike.
var errLoneSurrogate = dr.Errorf(dr.CodeBadRequest, "text is not valid Unicode: a \\uD800-\\uDFFF escape must be half of a surrogate pair")

// hasLoneSurrogate reports whether JSON text escapes a UTF-16 surrogate
// that is not part of a pair ("\ud800"): encoding/json would silently turn
// it into U+FFFD, but the protocol rejects text that is not valid UTF-8.
func hasLoneSurrogate(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++ // a two-character escape such as \\ or \"
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			return false // not JSON; the decoder says so
		}
		i += 5
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := rune(0), false
			if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				lo, ok = hex4(b, i+3)
			}
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
	}
	return false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
