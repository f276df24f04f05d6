package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/gorilla/websocket"
)

// hardFrameFactor: frames up to MaxFrameBytes*hardFrameFactor are read and
// discarded with a too_large error, keeping the connection; bigger ones are
// refused by gorilla as soon as their header is read: it sends the close
// frame 1009 (message too big) itself, and the session then closes with a
// lingering close (lingerClose), so that the peer, still sending the
// frame, reads why instead of a reset.
const hardFrameFactor = 8

// lingerWait bounds a lingering close: how long the rest of a refused
// frame is read and thrown away after the close frame, so that closing
// the socket with unread data does not reset the connection (which would
// make the peer lose the close frame). A peer that sends for longer is
// reset.
const lingerWait = 2 * time.Second

// Session is one WebSocket connection. Its read goroutine (readPump) decodes
// messages and runs their handlers; its write goroutine (writePump) is the
// only writer to the socket. Frames reach the writer through a bounded
// queue; when it is full the session is disconnected rather than waited for.
//
// Writes bypass gorilla: the write pump frames queued messages itself and
// writes as many as are queued (up to writeBatch bytes) in one system call,
// because fan-out to many readers at thousands of ops per second would
// otherwise cost one system call per message per reader. Gorilla still reads
// (and answers nothing itself: ping and close handlers hand their replies
// to the write pump).
type Session struct {
	s    *Server
	ws   *websocket.Conn
	nc   net.Conn
	send sendQueue // data frames (encoded JSON messages)
	// conn is the node's number for this connection, unique in the
	// process: presence published to other nodes carries it (presence.go).
	conn uint64
	ctl  chan []byte // encoded control frames from the read side
	done chan struct{}
	// ctx is the session's own: derived from the server's, cancelled when
	// the session dies (kill), so that its handlers' work stops with it.
	ctx    context.Context
	cancel context.CancelFunc

	// replays are this connection's running history replays, at most one
	// per draft (history_api.go); guarded by replayMu.
	replayMu sync.Mutex
	replays  map[string]*replayRun

	killOnce  sync.Once
	closeCode int
	closeText string
	flush     bool // write queued frames before the close frame
	// linger: the write pump leaves the socket open and closes wrote when
	// it is done; the read pump then closes it (lingerClose).
	linger bool
	wrote  chan struct{}

	// read goroutine only
	hello   bool
	proxied bool      // the upgrade request carried proxy headers
	readAt  time.Time // when the message being handled was read (ack latency)
	ident   dr.Identity
	client  string
	drafts  map[string]*draft
	opsRate bucket
	msgRate bucket
	limits  *tokenLimits // limits.go: shared by the token's connections; nil in open mode
	flood   floodState   // limits.go: refusals in the current second
}

func newSession(s *Server, ws *websocket.Conn) *Session {
	now := time.Now()
	ctx, cancel := context.WithCancel(s.ctx)
	return &Session{
		s:       s,
		ctx:     ctx,
		cancel:  cancel,
		ws:      ws,
		nc:      ws.NetConn(),
		send:    newSendQueue(s.cfg.SendQueue),
		conn:    s.conns.Add(1),
		ctl:     make(chan []byte, 4),
		done:    make(chan struct{}),
		wrote:   make(chan struct{}),
		drafts:  make(map[string]*draft),
		opsRate: newBucket(s.cfg.OpsPerSecond, s.cfg.OpsBurst, now),
		msgRate: newBucket(s.cfg.MsgsPerSecond, s.cfg.MsgsBurst, now),
	}
}

// Identity is who the session authenticated as (valid after hello).
func (c *Session) Identity() dr.Identity { return c.ident }

// remote is the peer's address, for logs and the audit log.
func (c *Session) remote() string {
	if c.nc == nil {
		return ""
	}
	return c.nc.RemoteAddr().String()
}

// Client is the session's client id (valid after hello).
func (c *Session) Client() string { return c.client }

// Send queues an encoded message (see encode). It reports false when
// the queue was full and the session was disconnected for it.
func (c *Session) Send(frame []byte) bool { return c.queue(frame) }

// queue hands a frame to the write pump without blocking.
func (c *Session) queue(frame []byte) bool {
	if !c.queueQuiet(frame, true) {
		return false
	}
	c.send.signal()
	return true
}

