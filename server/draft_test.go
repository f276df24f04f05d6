package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

var (
	_ dr.Store = (*storage.Memory)(nil)
	_ dr.Store = (*storage.Bolt)(nil)
)

// testServer is a server without a network: tests talk to draft owners
// through fake sessions whose queues they read.
type testServer struct {
	t *testing.T
	*Server
}

func newTestServer(t *testing.T, store dr.Store, cfg Config) *testServer {
	t.Helper()
	cfg.Open = true
	s := New(cfg, store, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testServer{t, s}
}

func createDraft(t *testing.T, store dr.Store, id, text string) {
	t.Helper()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: id, Title: id}, text); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}

// newFakeSession is a session that said hello, without a socket: frames
// stay in its queue (nextFrame).
func newFakeSession(s *Server, ident dr.Identity, client string) *Session {
	ctx, cancel := context.WithCancel(s.ctx)
	return &Session{s: s, ctx: ctx, cancel: cancel, send: newSendQueue(1 << 16), conn: s.conns.Add(1), ctl: make(chan []byte, 4), done: make(chan struct{}),
		hello: true, ident: ident, client: client, drafts: map[string]*draft{}}
}

// nextFrame pops the session's next queued frame, waiting up to timeout.
func (c *Session) nextFrame(timeout time.Duration) ([]byte, bool) {
	deadline := time.After(timeout)
	for {
		c.send.mu.Lock()
		c.send.frames = c.send.presence.merge(c.send.frames)
		if len(c.send.frames) > 0 {
			f := c.send.frames[0]
			c.send.frames = c.send.frames[1:]
			c.send.mu.Unlock()
			return f, true
		}
		c.send.mu.Unlock()
		select {
		case <-c.send.wake:
		case <-deadline:
			return nil, false
		}
	}
}

// fakeSession is a Session without a socket: frames stay in its queue.
type fakeSession struct {
	*Session
	t      *testing.T
	d      *draft
	ident  dr.Identity
	client string
}

func (ts *testServer) session(client, delegation string) *fakeSession {
	ident, err := OpenAuth{}.Hello(context.Background(), Hello{Delegation: delegation, Name: "Tester " + delegation, Role: dr.RoleDrafter})
	if err != nil {
		ts.t.Fatal(err)
	}
	c := newFakeSession(ts.Server, ident, client)
	return &fakeSession{Session: c, t: ts.t, ident: ident, client: client}
}

// open subscribes the session to doc (a snapshot) and returns the frame.
func (f *fakeSession) open(doc string, rev *int) map[string]any {
	f.t.Helper()
	d, err := f.s.acquire(doc)
	if err != nil {
		f.t.Fatal(err)
	}
	f.d = d
	reply := make(chan error, 1)
	if err := d.send(context.Background(), &openReq{sess: f.Session, client: f.client, by: f.ident.Author, role: f.ident.Role, rev: rev, reply: reply}); err != nil {
		f.t.Fatal(err)
	}
	if err := <-reply; err != nil {
		f.t.Fatalf("open %s: %v", doc, err)
	}
	f.t.Cleanup(func() { f.s.release(d) })
	return f.next()
}

func (f *fakeSession) submit(rev int, seq uint64, op ot.Op) {
	f.t.Helper()
	if err := f.d.send(context.Background(), &submitReq{sess: f.Session, ident: f.ident, client: f.client, rev: rev, seq: seq, op: op}); err != nil {
		f.t.Fatal(err)
	}
}

// next returns the next frame queued for the session, decoded.
func (f *fakeSession) next() map[string]any {
	f.t.Helper()
	frame, ok := f.nextFrame(5 * time.Second)
	if !ok {
		f.t.Fatalf("%s: no frame", f.client)
	}
	var m map[string]any
	if err := json.Unmarshal(frame, &m); err != nil {
		f.t.Fatalf("frame %s: %v", frame, err)
	}
	return m
}

