package server

// The history endpoints of docs/PROTOCOL.md section 2.3: text at any
// revision or time, diffs, authorship, the timeline, named versions,
// exports, imports of a revised text, and the WebSocket replay.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/internal/jsonx"
	"github.com/draftroom/draftroom/ot"
)

// Replay pacing.
const (
	// defaultReplayInterval is the pause between two replayed ops when the
	// request names none.
	defaultReplayInterval = 100
	// maxReplayInterval bounds interval_ms (one minute per op is already
	// no animation).
	maxReplayInterval = 60_000
	// replayChunk is how many ops a replay reads from the store at once.
	replayChunk = 256
	// replayDrain is how long a replay waits for the connection's queue to
	// drain below half before it queues more (interval 0 goes as fast as
	// the connection takes frames, never filling its queue).
	replayDrain = 2 * time.Millisecond
)

// historyRequest authenticates a request about draft {id} and reads the
// draft's metadata.
func (s *Server) historyRequest(r *http.Request) (dr.Identity, dr.Draft, error) {
	who, doc, err := s.draftFor(r)
	if err != nil {
		return dr.Identity{}, dr.Draft{}, err
	}
	info, err := s.draftInfo(r.Context(), doc)
	return who, info, err
}

// historyRevRequest is historyRequest for a request about one revision:
// its "rev" query parameter (a number or a label), the head when absent.
func (s *Server) historyRevRequest(r *http.Request) (dr.Draft, int, error) {
	_, info, err := s.historyRequest(r)
	if err != nil {
		return dr.Draft{}, 0, err
	}
	rev, err := s.queryRev(r, info, "rev", info.Rev)
	return info, rev, err
}

// queryRev reads the revision query parameter name (a number or a label)
// of r, def when it is absent or empty.
func (s *Server) queryRev(r *http.Request, info dr.Draft, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	return s.resolveRev(r.Context(), info, name, v)
}

// RevParam resolves the revision query parameter name of a request about
// draft doc: a revision number or a label's name; def when absent. Other
// features (the bracket listing) call it so that labels work wherever a
// revision does. Errors: not_found, rev_ahead, bad_request.
func (s *Server) RevParam(r *http.Request, doc, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	info, err := s.draftInfo(r.Context(), doc)
	if err != nil {
		return 0, err
	}
	return s.resolveRev(r.Context(), info, name, v)
}

func (s *Server) getHistoryText(w http.ResponseWriter, r *http.Request) error {
	_, info, err := s.historyRequest(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rev := info.Rev
	switch at := q.Get("at"); {
	case at != "" && q.Get("rev") != "":
		err = dr.Errorf(dr.CodeBadRequest, "give rev or at, not both")
	case at != "":
		var ms int64
		if ms, err = parseAt(at); err == nil {
			rev, err = s.revAt(r.Context(), info, ms)
		}
	default:
		rev, err = s.queryRev(r, info, "rev", info.Rev)
	}
	if err != nil {
		return err
	}
	text, err := s.textAt(r.Context(), info, rev)
	if err != nil {
		return err
	}
	// Written by hand: encoding/json's reflection and escaping doubled the
	// cost of answering with a 100,000 code point text.
	b := make([]byte, 0, len(text)+len(text)/16+40)
	b = append(b, `{"rev":`...)
	b = strconv.AppendInt(b, int64(rev), 10)
	b = append(b, `,"text":`...)
	b = jsonx.AppendString(b, text)
	b = append(b, "}\n"...)
	writeRaw(w, "application/json; charset=utf-8", b)
	return nil
}

// writeRaw writes a 200 response body as is.
func writeRaw(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// boolParam reads an optional flag: "1" or "true" is true, "", "0" or
// "false" false.
func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "1", "true":
		return true, nil
	case "", "0", "false":
		return false, nil
	default:
		return false, dr.Errorf(dr.CodeBadRequest, "%s must be 1 or 0, got %q", name, dr.Clip(v))
	}
}

// diffJSON is the JSON answer of GET .../diff.
type diffJSON struct {
	Doc      string            `json:"doc"`
	From     int               `json:"from"`
	To       int               `json:"to"`
	Segments []history.Segment `json:"segments"`
}

func (s *Server) getDiff(w http.ResponseWriter, r *http.Request) error {
	_, info, err := s.historyRequest(r)
	if err != nil {
		return err
	}
	from, err := s.queryRev(r, info, "from", 0)
	if err != nil {
		return err
	}
	to, err := s.queryRev(r, info, "to", info.Rev)
	if err != nil {
		return err
	}
	by, err := boolParam(r, "by")
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "html" {
		return dr.Errorf(dr.CodeBadRequest, "format must be json or html, got %q", dr.Clip(format))
	}
	segs, err := s.diff(r.Context(), info, from, to, by)
	if err != nil {
		return err
	}
	if format == "html" {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		writeRaw(w, "text/html; charset=utf-8", []byte(history.DiffHTML(segs)))
		return nil
	}
	if segs == nil {
		segs = []history.Segment{}
	}
	WriteJSON(w, http.StatusOK, diffJSON{Doc: info.ID, From: from, To: to, Segments: segs})
	return nil
}

