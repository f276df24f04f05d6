// Package client is the Go client of draftroom's live protocol
// (docs/PROTOCOL.md): it says hello, opens drafts, applies local edits at
// once and sends them with at most one op in flight per draft (later edits
// are composed behind it), transforms incoming ops against its pending ones
// (pending on side left, incoming on side right, as the contract says),
// relays presence, and reconnects by itself, resuming each draft from its
// revision and resending the op in flight with the same seq.
//
// A Client has one reader goroutine; there are no per-op goroutines, so the
// load tool can run thousands of clients in one process. Events (remote ops,
// acks with the time the op was sent, presence, errors, reconnects) go to
// Options.OnEvent.
package client

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/ot"
)

// Errors of the client.
var (
	// ErrClosed: the client or the draft was closed.
	ErrClosed = errors.New("client: closed")
	// ErrRefused: the server answered with an error (see *ServerError).
	ErrRefused = errors.New("client: refused by the server")
	// ErrAlreadyOpen: the draft is already open on this client.
	ErrAlreadyOpen = errors.New("client: draft already open")
	// ErrProtocol: the server sent something the client cannot follow.
	ErrProtocol = errors.New("client: protocol error")
	// ErrResyncing: the draft is being reloaded after the server refused
	// an edit (EventResync); edit again once it is open (WaitSynced).
	ErrResyncing = errors.New("client: draft reloading after a refused edit")
	// ErrTooLong: the edit would make the draft longer than the server's
	// maximum draft length (its welcome's max_draft_len); nothing changed.
	ErrTooLong = errors.New("client: the draft would exceed the server's maximum length")
)

// ServerError is an "error" message from the server. It wraps ErrRefused.
type ServerError struct {
	Code    string
	Message string
	Doc     string
	Seq     uint64
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("client: server refused (%s): %s", e.Code, e.Message)
}

func (e *ServerError) Unwrap() error { return ErrRefused }

// Options configure a Client. Give either Token, or (open mode) Delegation,
// Name and Role.
type Options struct {
	// ClientID identifies this client across reconnects (1–64 of
	// A-Z a-z 0-9 _ -). Default: random.
	ClientID string
	Token    string

	Delegation, Name, Role string

	// FirstSeq is the seq of the first op. Default: the current time in
	// microseconds, so that a process restarted with the same ClientID
	// keeps seqs increasing (a smaller seq would be taken for a resend).
	FirstSeq uint64
	// Header is sent with the WebSocket handshake (e.g. Origin).
	Header http.Header
	// Dialer dials the WebSocket. Default: a dialer with 16 KiB read buffer.
	Dialer *websocket.Dialer

	// NoReconnect: when the connection drops, do not reconnect; drafts
	// report ErrClosed.
	NoReconnect bool
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts
	// (doubling, with jitter). Defaults 50ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// WriteTimeout bounds one write. Default 10s.
	WriteTimeout time.Duration
	// MaxOpBytes bounds one op message: a bigger edit (a paste, an
	// import) is sent as several ops, each acked before the next (see
	// docs/PROTOCOL.md "Large edits"). Default: DefaultMaxOpBytes, or less
	// when the server's welcome says its frame limit (max_frame) is lower
	// than twice that.
	MaxOpBytes int

	// RetryAfter is the wait before resending an op the server refused
	// with rate_limited, internal or unavailable. Default 200ms.
	RetryAfter time.Duration

	// OnEvent, if set, receives events. It is called from the client's
	// reader goroutine (EventSent also from the goroutine calling Edit),
	// with no lock held, after the change it reports is visible (so a
	// WaitSynced may return before the last ack's event arrives); it must
	// not block for long.
	OnEvent func(Event)
}

// EventType says what an Event is about.
type EventType int

// Event types.
const (
	EventOp         EventType = iota + 1 // a remote op was applied (Op as applied to the local text)
	EventAck                             // an own op was committed as Rev (Sent: when it was first sent)
	EventSent                            // an op was sent (Seq, Op, Sent)
	EventPresence                        // another client's presence (Client, By, Sel)
	EventLeft                            // another client left the draft
	EventError                           // the server sent an error (Code, Message, Seq)
	EventDisconnect                      // the connection dropped (Err)
	EventReconnect                       // reconnected; drafts are being resumed
	EventOpened                          // a draft was (re)opened at Rev
	EventResync                          // local pending edits were dropped and the draft reloaded (after a refused op: Code, Message, Op and Text, the dropped edits and the text they inserted; see Doc.Refused)
)

// Author is who made an op ("by").
type Author struct {
	Delegation string `json:"delegation"`
	Name       string `json:"name"`
}

// Event is something that happened on a Client.
type Event struct {
	Type    EventType
	Doc     string
	Rev     int
	Seq     uint64
	Client  string
	By      Author
	TS      int64 // server commit time (Unix ms) of a remote op
	Op      ot.Op
	Sel     [][2]int
	Code    string
	Message string
	Sent    time.Time
	Err     error
	// Text, in an EventResync, is the text the dropped edits inserted.
	Text string
}

