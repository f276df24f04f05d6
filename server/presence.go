package server

import (
	"encoding/json"
	"maps"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Presence frames ("presence" relays and "left" announcements) do not go
// through a session's bounded frame queue. When many clients leave one
// draft at once, each departure is one frame for every subscriber that
// stays: N leavers make N frames per subscriber, and a queue of
// Config.SendQueue frames would overflow and disconnect subscribers that
// are keeping up, whose departures then overflow the next ones. Instead a
// session keeps, beside its queue, the latest unsent presence frame of each
// (draft, client): a newer presence or "left" of a client replaces its
// unsent older one, so presence can never overflow the queue, and what is
// pending is bounded by the clients that share a draft with the session.
//
// Order is kept exactly: each pending presence frame remembers how many
// queued frames were ahead of it, and the write pump writes it at that
// place. A presence frame, encoded at the draft's revision when it was
// relayed, therefore still follows the op of that revision and precedes
// later ops, as if it had been queued; a replaced frame is dropped, and its
// replacement goes where the replacement was queued. A subscriber never
// receives a presence of a client after that client's later "left": the
// "left" replaces it.

// maxPendingPresence bounds the distinct (draft, client) presence frames
// one session may have unsent, as a guard on memory: a write pump that has
// not written for so long that this many clients changed presence or left
// in its drafts meanwhile is stuck, and the session is disconnected as
// slow (it resumes from its revision). Far above any one draft's
// subscribers in practice (issue 9 measures up to 5,000 readers).
const maxPendingPresence = 1 << 14

// presenceScan is how many pending entries are searched linearly for a
// client's earlier frame before an index map is built: the usual pending
// set between two writes is a handful, and a map per write would cost an
// allocation each time.
const presenceScan = 8

// presenceKey is one client's presence in one draft. A client id is
// chosen by the client, so another delegation may reuse it: presence is
// keyed by who sent it too, so that one cannot replace or remove the
// other's. sender is the principal of a subscriber of this node, and
// "by:<delegation>/<name>" (the frame's "by") for presence relayed from
// another node, whose principal is not sent; the two never meet, since a
// client's presence and its "left" come from the same node.
type presenceKey struct{ doc, client, sender string }

// cursorKey is one client's cursor in a draft as every node knows it: the
// client id and who sent it ("by"), the two that a presence frame carries
// across nodes (a local subscriber's principal is not sent).
type cursorKey struct {
	client string
	by     dr.Author
}

// cursorSource is a connection that presence comes from: a session of
// this node (sess), or connection conn of another node (sess nil). A
// client that reconnects gets a new connection, on this node or another.
type cursorSource struct {
	sess *Session
	node string
	conn uint64
}

// A draft remembers, for each cursorKey, the source of the last presence
// it relayed (d.cursors): that connection's cursor is the one its
// subscribers show. A "left" is relayed only when it comes from that
// source, or when no presence of the key is remembered; a "left" from any
// other connection is that of a connection replaced since (a client that
// reconnected, its old node noticing the drop late) and would remove the
// new connection's cursor, so it is dropped here. Each node decides with
// what it relayed itself; pub/sub keeps each draft's messages in publish
// order, so every node sees a presence and a "left" of the same
// connection in that order.

// showCursor records that key's cursor now comes from src.
func (d *draft) showCursor(key cursorKey, src cursorSource) {
	if d.cursors == nil {
		d.cursors = make(map[cursorKey]cursorSource)
	}
	d.cursors[key] = src
}

// cursorLeft reports whether a "left" of key from src is to be relayed:
// false when another connection's presence is the last relayed for key.
// When true, key's cursor is forgotten.
func (d *draft) cursorLeft(key cursorKey, src cursorSource) bool {
	if shown, ok := d.cursors[key]; ok && shown != src {
		return false
	}
	delete(d.cursors, key)
	return true
}

// remoteSender is the sender part of the key of presence from another node.
func remoteSender(by dr.Author) string { return "by:" + by.Delegation + "/" + by.Name }

// presenceKeyOf is a local subscriber's presence key.
func (d *draft) presenceKeyOf(sub *subscriber) presenceKey {
	return presenceKey{d.id, sub.client, sub.principal}
}

// pendingPresence is a session's unsent presence frames, at most one per
// presenceKey, in the order they were queued. Guarded by sendQueue.mu. Its
// zero value is empty and holds no memory, as an idle connection's must.
type pendingPresence struct {
	entries []pendingEntry      // queue order (so ascending after)
	index   map[presenceKey]int // key -> live entry, once entries outgrow presenceScan
	live    int                 // entries with a frame
}

type pendingEntry struct {
	key   presenceKey
	after int    // frames queued ahead of it
	frame []byte // nil once replaced
}

// put queues frame as key's latest presence, to be written after the
// first after frames of the queue, replacing key's unsent earlier frame.
// It reports false, queuing nothing, when maxPendingPresence other keys
// are pending.
func (p *pendingPresence) put(key presenceKey, after int, frame []byte) bool {
	i, found := p.find(key)
	if !found && p.live >= maxPendingPresence {
		return false
	}
	if found {
		p.entries[i].frame = nil
		p.live--
	}
	p.entries = append(p.entries, pendingEntry{key: key, after: after, frame: frame})
	p.live++
	if p.index != nil {
		p.index[key] = len(p.entries) - 1
	}
	// A client that keeps changing its cursors leaves replaced entries
	// behind; drop them before they outnumber the live ones.
	if len(p.entries) > 2*p.live+presenceScan {
		p.compact()
	}
	if p.index == nil && len(p.entries) > presenceScan {
		p.index = make(map[presenceKey]int, len(p.entries))
		for i, e := range p.entries {
			if e.frame != nil {
				p.index[e.key] = i
			}
		}
	}
	return true
}

// find returns the index of key's live entry.
func (p *pendingPresence) find(key presenceKey) (int, bool) {
	if p.index != nil {
		i, ok := p.index[key]
		return i, ok
	}
	for i := len(p.entries) - 1; i >= 0; i-- {
		if e := &p.entries[i]; e.frame != nil && e.key == key {
			return i, true
		}
	}
	return 0, false
}

// compact drops replaced entries, keeping the order.
func (p *pendingPresence) compact() {
	live := p.entries[:0]
	for _, e := range p.entries {
		if e.frame != nil {
			if p.index != nil {
				p.index[e.key] = len(live)
			}
			live = append(live, e)
		}
	}
	clear(p.entries[len(live):]) // release the replaced frames
	p.entries = live
}

// merge returns frames with the pending presence frames placed where they
// were queued, and empties p.
func (p *pendingPresence) merge(frames [][]byte) [][]byte {
	if p.live == 0 {
		*p = pendingPresence{}
		return frames
	}
	out := make([][]byte, 0, len(frames)+p.live)
	next := 0
	for _, e := range p.entries {
		if e.frame == nil {
			continue
		}
		out = append(out, frames[next:e.after]...)
		next = e.after
		out = append(out, e.frame)
	}
	out = append(out, frames[next:]...)
	*p = pendingPresence{}
	return out
}

// pushPresence queues a presence frame of key without waking the write
// pump (see signal); false when maxPendingPresence keys are pending.
func (q *sendQueue) pushPresence(key presenceKey, frame []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.presence.put(key, len(q.frames), frame)
}

// queuePresence queues the presence frame of key, replacing the key's
// unsent earlier one, without waking the write pump. It reports false when
// the session has ended, or when too many clients' presence is pending and
// the session was disconnected for it.
func (c *Session) queuePresence(key presenceKey, frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	if !c.send.pushPresence(key, frame) {
		c.s.log.Info("disconnect slow subscriber", "client", c.client, "presence pending", maxPendingPresence)
		c.kill(websocket.CloseTryAgainLater, "too slow: resume from your revision", false)
		return false
	}
	return true
}

// pushPresence queues the presence frame of key for a subscriber; a
// session that has ended (or is hopelessly behind) is reaped after the
// loop that pushes (reap).
func (d *draft) pushPresence(sub *subscriber, key presenceKey, frame []byte) {
	if !sub.sess.queuePresence(key, frame) {
		d.dead = append(d.dead, sub.sess)
		return
	}
	d.wake(sub.sess)
}

// closeBatch handles a close request and those queued right behind it
// together: all of them leave the draft before any "left" is sent, so the
// clients leaving together (a mass disconnect) are not sent each other's
// departures, and each staying subscriber's write pump wakes once for
// all of them. It returns the first request that is not a close, to be
// handled next (keeping arrival order).
func (d *draft) closeBatch(first *closeReq) (next any) {
	d.cork()
	defer d.uncork() // reaps: announces every departure at once
	d.unsubscribe(first.sess, true)
drain:
	for range maxCloseBatch {
		select {
		case x := <-d.in:
			if r, ok := x.(*closeReq); ok {
				d.unsubscribe(r.sess, true)
				continue
			}
			next = x
			break drain
		default:
			break drain
		}
	}
	d.reap()
	d.compactSubs()
	return next
}

// compactSubs rebuilds subs once most of its entries were removed: a Go
// map keeps its size after deletions, and every broadcast iterates it, so
// after a mass departure a draft would keep paying for the subscribers it
// had. It runs only from closeBatch, at the top of the owner's loop, never
// while subs is being iterated.
func (d *draft) compactSubs() {
	if d.subsGone < 64 || d.subsGone < 2*len(d.subs) {
		return
	}
	subs := make(map[*Session]*subscriber, len(d.subs))
	maps.Copy(subs, d.subs)
	d.subs, d.subsGone = subs, 0
}

// maxCloseBatch bounds how many queued close requests one closeBatch
// takes, so a steady stream of them cannot starve the others.
const maxCloseBatch = 1024

// unsubscribe removes a session's subscription and, when tell, queues its
// "left" for the others (and other nodes), sent by the next reap. It never
// pushes, so it may run anywhere but inside a loop over subs.
func (d *draft) unsubscribe(sess *Session, tell bool) {
	sub, ok := d.subs[sess]
	if !ok {
		return
	}
	delete(d.subs, sess)
	d.subsGone++
	if tell {
		d.leaving = append(d.leaving, sub)
	}
}

// reap unsubscribes the sessions that pushes found ended (d.dead) and
// announces every pending departure. Announcing can find more ended
// sessions, reaped in turn: a loop, never re-entry into a loop over subs.
// The owner loop calls it between requests, and uncork before waking the
// pumps.
func (d *draft) reap() {
	for len(d.dead) > 0 || len(d.leaving) > 0 {
		dead := d.dead
		d.dead = nil
		for i, sess := range dead {
			d.unsubscribe(sess, true)
			dead[i] = nil
		}
		d.announceLeft()
	}
}

// announceLeft sends "left" for every subscriber in d.leaving to those
// that stay. Every subscriber that leaves is announced, whether or not it
// had sent presence (the contract); except that when the same client id is
// still subscribed by the same principal through another connection (a
// client that reconnected before its old connection was noticed gone), the
// others get that connection's presence instead, so its cursor does not
// vanish. "left" carries who left ("by"); and when another principal holds
// the same client id here (a delegation reusing someone's id), its
// presence follows the "left", so that a receiver that keys cursors by
// client id alone gets back the cursor the "left" took away.
func (d *draft) announceLeft() {
	for len(d.leaving) > 0 {
		sub := d.leaving[0]
		d.leaving[0] = nil
		d.leaving = d.leaving[1:]
		frame, left := encode(leftMsg{Type: "presence", Doc: d.id, Client: sub.client, Left: true, By: &sub.by}), true
		cursor, mine := cursorKey{sub.client, sub.by}, cursorSource{sess: sub.sess}
		if shown, ok := d.cursors[cursor]; ok && shown.sess == nil {
			// The client reconnected to another node, whose presence
			// came after this connection's: the others show that one.
			// The other nodes decide for themselves.
			d.publishPresence(frame, sub.sess.conn, true)
			continue
		}
		from := sub.sess.conn
		var namesake *subscriber // same client id, another principal
		for _, other := range d.subs {
			if other.client != sub.client || !other.hasSel {
				continue
			}
			if other.principal == sub.principal {
				frame, left, from = d.presenceEntry(other), false, other.sess.conn
				if d.cursors[cursor] == mine {
					d.showCursor(cursor, cursorSource{sess: other.sess})
				}
				namesake = nil
				break
			}
			namesake = other
		}
		if left && !d.cursorLeft(cursor, mine) {
			// Another connection of this node with the same client id and
			// author, but another principal, shows the cursor.
			d.publishPresence(frame, from, true)
			continue
		}
		key := d.presenceKeyOf(sub)
		var namesakeKey presenceKey
		if namesake != nil {
			namesakeKey = d.presenceKeyOf(namesake)
		}
		for _, other := range d.subs {
			d.pushPresence(other, key, frame)
			if namesake != nil && other != namesake {
				d.pushPresence(other, namesakeKey, d.presenceEntry(namesake))
			}
		}
		d.publishPresence(frame, from, left)
		if namesake != nil {
			d.publishPresence(d.presenceEntry(namesake), namesake.sess.conn, false)
		}
	}
	d.leaving = nil
}

// presence records and relays a subscriber's selections, brought up to the
// current revision.
func (d *draft) presence(r *presenceReq) {
	sub, ok := d.subs[r.sess]
	if !ok {
		d.sendError(r.sess, dr.Errorf(dr.CodeBadRequest, "draft %s is not open on this connection", d.id), 0, r.ref)
		return
	}
	if r.rev > d.rev {
		d.sendError(r.sess, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of the draft (at %d)", r.rev, d.rev), 0, r.ref)
		return
	}
	if r.rev < 0 {
		d.sendError(r.sess, dr.Errorf(dr.CodeBadRequest, "rev must not be negative"), 0, r.ref)
		return
	}
	sel := r.sel
	if r.rev < d.rev {
		ops, err := d.opsRange(r.rev+1, d.rev)
		if err != nil {
			d.sendError(r.sess, err, 0, r.ref)
			return
		}
		for _, op := range ops {
			for i := range sel {
				sel[i] = ot.TransformSelection(sel[i], op.Op)
			}
		}
	}
	n := d.text.Len()
	for i := range sel {
		sel[i][0], sel[i][1] = min(max(sel[i][0], 0), n), min(max(sel[i][1], 0), n)
	}
	sub.sel, sub.hasSel = sel, true
	sub.presence = encode(presenceMsg{Type: "presence", Doc: d.id, Rev: d.rev, Sel: sel, Client: sub.client, By: &sub.by, Role: sub.role})
	d.showCursor(cursorKey{sub.client, sub.by}, cursorSource{sess: r.sess})
	key := d.presenceKeyOf(sub)
	for sess, other := range d.subs {
		if sess != r.sess {
			d.pushPresence(other, key, sub.presence)
		}
	}
	d.publishPresence(sub.presence, r.sess.conn, false)
}

// relayRemotePresence hands a presence frame from src, a connection of
// another node, to this node's subscribers, coalesced per (client, by)
// like local presence, and records src as the source of the client's
// cursor, so that a late "left" of a connection replaced since is dropped
// (cursorLeft) and "left" can be said for src's node if it dies
// (dropNode). A frame without a client (not one this server makes) is
// queued as it is.
func (d *draft) relayRemotePresence(src cursorSource, frame []byte) {
	var m struct {
		Client string     `json:"client"`
		By     *dr.Author `json:"by"`
		Left   bool       `json:"left"`
	}
	if err := json.Unmarshal(frame, &m); err != nil || m.Client == "" {
		for _, sub := range d.subs {
			d.push(sub, frame)
		}
		return
	}
	var by dr.Author
	if m.By != nil {
		by = *m.By
	}
	cursor := cursorKey{m.Client, by}
	if m.Left {
		if !d.cursorLeft(cursor, src) {
			return // a replaced connection's
		}
	} else {
		d.showCursor(cursor, src)
	}
	key := presenceKey{d.id, m.Client, remoteSender(by)}
	for _, sub := range d.subs {
		d.pushPresence(sub, key, frame)
	}
}

// dropNode announces "left" to this node's subscribers for every cursor
// whose last presence came from node, a node found dead.
func (d *draft) dropNode(node string) {
	for cursor, src := range d.cursors {
		if src.sess != nil || src.node != node {
			continue
		}
		delete(d.cursors, cursor)
		frame := encode(leftMsg{Type: "presence", Doc: d.id, Client: cursor.client, Left: true, By: &cursor.by})
		key := presenceKey{d.id, cursor.client, remoteSender(cursor.by)}
		for _, sub := range d.subs {
			d.pushPresence(sub, key, frame)
		}
	}
}

// presenceEntry is a subscriber's presence for "present" lists.
func (d *draft) presenceEntry(sub *subscriber) json.RawMessage {
	if sub.presence == nil {
		sub.presence = encode(presenceMsg{Type: "presence", Doc: d.id, Rev: d.rev, Sel: sub.sel, Client: sub.client, By: &sub.by, Role: sub.role})
	}
	return sub.presence
}