// queueQuiet queues a frame like queue but does not wake the write pump:
// the caller calls send.signal once it has queued everything it has for
// this session, so that the pump writes it all in one system call instead
// of waking (and writing) once per frame. An urgent frame (a reply to the
// session's own request: ack, error, snapshot) is written as soon as the
// pump wakes; others (ops and presence of other clients) may wait up to
// Config.WriteCoalesce to share a write with the next ones.
func (c *Session) queueQuiet(frame []byte, urgent bool) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	if !c.send.push(frame, urgent) {
		c.s.stats.SlowDisconnects.Add(1)
		c.s.log.Info("disconnect slow subscriber", "client", c.client, "queued", c.s.cfg.SendQueue)
		c.kill(websocket.CloseTryAgainLater, "too slow: resume from your revision", false)
		return false
	}
	return true
}

// sendQueue is a session's bounded queue of frames. It is a slice grown on
// demand rather than a buffered channel, so that an idle connection holds
// no queue memory (10,000 idle connections must fit in a few hundred MB),
// and so that the write pump takes everything queued at once.
type sendQueue struct {
	mu     sync.Mutex
	frames [][]byte
	urgent bool // an urgent frame is queued
	max    int
	wake   chan struct{} // cap 1: frames were pushed

	// presence holds unsent presence frames, beside frames and not
	// counted in max (presence.go).
	presence pendingPresence
}

func newSendQueue(max int) sendQueue {
	return sendQueue{max: max, wake: make(chan struct{}, 1)}
}

// push appends a frame without waking the write pump (see signal); false
// when the queue is full.
func (q *sendQueue) push(frame []byte, urgent bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) >= q.max {
		return false
	}
	q.frames = append(q.frames, frame)
	q.urgent = q.urgent || urgent
	return true
}

// hasUrgent reports whether an urgent frame is queued.
func (q *sendQueue) hasUrgent() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.urgent
}

// signal wakes the write pump to take what was pushed.
func (q *sendQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take removes and returns every queued frame, pending presence included.
func (q *sendQueue) take() [][]byte {
	q.mu.Lock()
	frames := q.presence.merge(q.frames)
	q.frames, q.urgent = nil, false
	q.mu.Unlock()
	return frames
}

// kill ends the session: the write pump writes a close frame (after the
// queued frames when flush) and closes the socket, which ends the read pump.
func (c *Session) kill(code int, text string, flush bool) {
	c.killOnce.Do(func() {
		c.closeCode, c.closeText, c.flush = code, text, flush
		close(c.done)
		c.cancel()
	})
}

// lingerClose ends the session after gorilla refused a frame beyond the
// hard limit (and sent the close frame 1009 itself): the write pump stops
// without writing more, the write side is shut (FIN), and what the peer
// is still sending is read and discarded for up to lingerWait before the
// socket is closed. Closing a socket with unread data makes the kernel
// reset the connection, and the peer would then see an abnormal closure
// (1006) instead of 1009. Called by the read pump only.
func (c *Session) lingerClose() {
	won := false
	c.killOnce.Do(func() {
		won, c.linger = true, true
		close(c.done)
		c.cancel()
	})
	if !won {
		return // ended otherwise meanwhile: the write pump closes the socket
	}
	<-c.wrote // the write pump ends within WriteWait
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerWait))
	io.Copy(io.Discard, c.nc)
	c.nc.Close()
}

// Close ends the session with a close frame (used by token revocation).
func (c *Session) Close(reason string) {
	c.kill(websocket.ClosePolicyViolation, reason, true)
}

const writeBatch = 32 << 10

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, writeBatch+1024); return &b }}

// writePump is the session's only writer to the socket. It writes what
// the send queue holds, control frames from the read side and pings,
// until the session ends; then it writes the close frame and closes the
// socket (or, for a lingering close, leaves that to lingerClose).
func (c *Session) writePump() {
	ping := time.NewTicker(c.s.cfg.PingPeriod)
	w := &frameWriter{c: c, coalesce: time.NewTimer(time.Hour)}
	w.coalesce.Stop()
	defer func() {
		ping.Stop()
		if c.linger { // set by the kill that ended the pump (see lingerClose)
			close(c.wrote)
			return
		}
		c.nc.Close()
	}()
	for {
		select {
		case <-c.send.wake:
			w.awaitCoalesce()
			if !w.writeFrames(c.send.take()) {
				return
			}
		case f := <-c.ctl:
			if !w.write(f) {
				return
			}
		case <-ping.C:
			if !w.write(appendFrame(nil, websocket.PingMessage, nil)) {
				return
			}
		case <-c.done:
			w.writeClose()
			return
		}
	}
}