// Welcome is the server's answer to hello.
type Welcome struct {
	Client     string `json:"client"`
	Delegation string `json:"delegation"`
	Name       string `json:"name"`
	Role       string `json:"role"`
}

// Client is a connection to a draftroom server, reconnecting as needed.
// Its methods are safe for concurrent use.
type Client struct {
	url  string
	opts Options
	id   string
	seq  atomic.Uint64
	// maxFrame and maxDraftLen are the server's limits from its welcome
	// (0: not said).
	maxFrame    atomic.Int64
	maxDraftLen atomic.Int64

	conn    atomic.Pointer[websocket.Conn] // nil while disconnected
	wmu     sync.Mutex                     // serialises writes; taken after Doc.mu
	welcome Welcome

	mu     sync.Mutex // guards docs, closed
	docs   map[string]*Doc
	closed bool
	done   chan struct{} // closed by Close
	strs   interner      // owned by the reader goroutine (dispatch)
	exited chan struct{} // closed when the reader goroutine ends
}

// Dial connects to url (ws://host:port/ws), says hello and waits for the
// welcome. A refused hello is a *ServerError.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	if opts.ClientID == "" {
		var b [6]byte
		crand.Read(b[:])
		opts.ClientID = "c-" + hex.EncodeToString(b[:])
	}
	if opts.FirstSeq == 0 {
		opts.FirstSeq = uint64(time.Now().UnixMicro())
	}
	if opts.Dialer == nil {
		opts.Dialer = &websocket.Dialer{ReadBufferSize: 16 << 10, WriteBufferSize: 4 << 10, HandshakeTimeout: 10 * time.Second}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 50 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 200 * time.Millisecond
	}
	c := &Client{url: url, opts: opts, id: opts.ClientID, docs: map[string]*Doc{},
		done: make(chan struct{}), exited: make(chan struct{})}
	c.seq.Store(opts.FirstSeq - 1)
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.conn.Store(conn)
	go c.run(conn)
	return c, nil
}

// ID is the client id.
func (c *Client) ID() string { return c.id }

// Welcome is what the server said to hello.
func (c *Client) Welcome() Welcome { return c.welcome }

func (c *Client) nextSeq() uint64 { return c.seq.Add(1) }

// maxOpBytes is the budget of one op message: the option, within half the
// frame limit the server announced.
func (c *Client) maxOpBytes() int {
	n := c.opts.MaxOpBytes
	if n <= 0 {
		n = DefaultMaxOpBytes
	}
	if f := c.maxFrame.Load(); f > 0 && int64(n) > f/2 {
		n = int(f / 2)
	}
	return n
}

// connect dials and says hello.
func (c *Client) connect(ctx context.Context) (*websocket.Conn, error) {
	conn, _, err := c.opts.Dialer.DialContext(ctx, c.url, c.opts.Header)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", c.url, err)
	}
	hello := map[string]string{"type": "hello", "client": c.id}
	if c.opts.Token != "" {
		hello["token"] = c.opts.Token
	} else {
		hello["delegation"], hello["name"], hello["role"] = c.opts.Delegation, c.opts.Name, c.opts.Role
	}
	deadline := time.Now().Add(c.opts.WriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetWriteDeadline(deadline)
	if err := conn.WriteJSON(hello); err != nil {
		conn.Close()
		return nil, fmt.Errorf("client: hello: %w", err)
	}
	conn.SetReadDeadline(deadline)
	var m inMsg
	if err := conn.ReadJSON(&m); err != nil {
		conn.Close()
		return nil, fmt.Errorf("client: hello: %w", err)
	}
	conn.SetReadDeadline(time.Time{})
	switch m.Type {
	case "welcome":
		c.welcome = Welcome{Client: m.Client, Delegation: m.Delegation, Name: m.Name, Role: m.Role}
		c.maxFrame.Store(m.MaxFrame)
		c.maxDraftLen.Store(m.MaxDraftLen)
		return conn, nil
	case "error":
		conn.Close()
		return nil, &ServerError{Code: m.Code, Message: m.Message}
	}
	conn.Close()
	return nil, fmt.Errorf("client: hello answered with %q: %w", m.Type, ErrProtocol)
}

// Close closes the connection and every draft; it does not wait for
// pending edits (see Doc.WaitSynced).
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	c.mu.Unlock()
	if conn := c.conn.Load(); conn != nil {
		c.wmu.Lock()
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		c.wmu.Unlock()
		conn.Close()
	}
	<-c.exited
	return nil
}

// DropConnection closes the current connection abruptly, as a network
// failure would; the client then reconnects and resumes (unless
// NoReconnect). For tests and the load tool.
func (c *Client) DropConnection() {
	if conn := c.conn.Load(); conn != nil {
		conn.NetConn().Close()
	}
}

// send writes one message on the current connection. Without a connection
// it does nothing: the state machine resends after reconnecting.
func (c *Client) send(v any) {
	conn := c.conn.Load()
	if conn == nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("client: encode: " + err.Error()) // only ops that passed Apply get here
	}
	c.wmu.Lock()
	conn.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	err = conn.WriteMessage(websocket.TextMessage, b)
	c.wmu.Unlock()
	if err != nil {
		conn.NetConn().Close() // the reader notices and reconnects
	}
}

