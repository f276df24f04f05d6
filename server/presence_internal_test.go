package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// runQueueScript drives a sendQueue with script and checks every take
// against a model of the queue without coalescing: a take must return
// exactly the frames pushed since the previous take, in push order, less
// each presence frame that a later presence frame of the same (draft,
// client) replaced before the take. Each byte is one step: 0 pushes an
// op frame, 1 and 2 push a presence or "left" frame of one of 40 clients
// in one of 2 drafts (the next byte picks which), 3 takes.
func runQueueScript(t *testing.T, script []byte) {
	q := newSendQueue(1 << 20)
	type pushed struct {
		frame    string
		key      presenceKey
		presence bool
	}
	var epoch []pushed
	n := 0
	check := func() {
		t.Helper()
		var want []string
		for i, p := range epoch {
			replaced := p.presence && slices.ContainsFunc(epoch[i+1:], func(later pushed) bool { return later.presence && later.key == p.key })
			if !replaced {
				want = append(want, p.frame)
			}
		}
		var got []string
		for _, f := range q.take() {
			got = append(got, string(f))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("take got %q, want %q", got, want)
		}
		epoch = epoch[:0]
	}
	for i := 0; i < len(script); i++ {
		n++
		step := script[i] % 4
		switch step {
		case 0:
			f := fmt.Sprintf("op%d", n)
			if !q.push([]byte(f), false) {
				t.Fatal("push refused")
			}
			epoch = append(epoch, pushed{frame: f})
		case 1, 2:
			var pick byte
			if i+1 < len(script) {
				i++
				pick = script[i]
			}
			key := presenceKey{doc: fmt.Sprint("d", pick%2), client: fmt.Sprint("c", pick/2%40)}
			kind := "p"
			if step == 2 {
				kind = "left"
			}
			f := fmt.Sprintf("%s:%s/%s#%d", kind, key.doc, key.client, n)
			if !q.pushPresence(key, []byte(f)) {
				t.Fatal("pushPresence refused")
			}
			epoch = append(epoch, pushed{frame: f, key: key, presence: true})
		case 3:
			check()
		}
	}
	check()
}

// FuzzPendingPresence: presence coalescing keeps every op frame, in order,
// and each client's latest presence at the place it was queued.
func FuzzPendingPresence(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 1, 5, 3})
	f.Add([]byte{1, 7, 0, 2, 7, 1, 7, 0, 0, 3, 2, 9})
	many := make([]byte, 0, 600)
	for i := range 200 {
		// 80 keys and frequent replacement: the index map and compaction.
		many = append(many, 1, byte(i*7), 0)
	}
	f.Add(append(many, 3, 1, 1, 2, 1, 3))
	f.Fuzz(func(t *testing.T, script []byte) {
		runQueueScript(t, script)
	})
}

// TestPendingPresenceBound: presence does not count against the frame
// limit, but one session's distinct pending presence is bounded; past it
// the session is disconnected as slow.
func TestPendingPresenceBound(t *testing.T) {
	q := newSendQueue(1)
	if !q.push([]byte("op"), false) {
		t.Fatal("push refused")
	}
	for i := range maxPendingPresence {
		if !q.pushPresence(presenceKey{"d", fmt.Sprint(i), "tok:ana"}, []byte("p")) {
			t.Fatalf("presence %d refused, want room for %d", i, maxPendingPresence)
		}
	}
	if !q.pushPresence(presenceKey{"d", "7", "tok:ana"}, []byte("left")) {
		t.Fatal("a replacement was refused at the bound")
	}
	if q.pushPresence(presenceKey{"d", "one more", "tok:ana"}, []byte("p")) {
		t.Fatalf("presence of client %d accepted, want the bound %d", maxPendingPresence+1, maxPendingPresence)
	}
	if got := len(q.take()); got != maxPendingPresence+1 {
		t.Fatalf("took %d frames, want %d", got, maxPendingPresence+1)
	}

	ts := newTestServer(t, storage.NewMemory(), Config{})
	c := ts.session("c", "CAN")
	for i := range maxPendingPresence {
		c.send.pushPresence(presenceKey{"d", fmt.Sprint(i), "tok:ana"}, []byte("p"))
	}
	if c.queuePresence(presenceKey{"d", "one more", "tok:ana"}, []byte("p")) {
		t.Fatal("queuePresence past the bound reported success")
	}
	select {
	case <-c.done:
	default:
		t.Fatal("the session was not disconnected")
	}
}