func (s *Server) getAuthors(w http.ResponseWriter, r *http.Request) error {
	info, rev, err := s.historyRevRequest(r)
	if err != nil {
		return err
	}
	byRev := false
	switch v := r.URL.Query().Get("detail"); v {
	case "", "author":
	case "rev":
		byRev = true
	default:
		return dr.Errorf(dr.CodeBadRequest, "detail must be author or rev, got %q", dr.Clip(v))
	}
	spans, err := s.authors(r.Context(), info, rev, byRev)
	return writeResult(w, http.StatusOK, map[string]any{"doc": info.ID, "rev": rev, "spans": spans}, err)
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) error {
	_, info, err := s.historyRequest(r)
	if err != nil {
		return err
	}
	before, err := revParam(r, "before", 0)
	if err != nil {
		return err
	}
	limit, err := revParam(r, "limit", defaultHistoryPage)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = defaultHistoryPage
	}
	limit = min(limit, maxHistoryPage)
	entries, next, err := s.timeline(r.Context(), info, before, limit)
	return writeResult(w, http.StatusOK, map[string]any{"doc": info.ID, "rev": info.Rev, "entries": entries, "next": next}, err)
}

func (s *Server) getLabels(w http.ResponseWriter, r *http.Request) error {
	_, info, err := s.historyRequest(r)
	if err != nil {
		return err
	}
	list, err := s.store.Labels(r.Context(), info.ID)
	return writeList(w, "labels", info.ID, list, err)
}

// labelRequest is the body of POST .../labels.
type labelRequest struct {
	Name string `json:"name"`
	Rev  *int   `json:"rev"`
}

func (s *Server) postLabel(w http.ResponseWriter, r *http.Request) error {
	who, doc, req, err := draftRequest[labelRequest](s, w, r)
	if err != nil {
		return err
	}
	l, err := s.putLabel(r.Context(), who, doc, req.Name, req.Rev)
	return writeResult(w, http.StatusCreated, l, err)
}

// Export formats and their media types and file extensions.
var exportFormats = map[string]struct{ mediaType, ext string }{
	"txt":  {"text/plain; charset=utf-8", "txt"},
	"md":   {"text/markdown; charset=utf-8", "md"},
	"html": {"text/html; charset=utf-8", "html"},
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) error {
	info, rev, err := s.historyRevRequest(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "txt"
	}
	if _, ok := documentFormats[format]; ok {
		return s.exportDocument(w, r, info, rev, format) // documents_api.go
	}
	f, ok := exportFormats[format]
	if !ok {
		return dr.Errorf(dr.CodeBadRequest, "format must be txt, md, html, docx or akn, got %q", dr.Clip(format))
	}
	clean, err := boolParam(r, "clean")
	if err != nil {
		return err
	}
	text, err := s.textAt(r.Context(), info, rev)
	if err != nil {
		return err
	}
	if clean {
		if pos := history.Unclean(text); len(pos) > 0 {
			return &detailedError{
				err:    dr.Errorf(dr.CodeNotClean, "revision %d still has %d square brackets (the first at %d); resolve them before exporting a clean text", rev, len(pos), pos[0]),
				detail: errorDetail{Rev: &rev, Positions: pos},
			}
		}
	}
	var out string
	switch format {
	case "txt":
		out = history.ExportText(text)
	default:
		groups, err := s.exportGroups(r.Context(), info.ID, rev)
		if err != nil {
			return err
		}
		if format == "md" {
			out = history.ExportMarkdown(info.Title, text, groups)
		} else {
			out = history.ExportHTMLWithHead(info.Title, s.printHead(r.Context(), info, rev), text, groups) // documents_api.go
		}
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-rev%d.%s"`, info.ID, rev, f.ext))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == "html" {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	writeRaw(w, f.mediaType, []byte(out))
	return nil
}

// importedJSON answers an import.
type importedJSON struct {
	Doc  string `json:"doc"`
	Rev  int    `json:"rev"`  // the revision the import committed as
	Base int    `json:"base"` // the revision the text was revised from
	Op   ot.Op  `json:"op"`   // as committed (transformed over the ops since base)
}

func (s *Server) putText(w http.ResponseWriter, r *http.Request) error {
	who, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	if !who.IsFacilitator() {
		return dr.Errorf(dr.CodeForbidden, "only a facilitator imports a revised text")
	}
	var req struct {
		Text *string `json:"text"`
		Rev  *int    `json:"rev"`
	}
	if err := s.ReadJSON(w, r, &req); err != nil {
		return err
	}
	if req.Text == nil || req.Rev == nil {
		return dr.Errorf(dr.CodeBadRequest, "an import needs text, the whole revised text, and rev, the revision it was revised from")
	}
	op, _, err := s.importText(r.Context(), who, doc, *req.Text, *req.Rev)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, importedJSON{Doc: doc, Rev: op.Rev, Base: *req.Rev, Op: op.Op})
	return nil
}