func (c *Client) emit(evs []Event) {
	if c.opts.OnEvent == nil {
		return
	}
	for _, e := range evs {
		c.opts.OnEvent(e)
	}
}

// run reads messages; when the connection drops it reconnects and resumes.
func (c *Client) run(conn *websocket.Conn) {
	defer close(c.exited)
	for {
		err := c.read(conn)
		c.conn.Store(nil)
		conn.Close()
		for _, d := range c.docList() {
			d.disconnected()
		}
		select {
		case <-c.done:
			c.closeDocs()
			return
		default:
		}
		c.emit([]Event{{Type: EventDisconnect, Err: err}})
		if c.opts.NoReconnect {
			c.closeDocs()
			return
		}
		if conn = c.reconnect(); conn == nil {
			c.closeDocs()
			return
		}
		c.conn.Store(conn)
		// Close may have run while reconnect was dialing: it saw no
		// connection to close, so this one must not be read (forever).
		select {
		case <-c.done:
			c.conn.Store(nil)
			conn.Close()
			c.closeDocs()
			return
		default:
		}
		c.emit([]Event{{Type: EventReconnect}})
		for _, d := range c.docList() {
			d.resume()
		}
	}
}

// reconnect dials until it succeeds or the client is closed.
func (c *Client) reconnect() *websocket.Conn {
	wait := c.opts.MinBackoff
	for {
		jitter := time.Duration(rand.Int64N(int64(wait)/2 + 1))
		select {
		case <-c.done:
			return nil
		case <-time.After(wait/2 + jitter):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := c.connect(ctx)
		cancel()
		if err == nil {
			return conn
		}
		var se *ServerError
		if errors.As(err, &se) {
			c.emit([]Event{{Type: EventError, Code: se.Code, Message: se.Message, Err: err}})
		}
		wait = min(wait*2, c.opts.MaxBackoff)
	}
}

func (c *Client) docList() []*Doc {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Doc, 0, len(c.docs))
	for _, d := range c.docs {
		out = append(out, d)
	}
	return out
}

func (c *Client) closeDocs() {
	for _, d := range c.docList() {
		d.fail(ErrClosed)
	}
}

// inMsg is any server message.
type inMsg struct {
	Type        string            `json:"type"`
	Doc         string            `json:"doc"`
	Rev         int               `json:"rev"`
	Seq         uint64            `json:"seq"`
	Op          json.RawMessage   `json:"op"`
	Client      string            `json:"client"`
	By          Author            `json:"by"`
	TS          int64             `json:"ts"`
	Text        string            `json:"text"`
	Sel         [][2]int          `json:"sel"`
	Left        bool              `json:"left"`
	Present     []json.RawMessage `json:"present"`
	Code        string            `json:"code"`
	Message     string            `json:"message"`
	Delegation  string            `json:"delegation"`
	Name        string            `json:"name"`
	Role        string            `json:"role"`
	MaxFrame    int64             `json:"max_frame"`
	MaxDraftLen int64             `json:"max_draft_len"`

	// op is Op decoded, when decodeFast did it (opDecoded); else remoteOp
	// decodes Op.
	op        ot.Op
	opDecoded bool
}

// decodeOp returns the op of an "op" message.
func (m *inMsg) decodeOp() (ot.Op, error) {
	if m.opDecoded {
		return m.op, nil
	}
	var op ot.Op
	err := json.Unmarshal(m.Op, &op)
	return op, err
}

// maxKeptBuffer bounds the read buffer a connection keeps between
// messages: op frames are a few hundred bytes; a snapshot is read into a
// larger buffer, which is then dropped rather than held for the life of
// the connection (the load tool holds thousands of connections).
const maxKeptBuffer = 4 << 10

// read reads messages into one buffer, reused from message to message
// (ReadMessage allocates each one afresh); dispatch keeps nothing of it.
func (c *Client) read(conn *websocket.Conn) error {
	var buf []byte
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		if buf, err = readAll(r, buf[:0]); err != nil {
			return err
		}
		if err := c.dispatch(buf); err != nil {
			return err
		}
		if cap(buf) > maxKeptBuffer {
			buf = nil
		}
	}
}

// readAll appends what r holds to buf, as io.ReadAll does to a new slice.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512) // an op frame, mostly
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // let append pick the growth
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// dispatch decodes one message from the server and hands it to its draft.
// An error (a message that is not JSON) ends the connection.
func (c *Client) dispatch(data []byte) error {
	var m inMsg
	if err := decode(data, &m, &c.strs); err != nil {
		return err
	}
	c.mu.Lock()
	d := c.docs[m.Doc]
	c.mu.Unlock()
	if d == nil {
		if m.Type == "error" {
			c.emit([]Event{{Type: EventError, Doc: m.Doc, Code: m.Code, Message: m.Message, Seq: m.Seq}})
		}
		return nil
	}
	d.handle(&m)
	return nil
}