// expectNone checks that nothing the session's draft has handled so far
// queued a frame for it. The owner handles its inbox in order and queues
// frames as it handles each request, so once a request sent after
// everything the test did is answered, every frame those caused is queued:
// no waiting for a frame that might still come.
func (f *fakeSession) expectNone() {
	f.t.Helper()
	reply := make(chan error, 1)
	if err := f.d.send(context.Background(), &doReq{fn: func(*DraftState) error { return nil }, reply: reply}); err != nil {
		f.t.Fatal(err)
	}
	select {
	case err := <-reply:
		if err != nil {
			f.t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		f.t.Fatalf("%s: the draft's owner did not answer", f.client)
	}
	if frame, ok := f.nextFrame(0); ok {
		f.t.Fatalf("%s: unexpected frame %s", f.client, frame)
	}
}

func (ts *testServer) text(doc string) (string, int) {
	ts.t.Helper()
	var text string
	var rev int
	if err := ts.Do(context.Background(), doc, func(st *DraftState) error {
		text, rev = st.Text().String(), st.Rev()
		return nil
	}); err != nil {
		ts.t.Fatal(err)
	}
	return text, rev
}

func num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

func TestDraftTransformsConcurrentOps(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "art-1", "hello world")
	ts := newTestServer(t, store, Config{})
	a, b := ts.session("a", "CAN"), ts.session("b", "FRA")
	a.open("art-1", nil)
	b.open("art-1", nil)

	// Both made on rev 0: a inserts at 5 and deletes "world"; b inserts at
	// 5 too (a's, transformed on side left after... b commits second, so b
	// goes after a's insert at the same position) and at the end.
	a.submit(0, 1, ot.Op{ot.Skip(5), ot.Insert(","), ot.Skip(1), ot.DeleteText("world"), ot.Insert("there")})
	b.submit(0, 1, ot.Op{ot.Skip(5), ot.Insert("!"), ot.Skip(6), ot.Insert(" 😭")})

	if m := a.next(); m["type"] != "ack" || num(m, "rev") != 1 || num(m, "seq") != 1 {
		t.Fatalf("a got %v, want ack rev 1", m)
	}
	if m := b.next(); m["type"] != "op" || num(m, "rev") != 1 || m["client"] != "a" {
		t.Fatalf("b got %v, want a's op as rev 1", m)
	} else if by := m["by"].(map[string]any); by["delegation"] != "CAN" {
		t.Fatalf("by = %v, want CAN", by)
	}
	if m := b.next(); m["type"] != "ack" || num(m, "rev") != 2 {
		t.Fatalf("b got %v, want ack rev 2", m)
	}
	m := a.next()
	if m["type"] != "op" || num(m, "rev") != 2 {
		t.Fatalf("a got %v, want b's op as rev 2", m)
	}
	// b's op as broadcast is transformed: it applies to rev 1.
	var bop ot.Op
	raw, _ := json.Marshal(m["op"])
	if err := json.Unmarshal(raw, &bop); err != nil {
		t.Fatal(err)
	}
	rev1, _ := ot.Apply("hello world", ot.Op{ot.Skip(5), ot.Insert(","), ot.Skip(1), ot.DeleteText("world"), ot.Insert("there")})
	rev2, err := ot.Apply(rev1, bop)
	if err != nil {
		t.Fatalf("broadcast op %v does not apply to rev 1 %q: %v", bop, rev1, err)
	}
	// b was transformed on side left against a: its "!" goes before a's
	// "," at the same position, and its insert at the end of the deleted
	// "world" before a's "there".
	const want = "hello!,  😭there"
	if text, rev := ts.text("art-1"); text != want || rev != 2 || rev2 != want {
		t.Fatalf("text %q rev %d (broadcast replay %q), want %q rev 2", text, rev, rev2, want)
	}
	ops, _ := store.Ops(context.Background(), "art-1", 1, 10)
	if len(ops) != 2 || ops[0].Principal != "open:CAN/Tester CAN" {
		t.Fatalf("stored ops %+v", ops)
	}
}

