package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// stuckLiveStore is a fan-out store with liveness whose Heartbeat does not
// return until release is closed, whatever its context says: a store call
// still under way when the server shuts down.
type stuckLiveStore struct {
	*storage.Memory
	events  chan storage.Event
	release chan struct{}
}

func (s *stuckLiveStore) Events() <-chan storage.Event               { return s.events }
func (s *stuckLiveStore) LazyOwnOps()                                {}
func (s *stuckLiveStore) Watch(ctx context.Context, id string) error { return nil }
func (s *stuckLiveStore) Unwatch(id string)                          {}
func (s *stuckLiveStore) PublishPresence(ctx context.Context, id string, conn uint64, payload []byte) error {
	return nil
}
func (s *stuckLiveStore) Heartbeat(ctx context.Context, ttl time.Duration) error {
	<-s.release
	return ctx.Err()
}
func (s *stuckLiveStore) Nodes(ctx context.Context) (live, dead map[string]bool, err error) {
	return nil, nil, nil
}
func (s *stuckLiveStore) Depart(ctx context.Context) error { return nil }

// TestShutdownWaitsForBackgroundLoops: Shutdown does not return while a
// goroutine the server started (here the liveness loop, inside a store
// call) still runs, so the caller may close the store after it.
func TestShutdownWaitsForBackgroundLoops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &stuckLiveStore{Memory: storage.NewMemory(), events: make(chan storage.Event), release: make(chan struct{})}
		s := New(Config{Open: true, Fanout: st}, st, nil)
		synctest.Wait() // the liveness loop is in Heartbeat
		done := make(chan error, 1)
		go func() { done <- s.Shutdown(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-done:
			close(st.release) // let the loop end before the bubble does
			t.Fatalf("Shutdown returned (err %v) while the liveness loop was still in a store call", err)
		default:
		}
		close(st.release)
		if err := <-done; err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	})
}

// TestShutdownLeavesNoServerGoroutines: after Shutdown, none of the
// goroutines the server started for a fan-out store and a WebSocket
// session (fan-out, presence and liveness loops, read and write pumps)
// is running.
func TestShutdownLeavesNoServerGoroutines(t *testing.T) {
	st := &stuckLiveStore{Memory: storage.NewMemory(), events: make(chan storage.Event), release: make(chan struct{})}
	close(st.release)
	s := New(Config{Open: true, Fanout: st}, st, nil)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	ws := dialHello(t, hs.URL)
	defer ws.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	stacks := make([]byte, 1<<20)
	stacks = stacks[:runtimeStack(stacks)]
	for _, fn := range []string{"(*Server).fanLoop", "(*Server).presenceLoop", "(*Server).liveLoop", "(*Session).writePump", "(*Session).readPump"} {
		if strings.Contains(string(stacks), fn) {
			t.Errorf("%s still runs after Shutdown returned", fn)
		}
	}
}

// TestHandlerContextEndsWithSession: a message handler's context is the
// session's, cancelled when the session dies, not the server's, which
// lives on.
func TestHandlerContextEndsWithSession(t *testing.T) {
	ts := newTestServer(t, storage.NewMemory(), Config{})
	got := make(chan context.Context, 1)
	ts.handlers["test_block"] = func(ctx context.Context, c *Session, m *Inbound) error {
		got <- ctx
		<-ctx.Done()
		return ctx.Err()
	}
	hs := httptest.NewServer(ts.Handler())
	defer hs.Close()
	ws := dialHello(t, hs.URL)
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"test_block"}`)); err != nil {
		t.Fatal(err)
	}
	var hctx context.Context
	select {
	case hctx = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler never ran")
	}
	ts.mu.Lock()
	for c := range ts.sessions {
		c.Close("test: the session ends")
	}
	ts.mu.Unlock()
	select {
	case <-hctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled when its session died")
	}
	if ts.ctx.Err() != nil {
		t.Fatal("the server's context ended with one session")
	}
}

// dialHello opens a WebSocket to the server at httpURL and says hello in
// open mode, failing t unless it is welcomed.
func dialHello(t *testing.T, httpURL string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(httpURL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","client":"c1","delegation":"CAN","name":"Ana","role":"drafter"}`)); err != nil {
		t.Fatal(err)
	}
	_, data, err := ws.ReadMessage()
	if err != nil || !strings.Contains(string(data), `"welcome"`) {
		t.Fatalf("hello: %s, %v", data, err)
	}
	return ws
}

// runtimeStack writes every goroutine's stack into buf.
func runtimeStack(buf []byte) int { return runtime.Stack(buf, true) }

// TestBroadcastReapsAfterLoop: subscribers whose queue is full when an op
// is broadcast are disconnected and their "left" is sent once the
// broadcast is done: every staying subscriber gets the op first, then
// one "left" per dropped subscriber, and nothing more. (When a failed
// push unsubscribed at once, "left" went out from inside the op's loop,
// ahead of the op for the subscribers the loop had not reached yet.)
func TestBroadcastReapsAfterLoop(t *testing.T) {
	ts := newTestServer(t, storage.NewMemory(), Config{})
	createDraft(t, ts.Store(), "d", "hello")
	w := ts.session("writer", "AAA")
	w.open("d", nil)
	var stay, slow []*fakeSession
	for i := range 4 {
		s := ts.session(fmt.Sprintf("stay%d", i), fmt.Sprintf("ST%d", i))
		s.open("d", nil)
		stay = append(stay, s)
		f := ts.session(fmt.Sprintf("slow%d", i), fmt.Sprintf("SL%d", i))
		f.open("d", nil)
		slow = append(slow, f)
	}
	for _, f := range slow {
		f.send.mu.Lock()
		f.send.max = len(f.send.frames) // full: the next frame disconnects it
		f.send.mu.Unlock()
	}
	w.submit(0, 1, ot.Op{ot.Skip(5), ot.Insert("!")})
	if m := w.next(); m["type"] != "ack" {
		t.Fatalf("writer: got %v, want the ack", m)
	}
	check := func(name string, f *fakeSession) {
		t.Helper()
		left := map[any]bool{}
		for range slow {
			m := f.next()
			if m["type"] != "presence" || m["left"] != true {
				t.Fatalf("%s: got %v, want a left of a dropped subscriber", name, m)
			}
			left[m["client"]] = true
		}
		for _, s := range slow {
			if !left[s.client] {
				t.Errorf("%s: no left for %s (got %v)", name, s.client, left)
			}
		}
		f.expectNone()
	}
	check("writer", w)
	for _, s := range stay {
		if m := s.next(); m["type"] != "op" {
			t.Fatalf("%s: got %v before the op", s.client, m)
		}
		check(s.client, s)
	}
	for _, f := range slow {
		select {
		case <-f.done:
		default:
			t.Errorf("%s: still connected with a full queue", f.client)
		}
	}
}
