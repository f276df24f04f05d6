package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/draftroom/draftroom/ot"
)

// Doc is an open draft: the local text (the server's revision Rev plus the
// client's pending edits), kept in step with the server. Its methods are
// safe for concurrent use.
type Doc struct {
	c  *Client
	id string

	mu        sync.Mutex
	text      *ot.Text
	rev       int      // the server revision the local text is based on
	inflight  *pending // sent (or to send) and not yet acked
	buffer    ot.Op    // later edits, composed, waiting for the ack
	live      bool     // subscribed on the current connection
	resyncing bool     // waiting for a fresh snapshot; ops are ignored
	openWait  chan error
	presence  map[string]Presence
	lastAck   *pending
	refused   *Refusal      // the last edit the server refused for good, until dismissed
	err       error         // set when the draft is closed or lost
	changed   chan struct{} // made by a waiter, closed and cleared by the next change
}

// pending is an own op not yet acknowledged. op is kept transformed to the
// current rev; sentOp/sentRev are what was last sent.
type pending struct {
	op      ot.Op
	seq     uint64
	first   time.Time // first sent
	sent    bool      // sent on the current connection
	sentOp  ot.Op
	sentRev int
	ackRev  int
}

// Refusal is an edit the server refused for good (bad_op, too_large,
// forbidden, locked): the client dropped it, with every edit made after
// it, and reloaded the draft. Text holds what those edits inserted, so
// that nothing typed is lost without a trace.
type Refusal struct {
	Code    string
	Message string
	Rev     int    // the revision the dropped edits were made on
	Op      ot.Op  // the dropped edits, composed, on the text at Rev
	Text    string // the text they inserted, pieces joined by "\n"
	At      time.Time
}

// Presence is another client's cursors and selections, transformed to the
// local text.
type Presence struct {
	Client string
	By     Author
	Sel    [][2]int
}

// Open subscribes to draft id and waits for its snapshot.
func (c *Client) Open(ctx context.Context, id string) (*Doc, error) {
	d := &Doc{c: c, id: id, openWait: make(chan error, 1), presence: map[string]Presence{}}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.docs[id] != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("open %s: %w", id, ErrAlreadyOpen)
	}
	c.docs[id] = d
	c.mu.Unlock()
	d.mu.Lock()
	c.send(map[string]any{"type": "open", "doc": id})
	d.mu.Unlock()
	select {
	case err := <-d.openWait:
		if err != nil {
			c.forget(d)
			return nil, fmt.Errorf("open %s: %w", id, err)
		}
		return d, nil
	case <-ctx.Done():
		c.forget(d)
		return nil, ctx.Err()
	}
}

func (c *Client) forget(d *Doc) {
	c.mu.Lock()
	if c.docs[d.id] == d {
		delete(c.docs, d.id)
	}
	c.mu.Unlock()
}

// ID is the draft id.
func (d *Doc) ID() string { return d.id }

// Text is the local text: the server's text at Rev with pending edits.
func (d *Doc) Text() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.text == nil {
		return ""
	}
	return d.text.String()
}

// Rev is the server revision the local text is based on.
func (d *Doc) Rev() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rev
}

// Len is the local text's length in code points.
func (d *Doc) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.text == nil {
		return 0
	}
	return d.text.Len()
}

// Pending reports whether local edits are waiting for an ack.
func (d *Doc) Pending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inflight != nil || d.buffer != nil
}

// Err is why the draft stopped (ErrClosed, a lost draft), or nil.
func (d *Doc) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Refused returns the last edit the server refused for good, until
// DismissRefused, or nil.
func (d *Doc) Refused() *Refusal {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refused == nil {
		return nil
	}
	r := *d.refused
	return &r
}

// DismissRefused forgets the refusal Refused reports.
func (d *Doc) DismissRefused() {
	d.mu.Lock()
	d.refused = nil
	d.mu.Unlock()
}

// Presence returns the other clients' presence, by client id.
func (d *Doc) Presence() map[string]Presence {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]Presence, len(d.presence))
	for k, p := range d.presence {
		p.Sel = append([][2]int(nil), p.Sel...)
		out[k] = p
	}
	return out
}