func TestDraftDedupe(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "d", "abc")
	ts := newTestServer(t, store, Config{})
	a := ts.session("a", "CAN")
	a.open("d", nil)
	op := ot.Op{ot.Insert("x")}
	a.submit(0, 7, op)
	if m := a.next(); m["type"] != "ack" || num(m, "rev") != 1 {
		t.Fatalf("got %v, want ack rev 1", m)
	}
	// The same (client, seq) again, on the same or a later base: same ack.
	a.submit(0, 7, op)
	a.submit(1, 7, op)
	for range 2 {
		if m := a.next(); m["type"] != "ack" || num(m, "rev") != 1 || num(m, "seq") != 7 {
			t.Fatalf("resend got %v, want ack rev 1 seq 7", m)
		}
	}
	// Two copies in one batch: committed once.
	a.d.send(context.Background(), &doReq{fn: func(*DraftState) error { return nil }, reply: make(chan error, 1)})
	a.submit(1, 8, ot.Op{ot.Insert("y")})
	a.submit(1, 8, ot.Op{ot.Insert("y")})
	for range 2 {
		if m := a.next(); m["type"] != "ack" || num(m, "rev") != 2 {
			t.Fatalf("batched resend got %v, want ack rev 2", m)
		}
	}
	// A seq that went backwards and was never committed is refused.
	a.submit(2, 3, ot.Op{ot.Insert("z")})
	if m := a.next(); m["type"] != "error" || m["code"] != dr.CodeBadRequest {
		t.Fatalf("old seq got %v, want bad_request", m)
	}
	if text, rev := ts.text("d"); text != "yxabc" || rev != 2 {
		t.Fatalf("text %q rev %d, want yxabc rev 2", text, rev)
	}
	// Another principal may use the same client id and seq.
	b := ts.session("a", "FRA")
	b.open("d", nil)
	b.submit(2, 7, ot.Op{ot.Skip(5), ot.Insert("!")})
	if m := b.next(); m["type"] != "ack" || num(m, "rev") != 3 {
		t.Fatalf("other principal got %v, want ack rev 3", m)
	}

	// After a restart (fresh owner, dedupe from the store), a resend is
	// recognised too.
	ts2 := newTestServer(t, store, Config{})
	a2 := ts2.session("a", "CAN")
	a2.open("d", nil)
	a2.submit(0, 7, op)
	if m := a2.next(); m["type"] != "ack" || num(m, "rev") != 1 {
		t.Fatalf("resend after restart got %v, want ack rev 1", m)
	}
	if text, rev := ts2.text("d"); text != "yxabc!" || rev != 3 {
		t.Fatalf("text %q rev %d, want yxabc! rev 3", text, rev)
	}
}

func TestDraftBadOpsChangeNothing(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "d", "héllo")
	ts := newTestServer(t, store, Config{MaxDraftLen: 20})
	a := ts.session("a", "CAN")
	a.open("d", nil)
	other := ts.session("o", "FRA")
	other.open("d", nil)
	tests := []struct {
		name string
		rev  int
		op   ot.Op
		code string
	}{
		{"skip past end", 0, ot.Op{ot.Skip(6), ot.Insert("x")}, dr.CodeBadOp},
		{"delete past end", 0, ot.Op{ot.Skip(3), ot.Delete(3)}, dr.CodeBadOp},
		{"delete mismatch", 0, ot.Op{ot.DeleteText("hello")}, dr.CodeBadOp},
		{"rev ahead", 5, ot.Op{ot.Insert("x")}, dr.CodeRevAhead},
		{"empty insert", 0, ot.Op{ot.Component{}}, dr.CodeBadOp},
		{"zero skip", 0, ot.Op{ot.Skip(0), ot.Insert("x")}, dr.CodeBadOp},
		{"too long", 0, ot.Op{ot.Insert(strings.Repeat("x", 16))}, dr.CodeTooLarge},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := uint64(i + 1)
			a.submit(tt.rev, seq, tt.op)
			m := a.next()
			if m["type"] != "error" || m["code"] != tt.code || num(m, "seq") != int(seq) || m["doc"] != "d" {
				t.Fatalf("got %v, want error %s with seq %d", m, tt.code, seq)
			}
			if text, rev := ts.text("d"); text != "héllo" || rev != 0 {
				t.Fatalf("text %q rev %d changed", text, rev)
			}
			other.expectNone()
		})
	}
	// The session is still usable.
	a.submit(0, 100, ot.Op{ot.Skip(5), ot.Insert("!")})
	if m := a.next(); m["type"] != "ack" || num(m, "rev") != 1 {
		t.Fatalf("got %v, want ack", m)
	}
}