// nextOfType skips frames until one of type typ.
func (f *fakeSession) nextOfType(typ string) map[string]any {
	f.t.Helper()
	for {
		if m := f.next(); m["type"] == typ {
			return m
		}
	}
}

// drain returns every frame queued for the session, decoded, once none
// has come for wait.
func (f *fakeSession) drain(wait time.Duration) []map[string]any {
	f.t.Helper()
	var out []map[string]any
	for {
		frame, ok := f.nextFrame(wait)
		if !ok {
			return out
		}
		var m map[string]any
		if err := json.Unmarshal(frame, &m); err != nil {
			f.t.Fatalf("frame %s: %v", frame, err)
		}
		out = append(out, m)
	}
}

// TestPresenceKeepsItsPlaceAmongOps: a subscriber that has not read yet
// gets each client's latest presence only, after the op of the revision it
// refers to and before the next op; a "left" replaces the leaver's unsent
// presence.
func TestPresenceKeepsItsPlaceAmongOps(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "d", "0123456789")
	ts := newTestServer(t, store, Config{})
	a, b, c := ts.session("a", "CAN"), ts.session("b", "FRA"), ts.session("c", "GBR")
	a.open("d", nil)
	b.open("d", nil)
	c.open("d", nil)
	edit := func(rev int) {
		t.Helper()
		a.submit(rev, uint64(rev+1), ot.Op{ot.Insert("x")})
		if m := a.nextOfType("ack"); num(m, "rev") != rev+1 {
			t.Fatalf("got %v, want ack rev %d", m, rev+1)
		}
	}
	point := func(rev, at int) {
		t.Helper()
		if err := b.d.send(context.Background(), &presenceReq{sess: b.Session, rev: rev, sel: [][2]int{{at, at}}}); err != nil {
			t.Fatal(err)
		}
		ts.text("d") // the owner has relayed it
	}
	edit(0)
	point(1, 3)
	edit(1)
	point(2, 5)
	edit(2)
	var got []string
	for _, m := range c.drain(50 * time.Millisecond) {
		got = append(got, fmt.Sprintf("%v@%d%v", m["type"], num(m, "rev"), m["sel"]))
	}
	want := []string{"op@1<nil>", "op@2<nil>", "presence@2[[5 5]]", "op@3<nil>"}
	if !slices.Equal(got, want) {
		t.Fatalf("c got %q, want %q", got, want)
	}

	point(3, 1)
	edit(3)
	if err := b.d.send(context.Background(), &closeReq{sess: b.Session}); err != nil {
		t.Fatal(err)
	}
	ts.text("d")
	got = got[:0]
	for _, m := range c.drain(50 * time.Millisecond) {
		got = append(got, fmt.Sprintf("%v@%d %v %v", m["type"], num(m, "rev"), m["client"], m["left"]))
	}
	want = []string{"op@4 a <nil>", "presence@0 b true"}
	if !slices.Equal(got, want) {
		t.Fatalf("c got %q, want %q (b's presence replaced by its left)", got, want)
	}
}