// Edit applies op to the local text at once and sends it (or composes it
// behind the op in flight). op is relative to the local text (Text). An
// op that does not apply returns an error and changes nothing.
func (d *Doc) Edit(op ot.Op) error {
	d.mu.Lock()
	if d.err != nil {
		d.mu.Unlock()
		return d.err
	}
	if d.resyncing {
		// The local text still holds the dropped edits until the fresh
		// snapshot arrives: an op on it would be lost with them.
		d.mu.Unlock()
		return fmt.Errorf("edit %s: %w", d.id, ErrResyncing)
	}
	if err := op.Check(); err != nil {
		d.mu.Unlock()
		return fmt.Errorf("edit %s: %w", d.id, err)
	}
	if limit := d.c.maxDraftLen.Load(); limit > 0 && int64(d.text.Len()+op.TargetLen()-op.BaseLen()) > limit {
		// The server would refuse it (too_large): say so now, change nothing.
		d.mu.Unlock()
		return fmt.Errorf("edit %s: %d code points: %w", d.id, d.text.Len()+op.TargetLen()-op.BaseLen(), ErrTooLong)
	}
	if _, err := d.text.Apply(op); err != nil {
		d.mu.Unlock()
		return fmt.Errorf("edit %s: %w", d.id, err)
	}
	for k, p := range d.presence {
		for i := range p.Sel {
			p.Sel[i] = ot.TransformSelection(p.Sel[i], op)
		}
		d.presence[k] = p
	}
	var evs []Event
	if d.inflight == nil {
		d.promote(op)
		evs = d.sendInflight(evs)
	} else if d.buffer == nil {
		d.buffer = op
	} else {
		composed, err := ot.Compose(d.buffer, op)
		if err != nil {
			// Cannot happen: op applied after buffer. Keep the state sane.
			d.mu.Unlock()
			return fmt.Errorf("edit %s: compose: %w", d.id, err)
		}
		d.buffer = composed
	}
	d.notify()
	d.mu.Unlock()
	d.c.emit(evs)
	return nil
}

// Insert inserts s at code point pos of the local text.
func (d *Doc) Insert(pos int, s string) error {
	if pos == 0 {
		return d.Edit(ot.Op{ot.Insert(s)})
	}
	return d.Edit(ot.Op{ot.Skip(pos), ot.Insert(s)})
}

// Delete deletes n code points at pos of the local text.
func (d *Doc) Delete(pos, n int) error {
	if pos == 0 {
		return d.Edit(ot.Op{ot.Delete(n)})
	}
	return d.Edit(ot.Op{ot.Skip(pos), ot.Delete(n)})
}

// SetPresence sends the local cursors and selections ([anchor, head] in
// code points of the local text). While edits are pending the positions
// are those of the local text, which may be a little ahead of Rev.
func (d *Doc) SetPresence(sel [][2]int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.live {
		if sel == nil {
			sel = [][2]int{}
		}
		d.c.send(map[string]any{"type": "presence", "doc": d.id, "rev": d.rev, "sel": sel})
	}
}

// ResendLastAcked sends the last acknowledged op again, exactly as it was
// last sent (same seq and base revision). A correct server recognises the
// resend, answers with the same ack and changes nothing; the client ignores
// that ack. For testing servers.
func (d *Doc) ResendLastAcked() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.lastAck
	if p == nil || !d.live {
		return false
	}
	d.c.send(opMsg{Type: "op", Doc: d.id, Rev: p.sentRev, Seq: p.seq, Op: p.sentOp})
	return true
}

// Close unsubscribes from the draft.
func (d *Doc) Close() error {
	d.c.forget(d)
	d.mu.Lock()
	if d.live {
		d.c.send(map[string]any{"type": "close", "doc": d.id})
	}
	d.mu.Unlock()
	d.fail(ErrClosed)
	return nil
}

// WaitSynced waits until the draft is subscribed and every local edit is
// acknowledged.
func (d *Doc) WaitSynced(ctx context.Context) error {
	return d.wait(ctx, func() bool { return d.live && d.inflight == nil && d.buffer == nil })
}

