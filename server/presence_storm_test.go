package server_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// stormWatcher reads everything a staying subscriber receives, in its own
// goroutine, and checks the order of what arrives: ops in revision order
// with no gap, no presence that refers to a revision the subscriber has
// not received yet, and no presence of a client after its "left".
type stormWatcher struct {
	name string
	ws   *websocket.Conn

	mu       sync.Mutex
	rev      int             // last op received
	left     map[string]bool // clients announced as left (and not back since)
	leftEver map[string]bool // leavers announced
	problems []string
	closed   error // why reading stopped, if it did
	changed  chan struct{}
}

func newStormWatcher(ls *liveServer, client string) *stormWatcher {
	rc := ls.wsAs(who{delegation: "CAN", name: "Stay " + client, role: "drafter"}, client)
	rc.send(`{"type":"open","doc":"d"}`)
	rc.expect("snapshot")
	w := &stormWatcher{name: client, ws: rc.ws, left: map[string]bool{}, leftEver: map[string]bool{}, changed: make(chan struct{}, 1)}
	go w.read()
	return w
}

func (w *stormWatcher) read() {
	for {
		w.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, data, err := w.ws.ReadMessage()
		w.mu.Lock()
		if err != nil {
			w.closed = err
			w.mu.Unlock()
			w.poke()
			return
		}
		var m struct {
			Type   string
			Rev    *int
			Client string
			Left   bool
		}
		if err := json.Unmarshal(data, &m); err != nil {
			w.problems = append(w.problems, fmt.Sprintf("non-JSON frame %q", data))
		}
		switch m.Type {
		case "op":
			if m.Rev == nil || *m.Rev != w.rev+1 {
				w.problems = append(w.problems, fmt.Sprintf("op %s after rev %d", data, w.rev))
			} else {
				w.rev = *m.Rev
			}
		case "presence":
			switch {
			case m.Left:
				w.left[m.Client] = true
				if leaverName(m.Client) {
					w.leftEver[m.Client] = true
				}
			case w.left[m.Client] && leaverName(m.Client):
				// A leaver never comes back: this is stale.
				w.problems = append(w.problems, fmt.Sprintf("presence %s after its left", data))
			case m.Rev == nil || *m.Rev > w.rev:
				w.problems = append(w.problems, fmt.Sprintf("presence %s before op %v arrived (at rev %d)", data, m.Rev, w.rev))
			default:
				delete(w.left, m.Client)
			}
		}
		w.mu.Unlock()
		w.poke()
	}
}

func (w *stormWatcher) poke() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func leaverName(client string) bool { return len(client) > 6 && client[:6] == "leave-" }

// waitFor waits until done reports true (checked under w.mu) or the
// subscriber is disconnected or the time is up; it returns the failure.
func (w *stormWatcher) waitFor(timeout time.Duration, done func() bool) string {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		ok, closed := done(), w.closed
		w.mu.Unlock()
		switch {
		case ok:
			return ""
		case closed != nil:
			return fmt.Sprintf("%s was disconnected: %v", w.name, closed)
		}
		select {
		case <-w.changed:
		case <-deadline:
			return fmt.Sprintf("%s: timed out", w.name)
		}
	}
}

// TestPresenceStormKeepsSubscribers: 300 clients that sent presence leave
// one draft at once (most drop their connection, some close the draft)
// while a writer keeps committing and sending presence. With a send queue
// of 32 frames (room for the ops, not for 300 departures), the subscribers that stay must not be disconnected as slow;
// each must receive "left" for every leaver, never a leaver's presence
// after its "left", every op in revision order with no gap, and no
// presence ahead of the ops it has received.
func TestPresenceStormKeepsSubscribers(t *testing.T) {
	const leavers, stayers, ops, window = 300, 3, 120, 8
	ls := startServer(t, storage.NewMemory(), server.Config{SendQueue: 32})
	ls.create("d", "storm in a teacup")

	watchers := make([]*stormWatcher, stayers)
	for i := range watchers {
		watchers[i] = newStormWatcher(ls, fmt.Sprintf("stay-%d", i))
	}
	// Leavers open the draft and send presence; none of them reads.
	conns := make([]*rawConn, leavers)
	for i := range conns {
		rc := ls.wsAs(who{delegation: "FRA", name: "Luc", role: "reviewer"}, fmt.Sprintf("leave-%d", i))
		rc.send(`{"type":"open","doc":"d"}`)
		rc.expect("snapshot")
		rc.send(fmt.Sprintf(`{"type":"presence","doc":"d","rev":0,"sel":[[%d,%d]]}`, i%10, i%10))
		rc.send(fmt.Sprintf(`{"type":"presence","doc":"d","rev":0,"sel":[[0,%d]]}`, i%17))
		conns[i] = rc
	}
	writer := ls.wsAs(who{delegation: "GBR", name: "Sam", role: "drafter"}, "writer")
	writer.send(`{"type":"open","doc":"d"}`)
	writer.expect("snapshot")

	// The storm: every leaver goes at once, while the writer commits.
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := g; i < leavers; i += 4 {
				if i%3 == 0 {
					// Closing the draft, not the connection.
					conns[i].ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
					conns[i].ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"close","doc":"d"}`))
				} else {
					conns[i].ws.NetConn().Close() // no close frame: a network blip
				}
			}
		}()
	}
	close(start)
	for rev := 0; rev < ops; rev++ {
		// The stayers keep up: the writer runs at most window ops ahead of
		// the slowest, so at most window ops wait in any stayer's queue of
		// 32 and a disconnect can only come from the storm's presence.
		// (Without this, a loaded machine that leaves a stayer's write
		// pump unscheduled for 32 of the writer's round trips disconnected
		// it as slow, correctly: about one run in five.)
		for _, w := range watchers {
			if msg := w.waitFor(10*time.Second, func() bool { return w.rev >= rev-window }); msg != "" {
				t.Fatalf("%s before op %d", msg, rev+1)
			}
		}
		writer.send(fmt.Sprintf(`{"type":"op","doc":"d","rev":%d,"seq":%d,"op":[%d,"x"]}`, rev, rev+1, rev%5+1))
		for {
			m, closed := writer.next()
			if closed {
				t.Fatal("the writer was disconnected")
			}
			if m["type"] == "error" {
				t.Fatalf("the writer got %v", m)
			}
			if m["type"] == "ack" {
				if m["rev"] != float64(rev+1) {
					t.Fatalf("ack %v, want rev %d", m, rev+1)
				}
				break
			}
		}
		if rev%4 == 0 {
			writer.send(fmt.Sprintf(`{"type":"presence","doc":"d","rev":%d,"sel":[[1,%d]]}`, rev+1, rev%3+1))
		}
	}
	wg.Wait()

	for _, w := range watchers {
		if msg := w.waitFor(10*time.Second, func() bool { return w.rev == ops && len(w.leftEver) == leavers }); msg != "" {
			w.mu.Lock()
			t.Errorf("%s (at rev %d, %d of %d leavers announced)", msg, w.rev, len(w.leftEver), leavers)
			w.mu.Unlock()
		}
		w.mu.Lock()
		for _, p := range w.problems {
			t.Errorf("%s: %s", w.name, p)
		}
		for i := range leavers {
			if c := fmt.Sprintf("leave-%d", i); !w.leftEver[c] {
				t.Errorf("%s never got left for %s", w.name, c)
				break
			}
		}
		w.mu.Unlock()
	}
}