// frameWriter is the write pump's state: when it last wrote, and the
// timer of the coalescing wait.
type frameWriter struct {
	c        *Session
	last     time.Time // of the last write
	coalesce *time.Timer
}

// awaitCoalesce lets the frames of the next commits join those queued in
// one write (one system call here, one wake-up and read at the peer) when
// the pump wrote less than Config.WriteCoalesce ago, unless the peer is
// waiting for a reply (an urgent frame) or the session ends. An idle
// connection writes at once.
func (w *frameWriter) awaitCoalesce() {
	c := w.c
	wait := c.s.cfg.WriteCoalesce - time.Since(w.last)
	if wait <= 0 || c.send.hasUrgent() {
		return
	}
	w.coalesce.Reset(wait)
	for {
		select {
		case <-w.coalesce.C:
			return
		case <-c.send.wake: // more frames: an urgent one ends the wait
			if c.send.hasUrgent() {
				w.coalesce.Stop()
				return
			}
		case <-c.done:
			w.coalesce.Stop()
			return
		}
	}
}

// write writes buf (whole frames) within Config.WriteWait; on failure it
// ends the session and returns false.
func (w *frameWriter) write(buf []byte) bool {
	w.last = time.Now()
	w.c.nc.SetWriteDeadline(w.last.Add(w.c.s.cfg.WriteWait))
	if _, err := w.c.nc.Write(buf); err != nil {
		w.c.kill(websocket.CloseGoingAway, "", false)
		return false
	}
	return true
}

// writeFrames frames the messages and writes them, up to writeBatch bytes
// per system call.
func (w *frameWriter) writeFrames(frames [][]byte) bool {
	bp := writeBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	ok := true
	for i, f := range frames {
		buf = appendFrame(buf, websocket.TextMessage, f)
		frames[i] = nil
		if len(buf) >= writeBatch || i == len(frames)-1 {
			if ok = w.write(buf); !ok {
				break
			}
			buf = buf[:0]
		}
	}
	if cap(buf) <= 4*writeBatch {
		*bp = buf[:0]
		writeBufs.Put(bp)
	}
	return ok
}

// writeClose ends the session's output: the frames still queued when the
// kill asked to flush them, then the close frame when it has a code.
func (w *frameWriter) writeClose() {
	c := w.c
	if c.flush && !w.writeFrames(c.send.take()) {
		return
	}
	if c.closeCode != 0 {
		w.write(appendFrame(nil, websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeText)))
	}
}

// appendFrame appends one unmasked, final WebSocket frame (RFC 6455 5.2).
func appendFrame(buf []byte, opcode int, payload []byte) []byte {
	buf = append(buf, 0x80|byte(opcode))
	switch n := len(payload); {
	case n < 126:
		buf = append(buf, byte(n))
	case n <= 0xFFFF:
		buf = append(buf, 126)
		buf = binary.BigEndian.AppendUint16(buf, uint16(n))
	default:
		buf = append(buf, 127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	return append(buf, payload...)
}

// readPump reads and handles messages until the connection ends, then
// leaves every draft the session had open.
func (c *Session) readPump() {
	cfg := &c.s.cfg
	defer c.cleanup()
	c.configureReads()
	for {
		// A message beyond the hard limit fails with ErrReadLimit at the
		// header of the frame that crosses it: the first one, or a
		// continuation frame of a fragmented message.
		mt, r, err := c.ws.NextReader()
		var data []byte
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(r, cfg.MaxFrameBytes+1))
		}
		if err == nil && int64(len(data)) > cfg.MaxFrameBytes {
			_, err = io.Copy(io.Discard, r)
			if err == nil {
				c.fail(dr.Errorf(dr.CodeTooLarge, "frame larger than %d bytes", cfg.MaxFrameBytes), "", nil, nil)
				continue
			}
		}
		if errors.Is(err, websocket.ErrReadLimit) {
			if c.s.sec.hugeFrameLog.allow(time.Now()) {
				c.s.log.Info("frame beyond the hard limit; closing (at most one such line a minute)", "client", c.client, "remote", c.remote(), "limit", cfg.MaxFrameBytes*hardFrameFactor)
			}
			c.lingerClose()
			return
		}
		if err != nil {
			c.kill(websocket.CloseNormalClosure, "", false)
			return
		}
		if c.hello {
			c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
		}
		c.handle(mt, data)
	}
}