// WaitRev waits until the draft is subscribed and at revision rev or later.
func (d *Doc) WaitRev(ctx context.Context, rev int) error {
	return d.wait(ctx, func() bool { return d.live && d.rev >= rev })
}

func (d *Doc) wait(ctx context.Context, cond func() bool) error {
	for {
		d.mu.Lock()
		if d.err != nil {
			d.mu.Unlock()
			return d.err
		}
		if cond() {
			d.mu.Unlock()
			return nil
		}
		if d.changed == nil {
			d.changed = make(chan struct{})
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes waiters; d.mu is held. The channel is made only when
// someone waits: a reader's draft changes on every op and is rarely waited
// on.
func (d *Doc) notify() {
	if d.changed != nil {
		close(d.changed)
		d.changed = nil
	}
}

type opMsg struct {
	Type string `json:"type"`
	Doc  string `json:"doc"`
	Rev  int    `json:"rev"`
	Seq  uint64 `json:"seq"`
	Op   ot.Op  `json:"op"`
}

// sendInflight sends the op in flight at the current rev; d.mu is held.
func (d *Doc) sendInflight(evs []Event) []Event {
	p := d.inflight
	if !d.live || p == nil {
		return evs
	}
	now := time.Now()
	if p.first.IsZero() {
		p.first = now
	}
	p.sent, p.sentOp, p.sentRev = true, p.op, d.rev
	op := p.op
	if op == nil {
		op = ot.Op{}
	}
	d.c.send(opMsg{Type: "op", Doc: d.id, Rev: d.rev, Seq: p.seq, Op: op})
	return append(evs, Event{Type: EventSent, Doc: d.id, Seq: p.seq, Rev: d.rev, Op: op, Sent: now})
}

// disconnected marks the draft as not subscribed.
func (d *Doc) disconnected() {
	d.mu.Lock()
	d.live = false
	if d.inflight != nil {
		d.inflight.sent = false
	}
	d.notify()
	d.mu.Unlock()
}

// resume re-subscribes on a new connection: from the current revision, or
// afresh when no snapshot was received yet.
func (d *Doc) resume() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return
	}
	if d.text == nil || d.resyncing {
		d.c.send(map[string]any{"type": "open", "doc": d.id})
		return
	}
	d.c.send(map[string]any{"type": "open", "doc": d.id, "rev": d.rev})
}

// fail stops the draft with err.
func (d *Doc) fail(err error) {
	d.mu.Lock()
	if d.err == nil {
		d.err = err
	}
	d.live = false
	select {
	case d.openWait <- err:
	default:
	}
	d.notify()
	d.mu.Unlock()
}

// resync drops pending edits and reloads the draft; d.mu is held.
func (d *Doc) resync(evs []Event, why string) []Event {
	return d.resyncRefused(evs, "", why)
}

// resyncRefused drops pending edits and reloads the draft, reporting what
// was dropped in the EventResync (Op, Text); code is the server's refusal
// code ("" when the client lost track by itself). d.mu is held.
func (d *Doc) resyncRefused(evs []Event, code, why string) []Event {
	dropped := d.inflightOp()
	if d.buffer != nil {
		if dropped == nil {
			dropped = d.buffer
		} else if op, err := ot.Compose(dropped, d.buffer); err == nil {
			dropped = op
		} else {
			dropped = append(append(ot.Op(nil), dropped...), d.buffer...) // only its inserts are read
		}
	}
	text := insertedText(dropped)
	if code != "" {
		d.refused = &Refusal{Code: code, Message: why, Rev: d.rev, Op: dropped, Text: text, At: time.Now()}
	}
	d.inflight, d.buffer, d.live, d.resyncing = nil, nil, false, true
	d.c.send(map[string]any{"type": "close", "doc": d.id})
	d.c.send(map[string]any{"type": "open", "doc": d.id})
	return append(evs, Event{Type: EventResync, Doc: d.id, Rev: d.rev, Code: code, Message: why, Op: dropped, Text: text})
}

// insertedText is the text op inserts, one line per insert.
func insertedText(op ot.Op) string {
	var b strings.Builder
	for _, c := range op {
		if c.Insert != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(c.Insert)
		}
	}
	return b.String()
}