// TestMassLeaveIsOneBatch: clients whose close requests are queued
// together leave together: the one that stays gets one "left" for each,
// and none of them is sent the others' departures.
func TestMassLeaveIsOneBatch(t *testing.T) {
	const leavers = 200 // below the owner's inbox capacity, so all queue up
	store := storage.NewMemory()
	createDraft(t, store, "d", "text")
	ts := newTestServer(t, store, Config{})
	stay := ts.session("stay", "CAN")
	stay.open("d", nil)
	gone := make([]*fakeSession, leavers)
	for i := range gone {
		gone[i] = ts.session(fmt.Sprint("leaver-", i), "FRA")
		gone[i].open("d", nil)
		gone[i].d.send(context.Background(), &presenceReq{sess: gone[i].Session, rev: 0, sel: [][2]int{{i % 4, i % 4}}})
	}
	ts.text("d")
	if got := len(stay.drain(50 * time.Millisecond)); got != leavers {
		t.Fatalf("stay got %d frames before the storm, want %d presence", got, leavers)
	}
	for _, g := range gone {
		g.drain(time.Millisecond) // the owner is done with them (ts.text)
	}

	// Hold the owner while every close queues up behind it.
	gate := make(chan struct{})
	held := make(chan error, 1)
	d := stay.d
	if err := d.send(context.Background(), &doReq{fn: func(*DraftState) error { <-gate; return nil }, reply: held}); err != nil {
		t.Fatal(err)
	}
	for _, g := range gone {
		if err := d.send(context.Background(), &closeReq{sess: g.Session}); err != nil {
			t.Fatal(err)
		}
	}
	close(gate)
	<-held
	ts.text("d")

	left := map[any]int{}
	for _, m := range stay.drain(50 * time.Millisecond) {
		if m["type"] != "presence" || m["left"] != true {
			t.Fatalf("stay got %v, want only left", m)
		}
		left[m["client"]]++
	}
	for _, g := range gone {
		if left[g.client] != 1 {
			t.Fatalf("stay got %d left for %s, want 1", left[g.client], g.client)
		}
		for _, m := range g.drain(time.Millisecond) {
			t.Fatalf("%s, which left with the others, got %v", g.client, m)
		}
	}
	if len(left) != leavers {
		t.Fatalf("stay got left for %d clients, want %d", len(left), leavers)
	}
}

// BenchmarkMassLeave: 1,000 subscribers of one draft, of whom 990 leave
// at once, by disconnecting (their sessions end before their close
// requests reach the owner) or by closing the draft (connections stay).
// It reports the frames the departures queue for all 1,000 and the time
// the owner takes to handle them.
func BenchmarkMassLeave(b *testing.B) {
	for _, disconnect := range []bool{true, false} {
		name := map[bool]string{true: "disconnect", false: "close"}[disconnect]
		b.Run(name, func(b *testing.B) { benchMassLeave(b, disconnect) })
	}
}

func benchMassLeave(b *testing.B, disconnect bool) {
	const subs, stay = 1000, 10
	store := storage.NewMemory()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: "d"}, "text"); err != nil {
		b.Fatal(err)
	}
	s := New(Config{Open: true}, store, nil)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	d, err := s.acquire("d")
	if err != nil {
		b.Fatal(err)
	}
	defer s.release(d)
	ident, _ := OpenAuth{}.Hello(context.Background(), Hello{Delegation: "CAN", Name: "Ana", Role: dr.RoleDrafter})
	frames := 0
	for b.Loop() {
		b.StopTimer()
		sessions := make([]*Session, subs)
		for i := range sessions {
			sessions[i] = newFakeSession(s, ident, fmt.Sprint("c", i))
			reply := make(chan error, 1)
			d.send(context.Background(), &openReq{sess: sessions[i], client: sessions[i].client, by: ident.Author, reply: reply})
			if err := <-reply; err != nil {
				b.Fatal(err)
			}
			sessions[i].send.take()
		}
		gate, held := make(chan struct{}), make(chan error, 1)
		d.send(context.Background(), &doReq{fn: func(*DraftState) error { <-gate; return nil }, reply: held})
		if disconnect {
			for _, c := range sessions[stay:] {
				c.kill(0, "", false)
			}
		}
		go func() {
			for _, c := range sessions[stay:] {
				d.send(context.Background(), &closeReq{sess: c})
			}
		}()
		// The inbox is full of closes (a channel's length: no event).
		testenv.Until(b, "the inbox full of closes", func() bool { return len(d.in) == cap(d.in) })
		b.StartTimer()
		close(gate)
		<-held
		for n := subs; n > stay; { // until the sender's last closes are in
			s.Do(context.Background(), "d", func(st *DraftState) error { n = st.Subscribers(); return nil })
		}
		b.StopTimer()
		for _, c := range sessions {
			frames += len(c.send.take())
		}
		for _, c := range sessions[:stay] {
			d.send(context.Background(), &closeReq{sess: c})
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
}

// TestLeftOfAReplacedConnection: a client that reconnected (same client id
// and author, new connection) before its old connection was noticed gone
// keeps its cursor: when the old connection leaves, the others get the new
// connection's presence, not "left". A different author with the same
// client id does not count.
func TestLeftOfAReplacedConnection(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "d", "0123456789")
	ts := newTestServer(t, store, Config{})
	watch := ts.session("watch", "GBR")
	watch.open("d", nil)
	old, renewed := ts.session("c", "CAN"), ts.session("c", "CAN")
	other := ts.session("c", "FRA") // same client id, another author
	for _, s := range []*fakeSession{old, renewed, other} {
		s.open("d", nil)
	}
	if err := renewed.d.send(context.Background(), &presenceReq{sess: renewed.Session, rev: 0, sel: [][2]int{{4, 4}}}); err != nil {
		t.Fatal(err)
	}
	ts.text("d")
	watch.drain(20 * time.Millisecond)

	for _, leave := range []struct {
		who      *fakeSession
		wantLeft bool
	}{{old, false}, {renewed, true}} {
		if err := leave.who.d.send(context.Background(), &closeReq{sess: leave.who.Session}); err != nil {
			t.Fatal(err)
		}
		ts.text("d")
		got := watch.drain(50 * time.Millisecond)
		if len(got) != 1 || got[0]["client"] != "c" {
			t.Fatalf("watch got %v, want one presence frame of c", got)
		}
		if isLeft := got[0]["left"] == true; isLeft != leave.wantLeft {
			t.Errorf("when %s's connection left, watch got %v (want left=%v)", leave.who.ident.Author.Delegation, got[0], leave.wantLeft)
		}
	}
}

