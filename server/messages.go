package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Inbound is a decoded client message: the fields the core protocol uses,
// and Raw, the whole frame, for handlers that read more fields.
type Inbound struct {
	Type string          `json:"type"`
	Ref  json.RawMessage `json:"ref,omitempty"`
	Doc  string          `json:"doc"`

	// hello
	Client     string `json:"client"`
	Token      string `json:"token"`
	Delegation string `json:"delegation"`
	Name       string `json:"name"`
	Role       string `json:"role"`

	// open, op, presence
	Rev *int            `json:"rev"`
	Seq *uint64         `json:"seq"`
	Op  json.RawMessage `json:"op"`
	Sel json.RawMessage `json:"sel"`

	Raw []byte `json:"-"`

	// op is Op decoded, when the fast path (decodeOpFast) has decoded it
	// already, so that the op handler does not decode it a second time.
	op ot.Op
}

// MessageHandler handles one type of client message on a session that said
// hello. An error it returns is sent to the client as an "error" message
// (code and message from protocolError, with the message's doc and ref) and the connection
// stays open. Handlers run on the session's read goroutine, one at a time,
// in the order messages arrive; a handler may block (e.g. on submitBuilt)
// but then the session reads nothing else meanwhile.
type MessageHandler func(ctx context.Context, c *Session, m *Inbound) error

// Server → client messages.
type (
	welcomeMsg struct {
		Type       string `json:"type"`
		Client     string `json:"client"`
		Delegation string `json:"delegation"`
		Name       string `json:"name"`
		Role       string `json:"role"`
		// MaxFrame and MaxDraftLen tell clients the limits an op must
		// keep within (docs/PROTOCOL.md "Large edits").
		MaxFrame    int64 `json:"max_frame"`
		MaxDraftLen int   `json:"max_draft_len"`
	}
	snapshotMsg struct {
		Type    string            `json:"type"`
		Doc     string            `json:"doc"`
		Rev     int               `json:"rev"`
		Text    string            `json:"text"`
		Present []json.RawMessage `json:"present"`
		Ref     json.RawMessage   `json:"ref,omitempty"`
	}
	openedMsg struct {
		Type    string            `json:"type"`
		Doc     string            `json:"doc"`
		Rev     int               `json:"rev"`
		Present []json.RawMessage `json:"present"`
		Ref     json.RawMessage   `json:"ref,omitempty"`
	}
	ackMsg struct {
		Type string          `json:"type"`
		Doc  string          `json:"doc"`
		Seq  uint64          `json:"seq"`
		Rev  int             `json:"rev"`
		Ref  json.RawMessage `json:"ref,omitempty"`
	}
	opMsg struct {
		Type   string    `json:"type"`
		Doc    string    `json:"doc"`
		Rev    int       `json:"rev"`
		Op     ot.Op     `json:"op"`
		Client string    `json:"client"`
		Seq    uint64    `json:"seq"`
		By     dr.Author `json:"by"`
		TS     int64     `json:"ts"`
		Kind   string    `json:"kind,omitempty"`
		Group  string    `json:"group,omitempty"`
	}
	presenceMsg struct {
		Type   string     `json:"type"`
		Doc    string     `json:"doc"`
		Rev    int        `json:"rev"`
		Sel    [][2]int   `json:"sel"`
		Client string     `json:"client"`
		By     *dr.Author `json:"by"`
		Role   string     `json:"role,omitempty"` // extension: the sender's role
	}
	leftMsg struct {
		Type   string     `json:"type"`
		Doc    string     `json:"doc"`
		Client string     `json:"client"`
		Left   bool       `json:"left"`
		By     *dr.Author `json:"by,omitempty"` // who left: a client id may be reused by another delegation
	}
	errorMsg struct {
		Type    string  `json:"type"`
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Doc     string  `json:"doc,omitempty"`
		Seq     *uint64 `json:"seq,omitempty"`
		errorDetail
		Ref json.RawMessage `json:"ref,omitempty"`
	}
)

var encoders = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encode marshals a server message once; the bytes are shared by every
// subscriber's queue and never modified.
func encode(v any) []byte {
	buf := encoders.Get().(*bytes.Buffer)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only an op that does not marshal could get here; it was checked
		// before it was committed.
		panic("server: encode message: " + err.Error())
	}
	out := bytes.Clone(bytes.TrimRight(buf.Bytes(), "\n"))
	encoders.Put(buf)
	return out
}

func encodeOp(doc string, op dr.Op) []byte {
	return encode(opMsg{Type: "op", Doc: doc, Rev: op.Rev, Op: op.Op, Client: op.Client, Seq: op.Seq, By: op.By, TS: op.TS, Kind: op.Kind, Group: op.Group})
}

func encodeAck(doc string, seq uint64, rev int, ref json.RawMessage) []byte {
	return encode(ackMsg{Type: "ack", Doc: doc, Seq: seq, Rev: rev, Ref: ref})
}

// replyTo names the request an "error" message answers: its draft, its
// seq (ops only) and its ref. code, when set, is sent instead of the
// error's own (before hello every refusal is unauthorized).
type replyTo struct {
	doc  string
	seq  *uint64
	ref  json.RawMessage
	code string
}

// errorFrame encodes the "error" message answering a request with err:
// the one place it is built. Its code and message come from the mapping
// of errors to the protocol (protocolError). An internal error's detail is not
// sent; it is logged here, as where with the attribute key=val, unless it
// was logged already (alreadyLogged).
func (s *Server) errorFrame(err error, to replyTo, where, key, val string) []byte {
	code, msg, _ := protocolError(err)
	if code == dr.CodeInternal && !errors.As(err, new(alreadyLogged)) {
		s.log.Error(where, key, val, "err", err)
	}
	if to.code != "" {
		code = to.code
	}
	return encode(errorMsg{Type: "error", Code: code, Message: msg, Doc: to.doc, Seq: to.seq, errorDetail: detailOf(err), Ref: to.ref})
}