// failingStore fails Commit while fail is set.
type failingStore struct {
	dr.Store
	fail atomic.Bool
}

var errDisk = errors.New("test: disk on fire")

func (f *failingStore) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	if f.fail.Load() {
		return fmt.Errorf("commit: %w", errDisk)
	}
	return f.Store.Commit(ctx, id, base, c)
}

func TestDraftRollbackOnFailingStore(t *testing.T) {
	mem := storage.NewMemory()
	createDraft(t, mem, "d", "abc")
	store := &failingStore{Store: mem}
	ts := newTestServer(t, store, Config{})
	a, b := ts.session("a", "CAN"), ts.session("b", "FRA")
	a.open("d", nil)
	b.open("d", nil)
	a.submit(0, 1, ot.Op{ot.Insert("1")})
	a.next()
	b.next()

	store.fail.Store(true)
	a.submit(1, 2, ot.Op{ot.Skip(4), ot.Insert("2")})
	b.submit(1, 1, ot.Op{ot.DeleteText("1a")})
	if m := a.next(); m["type"] != "error" || m["code"] != dr.CodeInternal || num(m, "seq") != 2 {
		t.Fatalf("a got %v, want internal error for seq 2", m)
	}
	if m := b.next(); m["type"] != "error" || m["code"] != dr.CodeInternal {
		t.Fatalf("b got %v, want internal error", m)
	}
	a.expectNone()
	b.expectNone()
	if text, rev := ts.text("d"); text != "1abc" || rev != 1 {
		t.Fatalf("after failed commit: text %q rev %d, want 1abc rev 1", text, rev)
	}

	// Storage back: the resends commit normally.
	store.fail.Store(false)
	a.submit(1, 2, ot.Op{ot.Skip(4), ot.Insert("2")})
	if m := a.next(); m["type"] != "ack" || num(m, "rev") != 2 {
		t.Fatalf("got %v, want ack rev 2", m)
	}
	if text, _ := ts.text("d"); text != "1abc2" {
		t.Fatalf("text %q, want 1abc2", text)
	}
}

