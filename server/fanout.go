package server

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// Fanout connects the server nodes that share a store (storage.Redis,
// given as Config.Fanout by main): it carries the ops committed by every
// node, and presence, to the nodes whose clients have the draft open, and
// knows which nodes are alive. With it, each loaded draft is watched
// (before it is loaded, so no op falls between), ops committed by other
// nodes are applied and broadcast by the draft's owner in revision order
// (a gap, or a resync event, makes the owner read the missing ops from the
// store), and presence is published to and relayed from the other nodes.
//
// A node that dies cannot say "left" for its clients; the others notice
// that its heartbeat expired and say it for them (liveLoop), so their
// cursors do not stay forever.
type Fanout interface {
	// Events delivers the fan-out events of the watched drafts.
	Events() <-chan storage.Event
	// LazyOwnOps, called before Events, lets this node's own op events
	// arrive undecoded: the owner decodes only those beyond its head
	// (storage.Event.OpsAfter).
	LazyOwnOps()
	Watch(ctx context.Context, id string) error
	Unwatch(id string)
	// PublishPresence publishes a presence frame of connection conn of
	// this node; the others get conn back in Event.Conn.
	PublishPresence(ctx context.Context, id string, conn uint64, payload []byte) error

	// Heartbeat announces this node as alive for ttl.
	Heartbeat(ctx context.Context, ttl time.Duration) error
	// Nodes returns the node ids whose heartbeat has not expired, and
	// those whose heartbeat expired recently (dead).
	Nodes(ctx context.Context) (live, dead map[string]bool, err error)
	// Depart removes this node from the live nodes (clean shutdown).
	Depart(ctx context.Context) error
}

// remoteInbox is what the fan-out loop hands a draft's owner: ops and
// presence from other nodes, and whether events may have been lost. The
// loop never blocks on a draft: it appends under mu and signals.
type remoteInbox struct {
	mu       sync.Mutex
	ops      []storage.Event // EventOps, in arrival order; own ones may be undecoded
	presence []remotePresence
	gone     []string // nodes found dead (liveLoop)
	resync   bool
	signal   chan struct{} // cap 1
}

// remotePresence is a presence frame and the connection of the node that
// published it.
type remotePresence struct {
	node  string
	conn  uint64
	frame []byte
}

func (in *remoteInbox) add(ops *storage.Event, presence *remotePresence, resync bool) {
	in.mu.Lock()
	if ops != nil {
		in.ops = append(in.ops, *ops)
	}
	if presence != nil {
		in.presence = append(in.presence, *presence)
	}
	in.resync = in.resync || resync
	in.mu.Unlock()
	in.wake()
}

// addGone tells the draft that node died.
func (in *remoteInbox) addGone(node string) {
	in.mu.Lock()
	in.gone = append(in.gone, node)
	in.mu.Unlock()
	in.wake()
}

func (in *remoteInbox) wake() {
	select {
	case in.signal <- struct{}{}:
	default:
	}
}

func (in *remoteInbox) take() (ops []storage.Event, presence []remotePresence, gone []string, resync bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	ops, presence, gone, resync = in.ops, in.presence, in.gone, in.resync
	in.ops, in.presence, in.gone, in.resync = nil, nil, nil, false
	return ops, presence, gone, resync
}

// fanLoop delivers fan-out events to the loaded drafts until the events
// channel closes or the server shuts down.
func (s *Server) fanLoop() {
	// Own ops then arrive undecoded, and the owner (applyRemote) decodes
	// only those beyond its head: the echo of every commit this node made
	// would otherwise be decoded just to be skipped.
	s.fan.LazyOwnOps()
	events := s.fan.Events()
	for {
		var ev storage.Event
		var ok bool
		select {
		case ev, ok = <-events:
			if !ok {
				return
			}
		case <-s.ctx.Done():
			return
		}
		if ev.Own && ev.Kind == storage.EventPresence {
			continue // this node relayed it already
		}
		// Own ops are not skipped here: the owner skips ops by revision.
		// Those at or below its head it broadcast already, but a commit
		// whose reply was lost (errUnavailable) may have landed, and then
		// its own event is the node's only news of it.
		s.mu.Lock()
		switch ev.Kind {
		case storage.EventResync:
			for _, d := range s.drafts {
				d.remote.add(nil, nil, true)
			}
		case storage.EventOps:
			if d := s.drafts[ev.Draft]; d != nil {
				d.remote.add(&ev, nil, false)
			}
		case storage.EventPresence:
			if d := s.drafts[ev.Draft]; d != nil && len(ev.Presence) > 0 {
				d.remote.add(nil, &remotePresence{ev.Node, ev.Conn, ev.Presence}, false)
			}
		}
		s.mu.Unlock()
	}
}

// watch subscribes the node to a draft's events before it loads.
func (d *draft) watch() error {
	if d.s.fan == nil {
		return nil
	}
	ctx, cancel := d.storeCtx()
	defer cancel()
	if err := d.s.fan.Watch(ctx, d.id); err != nil {
		return err
	}
	d.watching = true
	return nil
}

func (d *draft) unwatch() {
	if d.watching {
		d.s.fan.Unwatch(d.id)
		d.watching = false
	}
}