// TestPresenceCarriesRole: relayed presence and the "present" list carry
// the sender's role (an extension), so that a projector's screen view can
// follow the facilitator's cursor rather than whoever moved last.
func TestPresenceCarriesRole(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "d", "0123456789")
	ts := newTestServer(t, store, Config{})
	chairID, err := OpenAuth{}.Hello(context.Background(), Hello{Delegation: "CHAIR", Name: "Chair", Role: dr.RoleFacilitator})
	if err != nil {
		t.Fatal(err)
	}
	chair := &fakeSession{Session: newFakeSession(ts.Server, chairID, "chair"), t: t, ident: chairID, client: "chair"}
	watch := ts.session("watch", "GBR")
	chair.open("d", nil)
	watch.open("d", nil)
	if err := chair.d.send(context.Background(), &presenceReq{sess: chair.Session, rev: 0, sel: [][2]int{{2, 2}}}); err != nil {
		t.Fatal(err)
	}
	ts.text("d")
	got := watch.drain(50 * time.Millisecond)
	if len(got) != 1 || got[0]["type"] != "presence" || got[0]["role"] != dr.RoleFacilitator {
		t.Fatalf("watch got %v, want the chair's presence with role facilitator", got)
	}
	late := ts.session("late", "FRA")
	snap := late.open("d", nil)
	present, _ := snap["present"].([]any)
	if len(present) != 1 || present[0].(map[string]any)["role"] != dr.RoleFacilitator {
		t.Fatalf("present in the snapshot: %v, want the chair with role facilitator", snap["present"])
	}
}

// TestPendingPresenceKeyedByAuthor: two delegations under one client id
// keep one pending frame each; a newer frame replaces only its own
// author's.
func TestPendingPresenceKeyedByAuthor(t *testing.T) {
	var p pendingPresence
	p.put(presenceKey{"d", "c-ana", "tok:ana"}, 0, []byte("ana 1"))
	p.put(presenceKey{"d", "c-ana", "tok:bob"}, 0, []byte("bob 1"))
	p.put(presenceKey{"d", "c-ana", "tok:bob"}, 0, []byte("bob left"))
	var got []string
	for _, f := range p.merge(nil) {
		got = append(got, string(f))
	}
	if want := []string{"ana 1", "bob left"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pending %q, want %q", got, want)
	}
}