// configureReads sets the read side's limits and control-frame handlers:
// the hard frame limit, HelloWait for the first message (then PongWait,
// extended by each pong), pings answered through the write pump, and a
// close frame that ends the session after the queued frames.
func (c *Session) configureReads() {
	cfg := &c.s.cfg
	c.ws.SetReadLimit(cfg.MaxFrameBytes * hardFrameFactor)
	c.ws.SetReadDeadline(time.Now().Add(cfg.HelloWait))
	c.ws.SetPongHandler(func(string) error {
		if c.hello {
			c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
		}
		return nil
	})
	c.ws.SetPingHandler(func(data string) error {
		select {
		case c.ctl <- appendFrame(nil, websocket.PongMessage, []byte(data)):
		default: // a peer flooding pings gets fewer pongs
		}
		return nil
	})
	c.ws.SetCloseHandler(func(code int, text string) error {
		c.kill(websocket.CloseNormalClosure, "", true)
		return nil
	})
}

// cleanup runs when the read pump ends: leave the drafts (so the others
// see "left") and release them.
func (c *Session) cleanup() {
	c.kill(websocket.CloseNormalClosure, "", false)
	for id, d := range c.drafts {
		d.send(context.Background(), &closeReq{sess: c})
		c.s.release(d)
		delete(c.drafts, id)
	}
	c.s.mu.Lock()
	delete(c.s.sessions, c)
	c.s.mu.Unlock()
	c.s.forget(c)
}

// fail answers a message with an error. Before hello every error is
// unauthorized and closes the connection (the contract).
func (c *Session) fail(err error, doc string, seq *uint64, ref json.RawMessage) {
	to := replyTo{doc: doc, seq: seq, ref: ref}
	if !c.hello {
		to.code = dr.CodeUnauthorized
	}
	c.queue(c.s.errorFrame(err, to, "message", "client", c.client))
	if !c.hello {
		c.kill(websocket.ClosePolicyViolation, "say hello first", true)
	}
}

// handle handles one frame: rate limits, decoding, then hello on a session
// that has not said it yet, or the message's handler.
func (c *Session) handle(mt int, data []byte) {
	now := time.Now()
	c.readAt = now
	if !c.msgRate.allow(now) || !c.limits.allowMsg(now) {
		c.s.stats.RateLimited.Add(1)
		c.fail(dr.Errorf(dr.CodeRateLimited, "too many messages; slow down"), "", nil, nil)
		c.refused(now)
		return
	}
	m, ok := c.decode(mt, data)
	if !ok {
		return
	}
	if !c.hello {
		c.greet(m)
		return
	}
	c.dispatch(m)
}

// decode decodes a frame into a message, or answers why it cannot.
func (c *Session) decode(mt int, data []byte) (*Inbound, bool) {
	if mt != websocket.TextMessage {
		c.fail(dr.Errorf(dr.CodeBadRequest, "messages are JSON in text frames"), "", nil, nil)
		return nil, false
	}
	if !utf8.Valid(data) {
		c.fail(dr.Errorf(dr.CodeBadRequest, "frame is not valid UTF-8"), "", nil, nil)
		return nil, false
	}
	m := new(Inbound)
	if err := decodeInbound(data, m); err != nil {
		c.fail(err, "", nil, nil)
		return nil, false
	}
	m.Raw = data
	// encoding/json decodes a lone surrogate escape ("\ud800") as U+FFFD,
	// silently changing the text; the protocol refuses text that is not
	// valid Unicode. An op's text is checked by its own decoder (bad_op);
	// every other message (hello names, propose text, notes) is checked
	// here, whole.
	if m.Type != "op" && hasLoneSurrogate(data) {
		c.fail(errLoneSurrogate, m.Doc, nil, m.Ref)
		return nil, false
	}
	return m, true
}

