package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// lostReplyStore is a shared store with fan-out whose Commit, while lose
// is set, commits and publishes but then reports errUnavailable, as when
// the connection to Redis dies after the script ran. With quiet set the
// publication is lost too.
type lostReplyStore struct {
	*storage.Memory
	mu     sync.Mutex
	lose   bool
	quiet  bool
	events chan storage.Event
	// published receives each presence payload after it was published.
	published chan []byte
}

func (s *lostReplyStore) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Memory.Commit(ctx, id, base, c); err != nil {
		return err
	}
	if !s.quiet {
		s.events <- storage.Event{Kind: storage.EventOps, Draft: id, Node: "me", Own: true, Ops: c.Ops}
	}
	if s.lose {
		s.lose = false
		return fmt.Errorf("test: connection reset: %w", storage.ErrUnavailable)
	}
	return nil
}

func (s *lostReplyStore) Events() <-chan storage.Event               { return s.events }
func (s *lostReplyStore) LazyOwnOps()                                {} // its events always carry their ops
func (s *lostReplyStore) Watch(ctx context.Context, id string) error { return nil }
func (s *lostReplyStore) Unwatch(id string)                          {}
func (s *lostReplyStore) PublishPresence(ctx context.Context, id string, conn uint64, payload []byte) error {
	s.events <- storage.Event{Kind: storage.EventPresence, Draft: id, Node: "me", Own: true, Conn: conn, Presence: json.RawMessage(payload)}
	if s.published != nil {
		s.published <- payload
	}
	return nil
}

// Its one node never dies.
func (s *lostReplyStore) Heartbeat(ctx context.Context, ttl time.Duration) error { return nil }
func (s *lostReplyStore) Nodes(ctx context.Context) (live, dead map[string]bool, err error) {
	return nil, nil, nil
}
func (s *lostReplyStore) Depart(ctx context.Context) error { return nil }

