package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/redis/go-redis/v9"
)

// Fan-out between server nodes over Redis pub/sub.
//
// Every draft has one channel, P{id}:events. Commit publishes the committed
// ops on it from inside its Lua script (so an op is published if and only
// if it is committed, in revision order), and PublishPresence publishes
// presence. A node holds ONE pub/sub connection, owned by one goroutine,
// and subscribes to the channels of the drafts its clients have open with
// Watch/Unwatch; everything arrives on the single Events channel.
//
// Pub/sub is fire-and-forget, so the receiver must be ready to fill gaps:
//   - EventOps carries revisions; a receiver whose head is h and that gets
//     an event starting after h+1 loads the missing ops with Ops.
//   - EventResync (Draft "") says events may have been lost for every
//     watched draft: the connection was replaced (Redis restarted, network
//     cut, stale connection) or the Events buffer was full. It is sent once
//     the subscriptions are active again, so a receiver that then reloads
//     each watched draft from the log misses nothing.

// EventKind tells what an Event carries.
type EventKind int

const (
	// EventOps: ops committed on Draft by some node (Ops, consecutive revs).
	EventOps EventKind = iota + 1
	// EventPresence: a presence payload published on Draft by some node.
	EventPresence
	// EventResync: events for any watched draft may have been lost; reload
	// every watched draft's ops from the log.
	EventResync
)