// greet handles the first message, which must be hello; a refused
// sign-in is audited (unless the server is open and no token was given).
func (c *Session) greet(m *Inbound) {
	if m.Type != "hello" {
		c.fail(dr.Errorf(dr.CodeUnauthorized, "the first message must be hello"), "", nil, m.Ref)
		return
	}
	if err := c.sayHello(m); err != nil {
		if m.Token != "" || !c.s.cfg.Open {
			_, msg, _ := protocolError(err)
			c.s.auditRefusal(dr.Identity{}, dr.CodeUnauthorized, m.Token != "", c.remote(), "websocket sign-in client="+dr.Clip(m.Client), msg)
		}
		c.fail(err, "", nil, m.Ref)
	}
}

// dispatch runs the handler of m's type and answers its error; a refusal
// for want of rights is audited, a refused op counted.
func (c *Session) dispatch(m *Inbound) {
	h := c.s.handlers[m.Type]
	if h == nil {
		if m.Type == "" {
			c.fail(dr.Errorf(dr.CodeBadRequest, "message has no type"), m.Doc, nil, m.Ref)
		} else {
			c.fail(dr.Errorf(dr.CodeBadRequest, "unknown message type %q", dr.Clip(m.Type)), m.Doc, nil, m.Ref)
		}
		return
	}
	err := h(c.ctx, c, m)
	if err == nil {
		return
	}
	code, msg, _ := protocolError(err)
	if code == dr.CodeForbidden || code == dr.CodeUnauthorized {
		c.s.auditRefusal(c.ident, code, false, c.remote(), "websocket "+dr.Clip(m.Type)+" "+m.Doc, msg)
	}
	var seq *uint64
	if m.Type == "op" {
		seq = m.Seq
		c.s.stats.refuse(code)
	}
	c.fail(err, m.Doc, seq, m.Ref)
}

// decodeInbound decodes a frame into m, with errors a person can act on.
// The hot "op" message takes decodeOpFast; everything else, and any op it
// is unsure of, takes encoding/json (decodeInboundJSON), so acceptance,
// value and errors are those of encoding/json either way.
func decodeInbound(data []byte, m *Inbound) error {
	m.op = nil
	if decodeOpFast(data, m) {
		return nil
	}
	return decodeInboundJSON(data, m)
}

func expectedType(field string) string {
	switch field {
	case "rev", "seq", "from", "to", "index", "interval_ms":
		return "a non-negative integer"
	}
	return "of another type"
}

func (c *Session) sayHello(m *Inbound) error {
	if err := dr.ValidClientID(m.Client); err != nil {
		return err
	}
	id, err := c.s.auth.Hello(c.ctx, Hello{Client: m.Client, Token: m.Token, Delegation: m.Delegation, Name: m.Name, Role: m.Role, proxied: c.proxied})
	if err != nil {
		return err
	}
	if err := c.s.admit(c, id, m.Client); err != nil {
		return err
	}
	c.hello, c.ident, c.client = true, id, m.Client
	c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.PongWait))
	c.queue(encode(welcomeMsg{Type: "welcome", Client: m.Client, Delegation: id.Author.Delegation, Name: id.Author.Name, Role: id.Role,
		MaxFrame: c.s.cfg.MaxFrameBytes, MaxDraftLen: c.s.cfg.MaxDraftLen}))
	return nil
}

// openDraft returns the draft open on this session under doc, or an error for
// the client.
func (c *Session) openDraft(doc string) (*draft, error) {
	if err := dr.ValidDraftID(doc); err != nil {
		return nil, err
	}
	d := c.drafts[doc]
	if d == nil {
		return nil, dr.Errorf(dr.CodeBadRequest, "draft %s is not open on this connection; send open first", doc)
	}
	return d, nil
}