// TestDraftOwnEventAfterLostReply: a commit whose reply was lost answers
// the submitter with an error, and the node's own event of it is then
// applied and broadcast (it is beyond the head), so the op reaches every
// client and a resend is acked at its revision. Own presence is not relayed
// back.
func TestDraftOwnEventAfterLostReply(t *testing.T) {
	mem := storage.NewMemory()
	createDraft(t, mem, "d", "abc")
	store := &lostReplyStore{Memory: mem, events: make(chan storage.Event, 100), published: make(chan []byte, 10)}
	ts := newTestServer(t, store, Config{Fanout: store})
	a, b := ts.session("a", "CAN"), ts.session("b", "FRA")
	a.open("d", nil)
	b.open("d", nil)

	a.submit(0, 1, ot.Op{ot.Insert("1")})
	a.next()
	b.next()

	store.mu.Lock()
	store.lose = true
	store.mu.Unlock()
	a.submit(1, 2, ot.Op{ot.Skip(4), ot.Insert("2")})
	if m := a.next(); m["type"] != "error" || m["code"] != dr.CodeUnavailable {
		t.Fatalf("a got %v, want unavailable", m)
	}
	// No further submission: the own event alone brings rev 2 to b.
	if m := b.next(); m["type"] != "op" || num(m, "rev") != 2 {
		t.Fatalf("b got %v, want the op of rev 2", m)
	}
	if m := a.next(); m["type"] != "op" || num(m, "rev") != 2 {
		t.Fatalf("a got %v, want the op of rev 2", m)
	}
	a.submit(1, 2, ot.Op{ot.Skip(4), ot.Insert("2")})
	if m := a.next(); m["type"] != "ack" || num(m, "rev") != 2 {
		t.Fatalf("resend: got %v, want ack at rev 2", m)
	}
	if text, rev := ts.text("d"); text != "1abc2" || rev != 2 {
		t.Fatalf("text %q at rev %d, want 1abc2 at 2", text, rev)
	}

	// Own presence is not relayed back to this node's clients.
	if err := a.d.send(context.Background(), &presenceReq{sess: a.Session, rev: 2, sel: [][2]int{{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	if m := b.next(); m["type"] != "presence" {
		t.Fatalf("b got %v, want a's presence", m)
	}
	// Once the presence loop has published it, another node's presence
	// follows it through the fan-out loop and the owner, in order: it is
	// the next frame both receive, with no own presence before it.
	select {
	case <-store.published:
	case <-time.After(5 * time.Second):
		t.Fatal("a's presence was never published")
	}
	marker := `{"type":"presence","doc":"d","rev":2,"sel":[[0,0]],"client":"z"}`
	store.events <- storage.Event{Kind: storage.EventPresence, Draft: "d", Node: "other", Presence: json.RawMessage(marker)}
	for _, s := range []*fakeSession{a, b} {
		if m := s.next(); m["type"] != "presence" || m["client"] != "z" {
			t.Fatalf("%s got %v, want only the other node's presence of z", s.client, m)
		}
	}
	a.expectNone()
	b.expectNone()
}

// TestDraftResyncAfterLostReply: when a commit's reply and its event are
// both lost, the owner reads the log before it serves the draft again, so
// what it shows includes the op that did land.
func TestDraftResyncAfterLostReply(t *testing.T) {
	mem := storage.NewMemory()
	createDraft(t, mem, "d", "abc")
	store := &lostReplyStore{Memory: mem, events: make(chan storage.Event, 100), lose: true, quiet: true}
	ts := newTestServer(t, store, Config{Fanout: store})
	a := ts.session("a", "CAN")
	a.open("d", nil)
	a.submit(0, 1, ot.Op{ot.Insert("1")})
	if m := a.next(); m["type"] != "error" || m["code"] != dr.CodeUnavailable {
		t.Fatalf("a got %v, want unavailable", m)
	}
	if text, rev := ts.text("d"); text != "1abc" || rev != 1 {
		t.Fatalf("after a lost reply: text %q at rev %d, want 1abc at 1 (the op landed)", text, rev)
	}
	if m := a.next(); m["type"] != "op" || num(m, "rev") != 1 {
		t.Fatalf("a got %v, want the op of rev 1", m)
	}
}

// slowBus is a store with fan-out whose presence publishing blocks until
// released, as a slow or briefly unreachable Redis would; it records what
// was published.
type slowBus struct {
	*storage.Memory
	release chan struct{}
	mu      sync.Mutex
	left    map[string]int // client -> left frames published
	other   int
	// allLeft, when set, is closed once wantLeft clients have a left
	// frame published.
	allLeft  chan struct{}
	wantLeft int
}

func (s *slowBus) Events() <-chan storage.Event               { return nil }
func (s *slowBus) LazyOwnOps()                                {}
func (s *slowBus) Watch(ctx context.Context, id string) error { return nil }
func (s *slowBus) Unwatch(id string)                          {}
func (s *slowBus) PublishPresence(ctx context.Context, id string, conn uint64, payload []byte) error {
	<-s.release
	var m struct {
		Client string `json:"client"`
		Left   bool   `json:"left"`
	}
	if err := json.Unmarshal(payload, &m); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.Left {
		s.left[m.Client]++
		if s.allLeft != nil && len(s.left) == s.wantLeft {
			close(s.allLeft)
		}
	} else {
		s.other++
	}
	return nil
}

// Its one node never dies.
func (s *slowBus) Heartbeat(ctx context.Context, ttl time.Duration) error { return nil }
func (s *slowBus) Nodes(ctx context.Context) (live, dead map[string]bool, err error) {
	return nil, nil, nil
}
func (s *slowBus) Depart(ctx context.Context) error { return nil }

// The fakes are fan-outs (wired as Config.Fanout).
var (
	_ Fanout = (*lostReplyStore)(nil)
	_ Fanout = (*slowBus)(nil)
)

// TestLeftReachesOtherNodesInAStorm: more clients leave one node at once
// than the queue to the other nodes holds (1,024) while publishing is
// stalled; every departure is still published once, none dropped.
func TestLeftReachesOtherNodesInAStorm(t *testing.T) {
	const leavers = 1500
	mem := storage.NewMemory()
	createDraft(t, mem, "d", "text")
	bus := &slowBus{Memory: mem, release: make(chan struct{}), left: map[string]int{}, allLeft: make(chan struct{}), wantLeft: leavers}
	ts := newTestServer(t, bus, Config{Fanout: bus})
	gone := make([]*fakeSession, leavers)
	for i := range gone {
		gone[i] = ts.session(fmt.Sprint("leaver-", i), "FRA")
		gone[i].open("d", nil)
	}
	for _, g := range gone {
		if err := g.d.send(context.Background(), &closeReq{sess: g.Session}); err != nil {
			t.Fatal(err)
		}
	}
	ts.text("d") // the owner has announced them all
	close(bus.release)
	select {
	case <-bus.allLeft:
	case <-time.After(30 * time.Second):
	}
	bus.mu.Lock()
	defer bus.mu.Unlock()
	if len(bus.left) != leavers {
		t.Fatalf("left published for %d of %d leavers", len(bus.left), leavers)
	}
	for client, n := range bus.left {
		if n != 1 {
			t.Errorf("left of %s published %d times", client, n)
		}
	}
}