func (d *Doc) setPresent(present []json.RawMessage) {
	d.presence = make(map[string]Presence, len(present))
	for _, raw := range present {
		var m inMsg
		if json.Unmarshal(raw, &m) == nil && m.Client != "" {
			d.presence[m.Client] = Presence{Client: m.Client, By: m.By, Sel: d.localSel(m.Sel)}
		}
	}
}

// localSel transforms a selection at rev through the pending edits.
func (d *Doc) localSel(sel [][2]int) [][2]int {
	sel = append([][2]int(nil), sel...)
	for _, op := range []ot.Op{d.inflightOp(), d.buffer} {
		if op == nil {
			continue
		}
		for i := range sel {
			sel[i] = ot.TransformSelection(sel[i], op)
		}
	}
	return sel
}

func (d *Doc) inflightOp() ot.Op {
	if d.inflight == nil {
		return nil
	}
	return d.inflight.op
}

// handle processes a server message about this draft.
func (d *Doc) handle(m *inMsg) {
	d.mu.Lock()
	var buf [2]Event // most messages make one or two events: no allocation
	evs := buf[:0]
	switch m.Type {
	case "snapshot":
		d.text = ot.NewText(m.Text)
		d.rev = m.Rev
		d.inflight, d.buffer = nil, nil
		d.live, d.resyncing = true, false
		d.setPresent(m.Present)
		select {
		case d.openWait <- nil:
		default:
		}
		evs = append(evs, Event{Type: EventOpened, Doc: d.id, Rev: m.Rev})
	case "opened":
		if m.Rev != d.rev {
			// The server says the draft is elsewhere than the ops it sent
			// took us: start afresh.
			evs = d.resync(evs, fmt.Sprintf("opened at %d but the ops reached %d", m.Rev, d.rev))
			break
		}
		d.live = true
		d.setPresent(m.Present)
		if d.inflight != nil {
			evs = d.sendInflight(evs)
		}
		evs = append(evs, Event{Type: EventOpened, Doc: d.id, Rev: m.Rev})
	case "op":
		evs = d.remoteOp(m, evs)
	case "ack":
		evs = d.ack(m.Seq, m.Rev, evs)
	case "presence":
		if m.Left {
			// A "left" names who left (by): a client id may be reused by
			// another delegation, whose departure must not remove this
			// one's cursor. Servers that do not say who left remove it.
			if p, ok := d.presence[m.Client]; ok && (m.By == Author{} || p.By == m.By) {
				delete(d.presence, m.Client)
			}
			evs = append(evs, Event{Type: EventLeft, Doc: d.id, Client: m.Client, By: m.By})
		} else if m.Client != "" {
			// The server relays presence at its current revision, which is
			// ours: every op before it has reached us. Pending edits move it.
			sel := d.localSel(m.Sel)
			d.presence[m.Client] = Presence{Client: m.Client, By: m.By, Sel: sel}
			evs = append(evs, Event{Type: EventPresence, Doc: d.id, Client: m.Client, By: m.By, Sel: sel, Rev: m.Rev})
		}
	case "error":
		evs = d.serverError(m, evs)
	}
	d.notify()
	d.mu.Unlock()
	d.c.emit(evs)
}

// ack handles the acknowledgement of the op in flight.
func (d *Doc) ack(seq uint64, rev int, evs []Event) []Event {
	p := d.inflight
	if p == nil || seq != p.seq {
		return evs // a duplicate (the answer to a resend)
	}
	if rev != d.rev+1 {
		return d.resync(evs, fmt.Sprintf("ack of rev %d at rev %d", rev, d.rev))
	}
	d.rev = rev
	p.ackRev = rev
	d.lastAck = p
	d.inflight = nil
	evs = append(evs, Event{Type: EventAck, Doc: d.id, Seq: seq, Rev: rev, Sent: p.first})
	if d.buffer != nil {
		op := d.buffer
		d.buffer = nil
		d.promote(op)
		evs = d.sendInflight(evs)
	}
	return evs
}