// Replay over WebSocket.

// replayRequest is the body of a replay message.
type replayRequest struct {
	From       *int `json:"from"`
	To         *int `json:"to"`
	IntervalMS *int `json:"interval_ms"`
}

// replayTextMsg starts a replay: the text before its first op.
type replayTextMsg struct {
	Type string          `json:"type"`
	Doc  string          `json:"doc"`
	Rev  int             `json:"rev"`
	Text string          `json:"text"`
	From int             `json:"from"`
	To   int             `json:"to"`
	Ref  json.RawMessage `json:"ref,omitempty"`
}

// replayedMsg ends a replay: Rev is the last revision sent (From-1 when
// none was), Stopped whether it was cut short by replay_stop or a new
// replay.
type replayedMsg struct {
	Type    string          `json:"type"`
	Doc     string          `json:"doc"`
	From    int             `json:"from"`
	To      int             `json:"to"`
	Rev     int             `json:"rev"`
	Stopped bool            `json:"stopped"`
	Ref     json.RawMessage `json:"ref,omitempty"`
}

// replayRun is a running replay.
type replayRun struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when its goroutine has returned
}

// stopReplay cancels the replay of doc on c, if one runs, and waits for
// it to end (it sends its "replayed" first).
func stopReplay(c *Session, doc string) {
	c.replayMu.Lock()
	run := c.replays[doc]
	c.replayMu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
	}
}

func handleReplayStopMsg(ctx context.Context, c *Session, m *Inbound) error {
	if err := checkDocWS(c, m.Doc); err != nil {
		return err
	}
	stopReplay(c, m.Doc)
	return nil
}

func handleReplayMsg(ctx context.Context, c *Session, m *Inbound) error {
	if err := checkDocWS(c, m.Doc); err != nil {
		return err
	}
	var req replayRequest
	if err := json.Unmarshal(m.Raw, &req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return dr.Errorf(dr.CodeBadRequest, "field %s must be a non-negative integer", te.Field)
		}
		return dr.Errorf(dr.CodeBadRequest, "message is not the expected JSON object")
	}
	info, err := c.s.draftInfo(ctx, m.Doc)
	if err != nil {
		return err
	}
	from, to, interval := 1, info.Rev, defaultReplayInterval
	if req.From != nil {
		from = *req.From
	}
	if req.To != nil {
		to = *req.To
	}
	if req.IntervalMS != nil {
		interval = *req.IntervalMS
	}
	switch {
	case from < 1:
		return dr.Errorf(dr.CodeBadRequest, "from must be at least 1 (op 1 takes the draft from revision 0 to 1)")
	case to > info.Rev:
		return dr.Errorf(dr.CodeRevAhead, "to %d is ahead of draft %s (at %d)", to, m.Doc, info.Rev)
	case from > to:
		return dr.Errorf(dr.CodeBadRequest, "nothing to replay: from %d is after to %d", from, to)
	case interval < 0 || interval > maxReplayInterval:
		return dr.Errorf(dr.CodeBadRequest, "interval_ms must be between 0 and %d", maxReplayInterval)
	}
	stopReplay(c, m.Doc) // a new replay replaces the previous one
	ref := m.Ref
	return c.startReplay(m.Doc, func(ctx context.Context) {
		c.s.replay(ctx, c, info, from, to, time.Duration(interval)*time.Millisecond, ref)
	})
}

// startReplay runs replay as the session's replay of doc, in a goroutine
// of its own. The replay belongs to its session: its context ends when
// the session dies or the replay is stopped (stopReplay), and Shutdown
// waits for it (spawn).
func (c *Session) startReplay(doc string, replay func(context.Context)) error {
	ctx, cancel := context.WithCancel(c.ctx)
	run := &replayRun{cancel: cancel, done: make(chan struct{})}
	c.replayMu.Lock()
	if c.replays == nil {
		c.replays = map[string]*replayRun{}
	}
	c.replays[doc] = run
	c.replayMu.Unlock()
	forget := func() {
		c.replayMu.Lock()
		if c.replays[doc] == run {
			delete(c.replays, doc)
		}
		c.replayMu.Unlock()
		cancel()
	}
	started := c.s.spawn(func() {
		defer close(run.done)
		defer forget()
		replay(ctx)
	})
	if !started {
		forget()
		close(run.done)
		return dr.Errorf(dr.CodeUnavailable, "the server is shutting down")
	}
	return nil
}