func handleOpen(ctx context.Context, c *Session, m *Inbound) error {
	if err := dr.ValidDraftID(m.Doc); err != nil {
		return err
	}
	if !c.ident.CanAccess(m.Doc) {
		return dr.Errorf(dr.CodeForbidden, "your credential does not give access to draft %s", m.Doc)
	}
	d := c.drafts[m.Doc]
	fresh := d == nil
	if fresh {
		if len(c.drafts) >= c.s.cfg.MaxDraftsPerConn {
			return dr.Errorf(dr.CodeTooLarge, "at most %d drafts may be open on one connection", c.s.cfg.MaxDraftsPerConn)
		}
		var err error
		if d, err = c.s.acquire(m.Doc); err != nil {
			return err
		}
	}
	reply := make(chan error, 1)
	err := d.send(ctx, &openReq{sess: c, client: c.client, principal: c.ident.Principal, by: c.ident.Author, role: c.ident.Role, rev: m.Rev, ref: m.Ref, reply: reply})
	if err == nil {
		select {
		case err = <-reply:
		case <-d.done:
			err = errClosed
		}
	}
	if err != nil {
		if fresh {
			c.s.release(d)
		}
		return err
	}
	c.drafts[m.Doc] = d
	return nil
}

func handleClose(ctx context.Context, c *Session, m *Inbound) error {
	d, err := c.openDraft(m.Doc)
	if err != nil {
		return err
	}
	delete(c.drafts, m.Doc)
	d.send(ctx, &closeReq{sess: c})
	c.s.release(d)
	return nil
}

func handleOp(ctx context.Context, c *Session, m *Inbound) error {
	d, err := c.openDraft(m.Doc)
	if err != nil {
		return err
	}
	if m.Seq == nil {
		return dr.Errorf(dr.CodeBadRequest, "op needs seq")
	}
	if !c.ident.CanEdit() {
		return dr.Errorf(dr.CodeForbidden, "a %s may not edit", c.ident.Role)
	}
	if m.Rev == nil {
		return dr.Errorf(dr.CodeBadRequest, "op needs rev, the revision it was made on")
	}
	if len(m.Op) == 0 {
		return dr.Errorf(dr.CodeBadRequest, "op needs op")
	}
	req := &submitReq{sess: c, ident: c.ident, client: c.client, rev: *m.Rev, seq: *m.Seq, ref: m.Ref, at: c.readAt}
	if m.op != nil {
		req.op = m.op // decoded by decodeOpFast
	} else if err := json.Unmarshal(m.Op, &req.op); err != nil {
		return dr.Errorf(dr.CodeBadOp, "%s", opDecodeMessage(err))
	}
	if !c.allowOp(d, *m.Rev) {
		c.refused(time.Now())
		return dr.Errorf(dr.CodeRateLimited, "more than %g ops per second; resend later", c.s.cfg.OpsPerSecond)
	}
	return d.send(ctx, req)
}

func opDecodeMessage(err error) string {
	if code, msg, _ := protocolError(err); code == dr.CodeBadOp {
		return msg
	}
	return "malformed op: " + err.Error()
}

func handlePresence(ctx context.Context, c *Session, m *Inbound) error {
	d, err := c.openDraft(m.Doc)
	if err != nil {
		return err
	}
	if m.Rev == nil {
		return dr.Errorf(dr.CodeBadRequest, "presence needs rev")
	}
	sel, err := decodeSel(m.Sel)
	if err != nil {
		return err
	}
	return d.send(ctx, &presenceReq{sess: c, rev: *m.Rev, sel: sel, ref: m.Ref})
}

// maxSelections bounds one presence message.
const maxSelections = 64

// decodeSel reads [[anchor, head], ...] strictly: pairs of non-negative
// integers.
func decodeSel(raw json.RawMessage) ([][2]int, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, dr.Errorf(dr.CodeBadRequest, "presence needs sel, a list of [anchor, head] pairs")
	}
	var pairs [][]int
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, dr.Errorf(dr.CodeBadRequest, "sel must be a list of [anchor, head] pairs of non-negative integers")
	}
	if len(pairs) > maxSelections {
		return nil, dr.Errorf(dr.CodeBadRequest, "at most %d selections", maxSelections)
	}
	sel := make([][2]int, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 || p[0] < 0 || p[1] < 0 {
			return nil, dr.Errorf(dr.CodeBadRequest, "sel must be a list of [anchor, head] pairs of non-negative integers")
		}
		sel[i] = [2]int{p[0], p[1]}
	}
	return sel, nil
}

// bucket is a token bucket: rate tokens per second, at most burst.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate float64, burst int, now time.Time) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

func (b *bucket) allow(now time.Time) bool {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