// TestCursorFollowsItsLastConnection: a draft relays a client's "left"
// only from the connection whose presence it relayed last, whether that
// is another node's connection or one of its own, and a dead node takes
// with it only the cursors it still shows. The events are driven in the
// bad order explicitly; a presence of z from a third node after each step
// shows that the owner has handled the step's events.
func TestCursorFollowsItsLastConnection(t *testing.T) {
	mem := storage.NewMemory()
	createDraft(t, mem, "d", "0123456789")
	store := &publishRecorder{lostReplyStore: &lostReplyStore{Memory: mem, events: make(chan storage.Event, 100)}, out: make(chan presenceOut, 100)}
	ts := newTestServer(t, store, Config{Fanout: store})
	watch := ts.session("watch", "GBR")
	watch.open("d", nil)
	local := ts.session("c", "CAN") // same client and author as the remote c
	local.open("d", nil)

	const by = `"by":{"delegation":"CAN","name":"Tester CAN"}`
	remote := func(node string, conn uint64, frame string) {
		store.events <- storage.Event{Kind: storage.EventPresence, Draft: "d", Node: node, Conn: conn, Presence: json.RawMessage(frame)}
	}
	presence := func(at int) string {
		return fmt.Sprintf(`{"type":"presence","doc":"d","rev":0,"sel":[[%d,%d]],"client":"c",%s}`, at, at, by)
	}
	left := `{"type":"presence","doc":"d","client":"c","left":true,` + by + `}`
	gone := func(node string) { // as liveLoop hands a dead node to the drafts
		ts.Server.mu.Lock()
		ts.Server.drafts["d"].remote.addGone(node)
		ts.Server.mu.Unlock()
	}
	marks := 0
	// step checks that watch got want (c's "sel N" or "left", or nothing)
	// for what the test did since the last step. The owner handles its
	// requests in order, so once it answered one sent now, the test's
	// requests (presence, close) are handled; the other nodes' events come
	// through the fan-out loop in order, so the marker follows the test's.
	step := func(name string, want string) {
		t.Helper()
		reply := make(chan error, 1)
		if err := watch.d.send(context.Background(), &doReq{fn: func(*DraftState) error { return nil }, reply: reply}); err != nil {
			t.Fatal(err)
		}
		if err := <-reply; err != nil {
			t.Fatal(err)
		}
		marks++
		remote("Z", 1, fmt.Sprintf(`{"type":"presence","doc":"d","rev":0,"sel":[[%d,%d]],"client":"z"}`, marks, marks))
		var got []string
		for {
			m := watch.next()
			if m["client"] == "z" {
				break
			}
			if m["left"] == true {
				got = append(got, "left")
			} else {
				got = append(got, fmt.Sprint("sel ", m["sel"].([]any)[0].([]any)[0]))
			}
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: watch got %q, want %q", name, got, want)
		}
	}

	remote("A", 1, presence(1))
	step("presence from A", "sel 1")
	remote("B", 2, presence(2)) // c reconnected to node B
	step("presence from B", "sel 2")
	remote("A", 1, left)
	step("A's late left", "")
	gone("A")
	step("A found dead", "")

	// c reconnects here: B's late left does not remove it.
	if err := local.d.send(context.Background(), &presenceReq{sess: local.Session, rev: 0, sel: [][2]int{{3, 3}}}); err != nil {
		t.Fatal(err)
	}
	step("presence of c here", "sel 3")
	remote("B", 2, left)
	step("B's late left", "")

	// c reconnects to C; then this node notices its connection here gone.
	remote("C", 5, presence(4))
	step("presence from C", "sel 4")
	if err := local.d.send(context.Background(), &closeReq{sess: local.Session}); err != nil {
		t.Fatal(err)
	}
	step("the late departure of c here", "")
	gone("C")
	step("C found dead", "left")

	// In the right order, everything is relayed.
	remote("D", 7, presence(5))
	step("presence from D", "sel 5")
	remote("D", 7, left)
	step("left from D", "left")
	remote("D", 8, left)
	step("left without a cursor", "left") // as a left always was

	// This node published c's presence and its late left, with its
	// connection's number, for the other nodes to judge.
	var published []string
	for range 2 {
		var p presenceOut
		select {
		case p = <-store.out:
		case <-time.After(5 * time.Second):
			t.Fatalf("published only %q", published)
		}
		if p.conn != local.Session.conn {
			t.Errorf("published %s with conn %d, want %d", p.frame, p.conn, local.Session.conn)
		}
		published = append(published, string(p.frame))
	}
	if len(published) != 2 || !strings.Contains(published[0], `"sel":[[3,3]]`) || !strings.Contains(published[1], `"left":true`) {
		t.Errorf("published %q, want c's presence and its left", published)
	}
}

// publishRecorder is a lostReplyStore that records what is published.
type publishRecorder struct {
	*lostReplyStore
	out chan presenceOut
}

func (s *publishRecorder) PublishPresence(ctx context.Context, id string, conn uint64, payload []byte) error {
	s.out <- presenceOut{id, conn, payload}
	return nil
}