// applyRemote applies what other nodes sent: their ops in revision order
// (reading any gap from the store), and their presence.
func (d *draft) applyRemote() {
	events, presence, gone, resync := d.remote.take()
	if d.loadErr != nil {
		return
	}
	var ops []dr.Op
	for _, ev := range events {
		// An own echo at or below the head is skipped undecoded: the owner
		// runs this after its commit, so that is nearly every one.
		evOps, err := ev.OpsAfter(d.rev)
		if err != nil {
			d.s.log.Warn("fan-out event does not decode; reloading", "draft", d.id, "err", err)
			resync = true
		}
		ops = append(ops, evOps...)
	}
	for _, op := range ops {
		if op.Rev <= d.rev {
			continue // already here (loaded, or caught up after a conflict)
		}
		if op.Rev > d.rev+1 {
			resync = true // a gap: the store has the missing ops
			break
		}
		if _, err := d.text.Apply(op.Op); err != nil {
			d.s.log.Error("remote op does not apply; reloading", "draft", d.id, "rev", op.Rev, "err", err)
			resync = true
			break
		}
		d.rev = op.Rev
		d.info.Rev = d.rev
		d.head.Store(int64(d.rev))
		d.remember(op)
		frame := d.ring[len(d.ring)-1].frame
		for _, sub := range d.subs {
			d.push(sub, frame)
		}
		d.afterCommit([]dr.Op{op})
	}
	if resync || d.stale {
		if err := d.catchUp(); err != nil {
			d.s.log.Error("catch up", "draft", d.id, "err", err)
		} else {
			d.stale = false
		}
	}
	for _, p := range presence {
		d.relayRemotePresence(cursorSource{node: p.node, conn: p.conn}, p.frame)
	}
	for _, node := range gone {
		d.dropNode(node)
	}
}

// liveLoop keeps this node's heartbeat and, every NodeTTL/5, looks for
// nodes whose heartbeat expired: each loaded draft then announces "left"
// for the clients of that node it had presence of (dropNode). Only nodes
// that heartbeated are ever declared dead, so a node that never does (an
// older version, during an upgrade) is left alone.
func (s *Server) liveLoop() {
	every := s.cfg.NodeTTL / 5
	tick := time.NewTicker(every)
	defer tick.Stop()
	announced := map[string]bool{} // dead nodes already dropped
	var warned logEvery
	for {
		ctx, cancel := context.WithTimeout(s.ctx, every)
		err := s.fan.Heartbeat(ctx, s.cfg.NodeTTL)
		var dead map[string]bool
		if err == nil {
			_, dead, err = s.fan.Nodes(ctx)
		}
		cancel()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if warned.allow(time.Now()) {
				s.log.Warn("node heartbeat (at most one such line a minute)", "err", err)
			}
		} else {
			var gone []string
			for node := range dead {
				if !announced[node] {
					gone = append(gone, node)
					announced[node] = true
				}
			}
			for node := range announced {
				if !dead[node] { // came back, or forgotten by the store
					delete(announced, node)
				}
			}
			if len(gone) > 0 {
				s.log.Info("nodes stopped heartbeating; their clients' presence is dropped", "nodes", gone)
				s.mu.Lock()
				for _, d := range s.drafts {
					for _, node := range gone {
						d.remote.addGone(node)
					}
				}
				s.mu.Unlock()
			}
		}
		select {
		case <-tick.C:
		case <-s.ctx.Done():
			return
		}
	}
}

// publishPresence sends a presence frame to the other nodes, off the
// owner goroutine. Presence is best effort: when the queue is full, a
// cursor update is dropped (the client's next one supersedes it). A
// departure is not: the contract promises "left" to every subscriber, on
// every node, so a left that finds the queue full (a mass departure)
// waits in leftOverflow, which the publishing loop drains.
func (d *draft) publishPresence(frame []byte, conn uint64, left bool) {
	if d.s.fan == nil {
		return
	}
	select {
	case d.s.presenceOut <- presenceOut{d.id, conn, frame}:
		return
	default:
	}
	if !left {
		return
	}
	d.s.leftMu.Lock()
	d.s.leftOverflow = append(d.s.leftOverflow, presenceOut{d.id, conn, frame})
	d.s.leftMu.Unlock()
	select {
	case d.s.leftWake <- struct{}{}:
	default:
	}
}

type presenceOut struct {
	draft string
	conn  uint64 // Session.conn of the connection the frame belongs to
	frame []byte
}

// presenceLoop publishes presence to the other nodes.
func (s *Server) presenceLoop() {
	publish := func(p presenceOut) {
		ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
		if err := s.fan.PublishPresence(ctx, p.draft, p.conn, json.RawMessage(p.frame)); err != nil {
			s.log.Debug("publish presence", "draft", p.draft, "err", err)
		}
		cancel()
	}
	for {
		select {
		case p := <-s.presenceOut:
			publish(p)
		case <-s.leftWake:
			s.leftMu.Lock()
			lefts := s.leftOverflow
			s.leftOverflow = nil
			s.leftMu.Unlock()
			for _, p := range lefts {
				publish(p)
			}
		case <-s.ctx.Done():
			return
		}
	}
}