func (k EventKind) String() string {
	switch k {
	case EventOps:
		return "ops"
	case EventPresence:
		return "presence"
	case EventResync:
		return "resync"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one message from the fan-out.
type Event struct {
	Kind  EventKind
	Draft string // "" for EventResync
	// Node is the NodeID of the publisher; Own is true when that is this
	// store's node. Own presence is skipped; own ops are skipped by
	// revision (at or below the head), not by Own: a Commit that returned
	// ErrUnavailable may still have landed, and its event is then news.
	Node string
	Own  bool
	// Ops: EventOps. Nil on an own EventOps event once LazyOwnOps was
	// called: then OpsAfter decodes them, and only when it must.
	Ops      []dr.Op
	Presence json.RawMessage // EventPresence: the payload as published
	// Conn: EventPresence, the publisher's number for the connection the
	// presence belongs to (PublishPresence's conn; 0 from a node that
	// does not say). With Node it tells a late "left" of a replaced
	// connection from the "left" of the connection whose cursor is shown.
	Conn uint64

	// rawOps and lastRev are an own EventOps event left undecoded by
	// LazyOwnOps: the published JSON array of ops and the rev of its last.
	rawOps  string
	lastRev int // > 0 iff rawOps is set
}

// OpsAfter returns the ops of an EventOps event if any has a revision
// above head, and nil if none has (ops are consecutive, so that is the
// last one's). An own event left undecoded by LazyOwnOps is decoded only
// in the first case: a node that applied its own commit skips its echo
// without decoding it. The error (ErrInvalid) says the undecoded JSON is
// not ops: drop the event, as Events drops any malformed message.
func (e Event) OpsAfter(head int) ([]dr.Op, error) {
	if e.lastRev == 0 {
		if len(e.Ops) == 0 || e.Ops[len(e.Ops)-1].Rev <= head {
			return nil, nil
		}
		return e.Ops, nil
	}
	if e.lastRev <= head {
		return nil, nil
	}
	var ops []dr.Op
	if err := json.Unmarshal([]byte(e.rawOps), &ops); err != nil || len(ops) == 0 || ops[len(ops)-1].Rev != e.lastRev {
		return nil, fmt.Errorf("storage: event of draft %s: ops do not decode: %w", e.Draft, ErrInvalid)
	}
	return ops, nil
}

// envelope is the JSON published on a draft channel. Commit's script builds
// the ops form by concatenating the op JSONs it stores.
type envelope struct {
	Node     string          `json:"node"`
	Conn     uint64          `json:"conn,omitempty"` // with presence
	Ops      []dr.Op         `json:"ops,omitempty"`
	Presence json.RawMessage `json:"presence,omitempty"`
}

// Events returns the channel every event of the watched drafts arrives on,
// in the order Redis delivered them (so each draft's ops in revision
// order). It is closed by Close. The first call starts the node's pub/sub
// goroutine. If the receiver falls behind by more than
// RedisOptions.EventBuffer events, events are dropped and an EventResync
// follows as soon as there is room: the goroutine never blocks on it.
func (r *Redis) Events() <-chan Event {
	r.fan.startLoop()
	return r.fan.events
}

// LazyOwnOps makes Events leave this node's own EventOps events undecoded
// (Ops nil): the receiver, at head h, calls OpsAfter(h), which decodes
// only an echo that is news (a commit whose reply was lost). Decoding
// every echo of a node's own commits is wasted work in the common case.
// Call it before Events; a receiver that reads Ops directly must not.
func (r *Redis) LazyOwnOps() {
	r.fan.lazyOwn.Store(true)
}

// Watch subscribes this node to draft id's events. It returns nil once the
// subscription is active: any op committed after Watch returns is
// delivered (or followed by EventResync), so a caller that loads the draft
// after Watch misses nothing. Watch calls are counted; each successful one
// needs an Unwatch. If Redis is unreachable it returns ErrUnavailable at
// once, and if ctx ends first, ctx's error; then nothing is left to undo.
func (r *Redis) Watch(ctx context.Context, id string) error {
	if err := r.check("watch"); err != nil {
		return err
	}
	f := r.fan
	f.startLoop()
	f.mu.Lock()
	if f.isDone() {
		// Close ran, perhaps before the loop could start: nobody would
		// ever release this Watch.
		f.mu.Unlock()
		return fmt.Errorf("storage: watch %s: %w", id, ErrClosed)
	}
	if f.down {
		f.mu.Unlock()
		return fmt.Errorf("storage: watch %s: %w", id, ErrUnavailable)
	}
	f.watched[id]++
	f.nextWaiter++
	n := f.nextWaiter
	ch := make(chan error, 1)
	f.waiters[n] = ch
	if ps := f.ps; ps != nil {
		// A failed write breaks the session; the next one subscribes to
		// every watched draft and releases the waiters then.
		wctx, cancel := context.WithTimeout(context.Background(), pubsubWriteTimeout)
		if f.watched[id] == 1 {
			_ = ps.Subscribe(wctx, r.channel(id))
		}
		// Redis answers in order: the pong means the subscribe is done.
		_ = ps.Ping(wctx, "w"+strconv.FormatUint(n, 10))
		cancel()
	}
	f.mu.Unlock()
	select {
	case err := <-ch:
		if err == nil {
			return nil
		}
		r.Unwatch(id)
		return fmt.Errorf("storage: watch %s: %w", id, err)
	case <-ctx.Done():
		f.mu.Lock()
		delete(f.waiters, n)
		f.mu.Unlock()
		r.Unwatch(id)
		return fmt.Errorf("storage: watch %s: %w", id, ctx.Err())
	}
}

// Unwatch undoes one successful Watch; the last one unsubscribes.
func (r *Redis) Unwatch(id string) {
	f := r.fan
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.watched[id] == 0 {
		return
	}
	f.watched[id]--
	if f.watched[id] > 0 {
		return
	}
	delete(f.watched, id)
	if ps := f.ps; ps != nil {
		wctx, cancel := context.WithTimeout(context.Background(), pubsubWriteTimeout)
		_ = ps.Unsubscribe(wctx, r.channel(id))
		cancel()
	}
}

// PublishPresence publishes payload (JSON, opaque to the store) on draft
// id's channel, tagged with this node's id and conn, the caller's number
// for the connection the presence belongs to (unique on this node; the
// receivers get it as Event.Conn). It does not need Watch. Errors wrap
// ErrInvalid (payload not JSON) or ErrUnavailable.
func (r *Redis) PublishPresence(ctx context.Context, id string, conn uint64, payload []byte) error {
	if err := r.check("publish presence"); err != nil {
		return err
	}
	what := "publish presence " + id
	if !json.Valid(payload) {
		return fmt.Errorf("storage: %s: payload is not JSON: %w", what, ErrInvalid)
	}
	const presenceKey = `,"presence":`
	msg := make([]byte, 0, len(r.fan.presencePrefix)+20+len(presenceKey)+len(payload)+1)
	msg = append(msg, r.fan.presencePrefix...)
	msg = strconv.AppendUint(msg, conn, 10)
	msg = append(msg, presenceKey...)
	msg = append(msg, payload...)
	msg = append(msg, '}')
	return r.fail(ctx, what, r.client.Publish(ctx, r.channel(id), msg).Err())
}

// fanout is the node's pub/sub state. mu guards ps, watched, waiters,
// nextWaiter, upWaiters and down; the loop goroutine alone touches lost.
type fanout struct {
	r              *Redis
	node           string
	opsPrefix      string // `{"node":"<id>","ops":[` ; the script closes it
	presencePrefix string // `{"node":"<id>","conn":` ; conn and presence follow
	interval       time.Duration
	dialBudget     time.Duration // for connecting a session
	events         chan Event

	start  sync.Once
	done   chan struct{} // closed by close
	exited chan struct{} // closed when the loop returns

	mu         sync.Mutex
	ps         *redis.PubSub // the current session; nil between sessions
	watched    map[string]int
	waiters    map[uint64]chan error // Watch calls waiting for their pong
	nextWaiter uint64
	upWaiters  []chan error // released when the current session is up
	down       bool         // the last session failed; none is up yet

	lazyOwn atomic.Bool // LazyOwnOps was called

	lost    bool         // an event was dropped; an EventResync is owed
	dropped atomic.Int64 // events dropped for a full buffer, ever
	ended   atomic.Int64 // pub/sub sessions ended, ever
}

func newFanout(r *Redis, opts RedisOptions) *fanout {
	node, _ := json.Marshal(opts.NodeID)
	return &fanout{
		r:              r,
		node:           opts.NodeID,
		opsPrefix:      `{"node":` + string(node) + `,"ops":[`,
		presencePrefix: `{"node":` + string(node) + `,"conn":`,
		interval:       opts.PingInterval,
		dialBudget:     max(opts.PingInterval, 2*time.Second),
		events:         make(chan Event, opts.EventBuffer),
		done:           make(chan struct{}),
		exited:         make(chan struct{}),
		watched:        make(map[string]int),
		waiters:        make(map[uint64]chan error),
	}
}

// pubsubWriteTimeout bounds a write on the pub/sub connection made while
// holding fanout.mu: go-redis redials a broken connection inside such a
// write, and a dial into a partition must not hold the lock for long.
const pubsubWriteTimeout = time.Second

func (f *fanout) startLoop() {
	f.start.Do(func() { go f.run() })
}

func (f *fanout) close() {
	close(f.done)
	started := true
	f.start.Do(func() {
		started = false
		close(f.exited)
		close(f.events)
	})
	f.mu.Lock()
	ps := f.ps
	f.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
	if started {
		<-f.exited
	}
}

func (f *fanout) isDone() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// run owns the pub/sub connection: it runs one session after another until
// close. A session is one PubSub (one connection); any failure ends it and
// the next one subscribes to every watched draft again.
func (f *fanout) run() {
	defer close(f.exited)
	defer close(f.events)
	const minBackoff, maxBackoff = 50 * time.Millisecond, time.Second
	backoff := minBackoff
	first := true
	for !f.isDone() {
		wasUp := f.session(first)
		if f.isDone() {
			return
		}
		if wasUp {
			first = false
			backoff = minBackoff
		}
		select {
		case <-f.done:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session runs one pub/sub connection until it fails or the store closes,
// and reports whether it came up.
func (f *fanout) session(first bool) (up bool) {
	ctx := context.Background()
	ps := f.r.client.Subscribe(ctx)
	defer func() {
		_ = ps.Close()
		f.mu.Lock()
		f.ended.Add(1)
		f.ps = nil
		f.down = true
		for n, ch := range f.waiters {
			ch <- ErrUnavailable
			delete(f.waiters, n)
		}
		for _, ch := range f.upWaiters {
			ch <- ErrUnavailable
		}
		f.upWaiters = nil
		f.mu.Unlock()
	}()

	// Connect (dial) before taking the lock: Watch must not wait on a dial.
	cctx, cancel := context.WithTimeout(ctx, f.dialBudget)
	err := ps.Ping(cctx, "connect")
	cancel()
	if err != nil {
		return false
	}

	f.mu.Lock()
	if f.isDone() {
		f.mu.Unlock()
		return false
	}
	f.ps = ps
	chans := make([]string, 0, len(f.watched))
	for id := range f.watched {
		chans = append(chans, f.r.channel(id))
	}
	// Waiters so far are covered by this session's subscriptions; the
	// ones that come later wait for their own pong.
	for n, ch := range f.waiters {
		f.upWaiters = append(f.upWaiters, ch)
		delete(f.waiters, n)
	}
	wctx, cancel := context.WithTimeout(ctx, pubsubWriteTimeout)
	if len(chans) > 0 {
		err = ps.Subscribe(wctx, chans...)
	}
	if err == nil {
		err = ps.Ping(wctx, "up")
	}
	cancel()
	f.mu.Unlock()
	if err != nil {
		return false
	}

	pingSent := time.Now()
	pinging := true
	for {
		wait := f.interval
		if f.lost {
			wait = min(wait, 20*time.Millisecond)
		}
		msg, err := ps.ReceiveTimeout(ctx, wait)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return up
			}
			if pinging && time.Since(pingSent) > 2*f.interval {
				// Stale: no answer to a ping for two intervals.
				return up
			}
			if !pinging {
				if ps.Ping(ctx, "idle") != nil {
					return up
				}
				pinging, pingSent = true, time.Now()
			}
			f.flushLost()
			continue
		}
		pinging = false
		switch m := msg.(type) {
		case *redis.Pong:
			switch {
			case m.Payload == "up":
				up = true
				f.mu.Lock()
				f.down = false
				for _, ch := range f.upWaiters {
					ch <- nil
				}
				f.upWaiters = nil
				f.mu.Unlock()
				if !first {
					f.deliver(Event{Kind: EventResync})
				}
			case strings.HasPrefix(m.Payload, "w"):
				n, _ := strconv.ParseUint(m.Payload[1:], 10, 64)
				f.mu.Lock()
				if ch, ok := f.waiters[n]; ok {
					ch <- nil
					delete(f.waiters, n)
				}
				f.mu.Unlock()
			}
		case *redis.Message:
			f.message(m)
		}
		f.flushLost()
	}
}

// message turns a pub/sub message into an Event for a watched draft.
// Messages that are not ours (bad JSON) or for drafts no longer watched are
// dropped.
func (f *fanout) message(m *redis.Message) {
	id, ok := strings.CutPrefix(m.Channel, f.r.prefix+"{")
	if !ok {
		return
	}
	id, ok = strings.CutSuffix(id, "}:events")
	if !ok {
		return
	}
	f.mu.Lock()
	watched := f.watched[id] > 0
	f.mu.Unlock()
	if !watched {
		return
	}
	if f.lazyOwn.Load() {
		if raw, last, ok := f.ownOps(m.Payload); ok {
			f.deliver(Event{Kind: EventOps, Draft: id, Node: f.node, Own: true, rawOps: raw, lastRev: last})
			return
		}
	}
	var env envelope
	if err := json.Unmarshal([]byte(m.Payload), &env); err != nil {
		return
	}
	e := Event{Draft: id, Node: env.Node, Own: env.Node == f.node}
	switch {
	case len(env.Ops) > 0:
		e.Kind, e.Ops = EventOps, env.Ops
	case env.Presence != nil:
		e.Kind, e.Presence, e.Conn = EventPresence, env.Presence, env.Conn
	default:
		return
	}
	f.deliver(e)
}

// ownOps recognises the ops envelope this node's commit script builds,
// opsPrefix + op JSONs joined by "," + "]}", without decoding it: it
// returns the JSON array of the ops and the rev of the last one. Each op
// JSON is a json.Marshal'ed Op, so it starts with `{"rev":`, and that text
// appears nowhere else (inside a JSON string a quote is escaped, and no
// other object of an Op has a "rev" key): its last occurrence starts the
// last op. Anything else is not ok, and goes through the full decode.
func (f *fanout) ownOps(payload string) (raw string, last int, ok bool) {
	body, ok := strings.CutPrefix(payload, f.opsPrefix)
	if !ok {
		return "", 0, false
	}
	body, ok = strings.CutSuffix(body, "]}")
	if !ok {
		return "", 0, false
	}
	const revKey = `{"rev":`
	first, ok := leadingRev(body, revKey)
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndex(body, revKey)
	last, ok = leadingRev(body[i:], revKey)
	if !ok || last < first {
		return "", 0, false
	}
	// The array, brackets included, as a slice of the payload: no copy.
	return payload[len(f.opsPrefix)-1 : len(payload)-1], last, true
}

// leadingRev parses the positive revision in s = key + digits + "," or "}".
func leadingRev(s, key string) (int, bool) {
	s, ok := strings.CutPrefix(s, key)
	if !ok {
		return 0, false
	}
	n, i := 0, 0
	for ; i < len(s) && i < 18 && '0' <= s[i] && s[i] <= '9'; i++ {
		n = 10*n + int(s[i]-'0')
	}
	if i == 0 || n == 0 || i == len(s) || (s[i] != ',' && s[i] != '}') {
		return 0, false
	}
	return n, true
}

// deliver sends e without blocking; if the buffer is full, e is dropped
// and an EventResync is owed. Loop goroutine only.
func (f *fanout) deliver(e Event) {
	if f.lost {
		if !f.trySend(Event{Kind: EventResync}) {
			return
		}
		f.lost = false
		if e.Kind == EventResync {
			return
		}
	}
	if !f.trySend(e) {
		f.lost = true
		f.dropped.Add(1)
	}
}

func (f *fanout) flushLost() {
	if f.lost && f.trySend(Event{Kind: EventResync}) {
		f.lost = false
	}
}

func (f *fanout) trySend(e Event) bool {
	select {
	case f.events <- e:
		return true
	default:
		return false
	}
}

// Node liveness. Each node announces itself in one sorted set,
// P{@global}:nodes, member its NodeID and score the time (Redis's own
// clock, so nodes' clocks need not agree) until which it counts as alive.
// A node renews its entry with Heartbeat well within that time; a node
// that dies stops renewing, and LiveNodes stops listing it once the time
// passes. The server uses it to drop the presence of a dead node's clients
// (server/fanout.go), which would otherwise never get "left".

// heartbeatLua: KEYS[1] the set; ARGV[1] the node, ARGV[2] the TTL in ms
// (0: remove the node).
const heartbeatLua = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if tonumber(ARGV[2]) == 0 then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
`

// nodesLua: KEYS[1] the set; ARGV[1] how long (ms) an expired entry is
// kept. Removes the entries expired longer ago and returns the live nodes
// and the nodes that expired since, as {live, dead}.
const nodesLua = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
return {redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf'), redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)}
`

// deadNodesKept is how long a node whose heartbeat expired is still
// reported as dead by Nodes: long enough for every other node to notice.
const deadNodesKept = 10 * time.Minute

var (
	heartbeatScript = redis.NewScript(heartbeatLua)
	nodesScript     = redis.NewScript(nodesLua)
)

// Heartbeat announces this node as alive for ttl from now (Redis's
// clock). Call it every fraction of ttl. Errors wrap ErrUnavailable or
// ErrClosed.
func (r *Redis) Heartbeat(ctx context.Context, ttl time.Duration) error {
	if err := r.check("heartbeat"); err != nil {
		return err
	}
	ms := max(ttl.Milliseconds(), 1)
	return r.fail(ctx, "heartbeat", heartbeatScript.Run(ctx, r.client, []string{r.globalKey("nodes")}, r.node, ms).Err())
}

// Depart removes this node from the live nodes at once (a clean shutdown),
// so that the others need not wait for its heartbeat to expire.
func (r *Redis) Depart(ctx context.Context) error {
	if err := r.check("depart"); err != nil {
		return err
	}
	return r.fail(ctx, "depart", heartbeatScript.Run(ctx, r.client, []string{r.globalKey("nodes")}, r.node, 0).Err())
}

// Nodes returns the NodeIDs whose last Heartbeat has not expired (live),
// and those whose heartbeat expired within the last ten minutes (dead: a
// node that Depart removed is in neither).
func (r *Redis) Nodes(ctx context.Context) (live, dead map[string]bool, err error) {
	if err := r.check("nodes"); err != nil {
		return nil, nil, err
	}
	res, err := nodesScript.Run(ctx, r.client, []string{r.globalKey("nodes")}, deadNodesKept.Milliseconds()).Slice()
	if err != nil {
		return nil, nil, r.fail(ctx, "nodes", err)
	}
	sets := [2]map[string]bool{{}, {}}
	for i := range min(len(res), 2) {
		ids, _ := res[i].([]any)
		for _, id := range ids {
			if s, ok := id.(string); ok {
				sets[i][s] = true
			}
		}
	}
	return sets[0], sets[1], nil
}