func TestDraftResumeAndPresence(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "d", "0123456789")
	ts := newTestServer(t, store, Config{RecentOps: 2})
	a := ts.session("a", "CAN")
	a.open("d", nil)
	for i := range 6 {
		a.submit(i, uint64(i+1), ot.Op{ot.Insert(fmt.Sprint(i))})
		a.next()
	}
	// Resume from rev 1: ops 2..6 (older than the ring: from the store).
	rev := 1
	b2 := ts.session("c", "USA")
	b2.d, _ = ts.acquire("d")
	defer ts.release(b2.d)
	reply := make(chan error, 1)
	b2.d.send(context.Background(), &openReq{sess: b2.Session, client: "c", by: b2.ident.Author, rev: &rev, reply: reply})
	if err := <-reply; err != nil {
		t.Fatal(err)
	}
	for r := 2; r <= 6; r++ {
		if m := b2.next(); m["type"] != "op" || num(m, "rev") != r {
			t.Fatalf("resume got %v, want op rev %d", m, r)
		}
	}
	if m := b2.next(); m["type"] != "opened" || num(m, "rev") != 6 {
		t.Fatalf("got %v, want opened rev 6", m)
	}
	// rev ahead
	ahead := 7
	b2.d.send(context.Background(), &openReq{sess: b2.Session, client: "c", rev: &ahead, reply: reply})
	if err := <-reply; dr.ErrorCode(err) != dr.CodeRevAhead {
		t.Fatalf("open at rev 7: %v, want rev_ahead", err)
	}

	// Presence at rev 4: ops 5 and 6 insert at 0, so a cursor at 2 moves to
	// 4 and a selection [0,3] becomes [0,5].
	a.d.send(context.Background(), &presenceReq{sess: a.Session, rev: 4, sel: [][2]int{{2, 2}, {0, 3}}})
	var got map[string]any
	for got == nil || got["type"] != "presence" {
		got = b2.next()
	}
	if got["client"] != "a" || fmt.Sprint(got["sel"]) != "[[4 4] [0 5]]" || num(got, "rev") != 6 {
		t.Fatalf("presence %v, want a's sel [[4 4] [0 5]] at rev 6 (an insert at a cursor leaves it before)", got)
	}
	// A new subscriber sees it in "present"; a leaving one is announced.
	d := ts.session("d", "GBR")
	snap := d.open("d", nil)
	if p, _ := snap["present"].([]any); len(p) != 1 {
		t.Fatalf("present = %v, want a's presence", snap["present"])
	}
	a.d.send(context.Background(), &closeReq{sess: a.Session})
	if m := d.next(); m["type"] != "presence" || m["left"] != true || m["client"] != "a" {
		t.Fatalf("got %v, want a left", m)
	}
}

// countingObserver counts inserted code points per delegation.
type countingObserver struct {
	count map[string]int
}

func (o *countingObserver) ApplyOp(op dr.Op, _ *ot.Text) {
	for _, c := range op.Op {
		o.count[op.By.Delegation] += len([]rune(c.Insert))
	}
}

func (o *countingObserver) Meta() (string, json.RawMessage) {
	b, _ := json.Marshal(o.count)
	return "test-count", b
}