// promote makes op the op in flight, with a new seq; d.mu is held and
// nothing is in flight or buffered. An op too big for one message is
// split (splitOp): its first piece goes in flight and the others, composed,
// wait in the buffer, where the next promotion splits them again. Each
// piece is acked before the next is sent, in order.
func (d *Doc) promote(op ot.Op) {
	pieces := splitOp(op, d.c.maxOpBytes())
	rest := ot.Op(nil)
	for _, p := range pieces[1:] {
		var err error
		if rest == nil {
			rest = p
		} else if rest, err = ot.Compose(rest, p); err != nil {
			// Cannot happen: each piece applies after the one before.
			// Send op whole rather than lose anything.
			pieces, rest = []ot.Op{op}, nil
			break
		}
	}
	d.inflight = &pending{op: pieces[0], seq: d.c.nextSeq()}
	d.buffer = rest
}

// remoteOp applies another client's op: pending ops are transformed on side
// left against it, it on side right against them.
func (d *Doc) remoteOp(m *inMsg, evs []Event) []Event {
	if d.resyncing || d.text == nil || m.Rev <= d.rev {
		return evs // stale or duplicate
	}
	if m.Rev > d.rev+1 {
		d.live = false
		d.c.send(map[string]any{"type": "open", "doc": d.id, "rev": d.rev})
		return evs
	}
	if p := d.inflight; p != nil && m.Client == d.c.id && m.Seq == p.seq {
		return d.ack(m.Seq, m.Rev, evs) // our own op, seen while resuming
	}
	inc, err := m.decodeOp()
	if err != nil {
		return d.resync(evs, "undecodable op: "+err.Error())
	}
	if p := d.inflight; p != nil {
		var mine ot.Op
		if mine, err = ot.Transform(p.op, inc, ot.Left); err == nil {
			inc, err = ot.Transform(inc, p.op, ot.Right)
			p.op = mine
		}
	}
	if err == nil && d.buffer != nil {
		var mine ot.Op
		if mine, err = ot.Transform(d.buffer, inc, ot.Left); err == nil {
			inc, err = ot.Transform(inc, d.buffer, ot.Right)
			d.buffer = mine
		}
	}
	if err == nil {
		_, err = d.text.Apply(inc)
	}
	if err != nil {
		return d.resync(evs, fmt.Sprintf("op %d does not apply: %v", m.Rev, err))
	}
	d.rev = m.Rev
	for k, pr := range d.presence {
		for i := range pr.Sel {
			pr.Sel[i] = ot.TransformSelection(pr.Sel[i], inc)
		}
		d.presence[k] = pr
	}
	return append(evs, Event{Type: EventOp, Doc: d.id, Rev: m.Rev, Seq: m.Seq, Client: m.Client, By: m.By, TS: m.TS, Op: inc})
}

// serverError handles an error about this draft.
func (d *Doc) serverError(m *inMsg, evs []Event) []Event {
	se := &ServerError{Code: m.Code, Message: m.Message, Doc: m.Doc, Seq: m.Seq}
	evs = append(evs, Event{Type: EventError, Doc: d.id, Code: m.Code, Message: m.Message, Seq: m.Seq, Err: se})
	if d.text == nil {
		// The open failed.
		select {
		case d.openWait <- se:
		default:
		}
		return evs
	}
	p := d.inflight
	if m.Seq == 0 || p == nil || m.Seq != p.seq {
		if !d.live && m.Seq == 0 && (m.Code == "not_found" || m.Code == "forbidden") {
			// A resume was refused: the draft is gone for us.
			d.err = se
		}
		return evs
	}
	switch m.Code {
	case "rate_limited", "internal", "unavailable":
		// Nothing was committed (or, if it was, the resend is recognised):
		// resend the same seq a little later.
		p.sent = false
		seq := p.seq
		time.AfterFunc(d.c.opts.RetryAfter, func() {
			d.mu.Lock()
			var evs []Event
			if d.inflight != nil && d.inflight.seq == seq && !d.inflight.sent {
				evs = d.sendInflight(nil)
			}
			d.mu.Unlock()
			d.c.emit(evs)
		})
		return evs
	}
	// The server refused the op for good (bad_op, forbidden, too_large,
	// locked): the local text has edits the server will never have.
	why := "op refused: " + m.Code
	if m.Message != "" {
		why += ": " + m.Message
	}
	return d.resyncRefused(evs, m.Code, why)
}
