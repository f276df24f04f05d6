package server

import (
	"context"
	"fmt"
	"sync"
	"testing"

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

func (s *dupStore) Commit(ctx context.Context, id string, base int, c storage.Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range c.Ops {
		if s.armed && op.Client == s.client && op.Seq == s.seq {
			s.armed = false
			op.Rev = base + 1
			if err := s.Memory.Commit(ctx, id, base, storage.Commit{Ops: []storage.Op{op}}); err != nil {
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