// replay sends the text at from-1, then ops from..to one by one, interval
// apart, then "replayed". It returns early, without "replayed", when the
// connection ends, and with "replayed" (stopped) when ctx is cancelled.
// It never fills the connection's queue: it waits for it to drain below
// half first, so a replay at full speed cannot get the connection dropped
// as a slow subscriber.
func (s *Server) replay(ctx context.Context, c *Session, info dr.Draft, from, to int, interval time.Duration, ref json.RawMessage) {
	r := &replayer{s: s, c: c, ctx: ctx, info: info, from: from, to: to, interval: interval, ref: ref, last: from - 1}
	text, err := s.textAt(ctx, info, from-1)
	if err != nil {
		r.fail(err)
		return
	}
	if !c.Send(encode(replayTextMsg{Type: "replay", Doc: info.ID, Rev: from - 1, Text: text, From: from, To: to, Ref: ref})) {
		return
	}
	for next := from; next <= to; next = r.last + 1 {
		ops, err := r.read(next)
		if err != nil {
			r.fail(err)
			return
		}
		if !r.send(ops) {
			return
		}
	}
	r.finish(false)
}

// replayer is one replay on its way (Server.replay): last is the last
// revision sent.
type replayer struct {
	s        *Server
	c        *Session
	ctx      context.Context
	info     dr.Draft
	from, to int
	interval time.Duration
	ref      json.RawMessage
	last     int
}

// read reads the next chunk of ops, from next on.
func (r *replayer) read(next int) ([]dr.Op, error) {
	ops, err := r.s.store.Ops(r.ctx, r.info.ID, next, min(r.to, next+replayChunk-1))
	if err == nil && len(ops) == 0 {
		err = fmt.Errorf("replay %s: the store has no op %d", r.info.ID, next)
	}
	return ops, err
}

// send sends ops one by one, paced; false when the replay ended meanwhile
// (finished as stopped when it was cancelled).
func (r *replayer) send(ops []dr.Op) bool {
	for _, op := range ops {
		pause := r.interval
		if op.Rev == r.from {
			pause = 0 // the first op follows the text at once
		}
		if alive, stopped := r.wait(pause); !alive {
			if stopped {
				r.finish(true)
			}
			return false
		}
		// A replayed op is an "op" message of type "replay".
		frame := encode(opMsg{Type: "replay", Doc: r.info.ID, Rev: op.Rev, Op: op.Op, Client: op.Client, Seq: op.Seq,
			By: op.By, TS: op.TS, Kind: op.Kind, Group: op.Group})
		if !r.c.Send(frame) {
			return false
		}
		r.last = op.Rev
	}
	return true
}

// wait pauses for d, and for the connection's queue to drain below half;
// alive is false when the replay must end: stopped (cancelled), or the
// connection is gone.
func (r *replayer) wait(d time.Duration) (alive, stopped bool) {
	for {
		if d <= 0 && r.c.queued() < r.s.cfg.SendQueue/2 {
			return true, false
		}
		pause := d
		if pause <= 0 {
			pause = replayDrain
		}
		timer := time.NewTimer(pause)
		select {
		case <-r.c.done:
			timer.Stop()
			return false, false
		case <-r.ctx.Done():
			timer.Stop()
			return false, true
		case <-timer.C:
		}
		d = 0
	}
}

// fail ends the replay after err: as stopped when it was cancelled (the
// error is the cancellation's), else with an "error" message.
func (r *replayer) fail(err error) {
	if r.ctx.Err() != nil {
		r.finish(true)
		return
	}
	r.c.Send(r.s.errorFrame(err, replyTo{doc: r.info.ID, ref: r.ref}, "replay", "draft", r.info.ID))
}

// finish sends "replayed", unless the connection is gone.
func (r *replayer) finish(stopped bool) {
	select {
	case <-r.c.done:
		return
	default:
	}
	r.c.Send(encode(replayedMsg{Type: "replayed", Doc: r.info.ID, From: r.from, To: r.to, Rev: r.last, Stopped: stopped, Ref: r.ref}))
}

// queued is the number of frames waiting in the session's send queue.
func (c *Session) queued() int {
	c.send.mu.Lock()
	defer c.send.mu.Unlock()
	return len(c.send.frames)
}
