package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// dupStore is a shared store on which another node commits a submission
// just before this node does: this node's Commit is told ErrDuplicate.
type dupStore struct {
	*storage.Memory
	mu     sync.Mutex
	client string // the submission the other node commits first
	seq    uint64
	armed  bool
}

func (s *dupStore) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range c.Ops {
		if s.armed && op.Client == s.client && op.Seq == s.seq {
			s.armed = false
			op.Rev = base + 1
			if err := s.Memory.Commit(ctx, id, base, dr.Commit{Ops: []dr.Op{op}}); err != nil {
				return err
			}
			return fmt.Errorf("test: %s seq %d is rev %d: %w", op.Client, op.Seq, op.Rev, storage.ErrDuplicate)
		}
	}
	return s.Memory.Commit(ctx, id, base, c)
}

// TestDraftDuplicateFromStore: a Commit refused with ErrDuplicate makes the
// owner catch up with the log and ack the resent submission at its stored
// revision (not an internal error), while the other submissions of its
// batch still commit; nothing is applied twice.
func TestDraftDuplicateFromStore(t *testing.T) {
	mem := storage.NewMemory()
	createDraft(t, mem, "d", "abc")
	store := &dupStore{Memory: mem, client: "a", seq: 1, armed: true}
	ts := newTestServer(t, store, Config{})
	a, b := ts.session("a", "CAN"), ts.session("b", "FRA")
	a.open("d", nil)
	b.open("d", nil)

	// One batch: a's op (committed by "another node" meanwhile) and b's.
	a.d.in <- &submitReq{sess: a.Session, ident: a.ident, client: a.client, rev: 0, seq: 1, op: ot.Op{ot.Insert("X")}}
	b.d.in <- &submitReq{sess: b.Session, ident: b.ident, client: b.client, rev: 0, seq: 1, op: ot.Op{ot.Skip(3), ot.Insert("Y")}}

	var aAck, bAck int
	for aAck == 0 {
		m := a.next()
		switch m["type"] {
		case "ack":
			aAck = num(m, "rev")
		case "op":
		default:
			t.Fatalf("a got %v, want the op of rev 1 then an ack", m)
		}
	}
	for bAck == 0 {
		m := b.next()
		switch m["type"] {
		case "ack":
			bAck = num(m, "rev")
		case "op":
		default:
			t.Fatalf("b got %v, want an ack", m)
		}
	}
	if aAck != 1 || bAck != 2 {
		t.Fatalf("acks: a at rev %d, b at rev %d; want 1 and 2", aAck, bAck)
	}
	ops, err := mem.Ops(context.Background(), "d", 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].Client != "a" || ops[1].Client != "b" {
		t.Fatalf("log: %+v, want a's op then b's", ops)
	}
	if text, rev := ts.text("d"); text != "XabcY" || rev != 2 {
		t.Fatalf("text %q at rev %d, want XabcY at 2", text, rev)
	}
	// A later resend is acked from the cache, still not applied again.
	a.submit(0, 1, ot.Op{ot.Insert("X")})
	m := a.next()
	if m["type"] == "op" && num(m, "rev") == 2 { // b's, broadcast before
		m = a.next()
	}
	if m["type"] != "ack" || num(m, "rev") != 1 {
		t.Fatalf("resend: got %v, want ack at rev 1", m)
	}
}

// raceStore is a shared store on which, while armed, another node commits
// an op just before each of this node's commits, so that every one of them
// meets storage.ErrRevConflict.
type raceStore struct {
	*storage.Memory
	mu      sync.Mutex
	armed   bool
	seq     uint64
	commits int
}

func (s *raceStore) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	if s.armed {
		s.seq++
		other := dr.Op{Rev: base + 1, Op: ot.Op{ot.Insert("o")}, Client: "other", Seq: s.seq, Principal: "other-node", TS: 1}
		if err := s.Memory.Commit(ctx, id, base, dr.Commit{Ops: []dr.Op{other}}); err != nil {
			return err
		}
	}
	return s.Memory.Commit(ctx, id, base, c)
}

// TestDraftConflictsExhausted: a batch that keeps losing the race to other
// nodes is retried maxConflictRetries times, then refused as unavailable
// (the client resends it), not as an internal error; the other nodes' ops
// are all applied, and the resend commits once the race ends.
func TestDraftConflictsExhausted(t *testing.T) {
	mem := storage.NewMemory()
	createDraft(t, mem, "d", "abc")
	store := &raceStore{Memory: mem}
	ts := newTestServer(t, store, Config{})
	a := ts.session("a", "CAN")
	a.open("d", nil)

	store.mu.Lock()
	store.armed = true
	store.mu.Unlock()
	a.submit(0, 1, ot.Op{ot.Skip(3), ot.Insert("!")})
	var m map[string]any
	for m = a.next(); m["type"] == "op"; m = a.next() {
	}
	if m["type"] != "error" || m["code"] != dr.CodeUnavailable || num(m, "seq") != 1 {
		t.Fatalf("a got %v, want unavailable for seq 1", m)
	}
	store.mu.Lock()
	store.armed = false
	commits, others := store.commits, int(store.seq)
	store.mu.Unlock()
	if commits != maxConflictRetries+1 {
		t.Fatalf("%d commit attempts, want %d", commits, maxConflictRetries+1)
	}
	if text, rev := ts.text("d"); rev != others || text != strings.Repeat("o", others)+"abc" {
		t.Fatalf("text %q at rev %d, want the %d ops of the other node", text, rev, others)
	}
	a.submit(0, 1, ot.Op{ot.Skip(3), ot.Insert("!")})
	for m = a.next(); m["type"] == "op"; m = a.next() {
	}
	if m["type"] != "ack" || num(m, "rev") != others+1 {
		t.Fatalf("resend: got %v, want ack at rev %d", m, others+1)
	}
}