func TestDraftBuiltOpsAndObservers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := storage.NewMemory()
		createDraft(t, store, "d", "[shall/may]")
		ts := newTestServer(t, store, Config{SnapshotEvery: 2})
		// Before any draft loads: the server's observers are read-only after.
		ts.observers = append(ts.observers, namedFactory{"test-count", func(d dr.Draft, snap dr.Snapshot) (Observer, error) {
			o := &countingObserver{count: map[string]int{}}
			if m, ok := snap.Meta["test-count"]; ok {
				if err := json.Unmarshal(m, &o.count); err != nil {
					return nil, err
				}
			}
			return o, nil
		}})
		a := ts.session("a", "CAN")
		a.open("d", nil)
		a.submit(0, 1, ot.Op{ot.Insert("X ")})
		a.next()
		chair, _ := OpenAuth{}.Hello(context.Background(), Hello{Delegation: "CHAIR", Name: "Chair", Role: dr.RoleFacilitator})
		op, err := ts.submitBuilt(context.Background(), "d", chair, func(st *DraftState) (Built, error) {
			text := st.Text().String()
			i := strings.Index(text, "[")
			return Built{
				Op:        ot.Op{ot.Skip(len([]rune(text[:i]))), ot.DeleteText(text[i:]), ot.Insert("may")},
				Kind:      dr.KindResolve,
				Group:     "b0.0",
				Decisions: []dr.Decision{{Group: "b0.0", Choice: dr.ChoiceChoose, Index: 1, Result: "may", By: chair.Author, Alternatives: []string{"shall", "may"}}},
			}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if op.Rev != 2 || op.Client != SystemClient || op.Seq != 2 || op.By.Delegation != "CHAIR" {
			t.Fatalf("built op %+v", op)
		}
		if m := a.next(); m["type"] != "op" || m["client"] != SystemClient || m["kind"] != "resolve" {
			t.Fatalf("a got %v, want the built op", m)
		}
		decisions, _ := store.Decisions(context.Background(), "d")
		if len(decisions) != 1 || decisions[0].Rev != 2 || decisions[0].Draft != "d" {
			t.Fatalf("decisions %+v", decisions)
		}
		if text, _ := ts.text("d"); text != "X may" {
			t.Fatalf("text %q", text)
		}
		// A failing build commits nothing.
		if _, err := ts.submitBuilt(context.Background(), "d", chair, func(*DraftState) (Built, error) {
			return Built{}, dr.Errorf(dr.CodeConflict, "group changed")
		}); dr.ErrorCode(err) != dr.CodeConflict {
			t.Fatalf("err %v, want conflict", err)
		}
		var counts map[string]int
		ts.Do(context.Background(), "d", func(st *DraftState) error {
			counts = st.Observer("test-count").(*countingObserver).count
			return nil
		})
		if counts["CAN"] != 2 || counts["CHAIR"] != 3 {
			t.Fatalf("observer counts %v", counts)
		}
		// The snapshot at rev 2 carries the observer's section; it is
		// written in the background, done once every goroutine waits.
		synctest.Wait()
		snap, err := store.Snapshot(context.Background(), "d", 2)
		if err != nil || snap.Rev != 2 || string(snap.Meta["test-count"]) != `{"CAN":2,"CHAIR":3}` || snap.Text != "X may" {
			t.Fatalf("snapshot at rev 2: %+v %v", snap, err)
		}
	})
}

// TestDraftConcurrentSubmitters is a property: many submitters on stale
// bases; the stored log replays to the text, revisions are 1..N and every
// (client, seq) is committed once.
func TestDraftConcurrentSubmitters(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "d", "Les États parties 締約国")
	ts := newTestServer(t, store, Config{RecentOps: 8})
	const clients, perClient = 6, 60
	var wg sync.WaitGroup
	for c := range clients {
		f := ts.session(fmt.Sprintf("c%d", c), "D"+fmt.Sprint(c))
		f.open("d", nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			known := 0
			for seq := uint64(1); seq <= perClient; seq++ {
				// Insert at the start of a text at least as long as the
				// initial one: valid on any base.
				op := ot.Op{ot.Skip(1 + rng.IntN(5)), ot.Insert(string(rune('a' + c)))}
				base := max(0, known-rng.IntN(20))
				f.submit(base, seq, op)
				if rng.IntN(4) == 0 {
					f.submit(base, seq, op) // a resend
				}
				for {
					m := f.next()
					if m["type"] == "error" {
						t.Errorf("client %d: %v", c, m)
						return
					}
					known = max(known, num(m, "rev"))
					if m["type"] == "ack" && num(m, "seq") == int(seq) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	text, rev := ts.text("d")
	ops, err := store.Ops(context.Background(), "d", 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if rev != clients*perClient || len(ops) != rev {
		t.Fatalf("rev %d, %d ops, want %d", rev, len(ops), clients*perClient)
	}
	replay := "Les États parties 締約国"
	seen := map[string]bool{}
	for i, op := range ops {
		if op.Rev != i+1 {
			t.Fatalf("op %d has rev %d", i, op.Rev)
		}
		k := fmt.Sprint(op.Client, "/", op.Seq)
		if seen[k] {
			t.Fatalf("%s committed twice", k)
		}
		seen[k] = true
		if replay, err = ot.Apply(replay, op.Op); err != nil {
			t.Fatalf("op %d: %v", op.Rev, err)
		}
	}
	if replay != text {
		t.Fatalf("replay %q != text %q", replay, text)
	}
}
