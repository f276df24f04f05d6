package server_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestSilentPeerIsDropped: a peer that stops answering pings is dropped
// (the others see it leave), and a connection that never says hello is
// closed.
func TestSilentPeerIsDropped(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{PongWait: 400 * time.Millisecond, PingPeriod: 100 * time.Millisecond, HelloWait: 300 * time.Millisecond})
	ls.create("d", "text")

	watcher := ls.dialRaw()
	watcher.hello("drafter")
	watcher.send(`{"type":"open","doc":"d"}`)
	watcher.expect("snapshot")

	silent := ls.dialRaw()
	silent.send(`{"type":"hello","client":"silent","delegation":"FRA","name":"Luc","role":"drafter"}`)
	silent.expect("welcome")
	silent.send(`{"type":"open","doc":"d"}`)
	silent.expect("snapshot")
	// From now on silent reads nothing, so it answers no ping.

	start := time.Now()
	for {
		m := watcher.expect("presence") // the watcher answers pings while it reads
		if m["client"] == "silent" && m["left"] == true {
			break
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("silent peer dropped after %v, want about the pong wait", d)
	}

	mute := ls.dialRaw()
	start = time.Now()
	if m, closed := mute.next(); !closed {
		t.Fatalf("got %v, want the connection closed for want of a hello", m)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v, want about the hello wait", d)
	}
}

// TestShutdownClosesSockets: Shutdown sends what was queued, then a close
// frame 1001 (going away), and later opens are refused.
func TestShutdownClosesSockets(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("d", "text")
	rc := ls.dialRaw()
	rc.hello("drafter")
	rc.send(`{"type":"open","doc":"d"}`)
	rc.expect("snapshot")
	rc.send(`{"type":"op","doc":"d","rev":0,"seq":1,"op":["x"]}`)
	rc.expect("ack")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ls.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := rc.ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("read after shutdown: %v, want close 1001", err)
	}
	if ops, _ := ls.store.Ops(ctx, "d", 1, 10); len(ops) != 1 {
		t.Fatalf("%d ops stored, want the acked one", len(ops))
	}
}

// dialRawSmallBuffer is dialRaw with a 4 KiB receive buffer, for a peer
// that reads nothing: its socket fills after a few frames, not megabytes.
func (ls *liveServer) dialRawSmallBuffer() *rawConn {
	ls.t.Helper()
	small := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: smallReceiveBuffer}
		return d.Dial(network, addr)
	}}
	ws, _, err := small.Dial(ls.wsURL(), nil)
	if err != nil {
		ls.t.Fatal(err)
	}
	ls.t.Cleanup(func() { ws.Close() })
	return &rawConn{ls.t, ws}
}

// TestSlowSubscriberIsDropped: a subscriber that does not read is
// disconnected when its queue fills; it never stalls the draft. The
// server's write deadline is an hour: a draft that waited for the slow
// peer's socket would leave the writer without an ack, and its read (5 s a
// frame) would fail. The slow peer's receive buffer is small, so that its
// socket fills after a few frames rather than after megabytes.
func TestSlowSubscriberIsDropped(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{SendQueue: 4, MaxDraftLen: 50_000_000, WriteWait: time.Hour})
	ls.create("d", "")
	slow := ls.dialRawSmallBuffer()
	slow.send(`{"type":"hello","client":"slow","delegation":"FRA","name":"Luc","role":"reviewer"}`)
	slow.expect("welcome")
	slow.send(`{"type":"open","doc":"d"}`)
	slow.expect("snapshot")
	// slow reads nothing from now on.

	w := ls.dialRaw()
	w.hello("drafter")
	w.send(`{"type":"open","doc":"d"}`)
	w.expect("snapshot")
	chunk := strings.Repeat("😭", 16<<10) // 64 KiB a frame
	left := false
	seq := 1
	for ; seq <= 300 && !left; seq++ {
		w.send(`{"type":"op","doc":"d","rev":` + itoa(seq-1) + `,"seq":` + itoa(seq) + `,"op":["` + chunk + `"]}`)
		for {
			m, closed := w.next() // fails after 5 s without a frame
			if closed {
				t.Fatal("writer disconnected")
			}
			if m["type"] == "presence" && m["client"] == "slow" && m["left"] == true {
				left = true
				continue
			}
			if m["type"] == "ack" {
				break
			}
			t.Fatalf("writer got %v", m)
		}
	}
	if !left {
		t.Fatalf("the subscriber that reads nothing was never dropped")
	}
	t.Logf("slow dropped after %d ops of 64 KiB", seq-1)
}

// TestResumeAfterLostAck: a client whose op was committed but whose ack was
// lost with the connection resumes from its revision, finds its own op
// among the resent ones (client and seq), and a resend is acked again with
// the same revision without being applied twice.
func TestResumeAfterLostAck(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("d", "abc")
	hello := `{"type":"hello","client":"c-lost","delegation":"CAN","name":"Ana","role":"drafter"}`
	a := ls.dialRaw()
	a.send(hello)
	a.expect("welcome")
	a.send(`{"type":"open","doc":"d"}`)
	a.expect("snapshot")
	a.send(`{"type":"op","doc":"d","rev":0,"seq":7,"op":[3,"!"]}`)
	// Committed; the ack is never read.
	waitUntil(t, "the op to be committed", func() bool { return ls.get("d").Rev == 1 })
	a.ws.Close()

	b := ls.dialRaw()
	b.send(hello)
	b.expect("welcome")
	b.send(`{"type":"open","doc":"d","rev":0}`)
	if m := b.expect("op"); m["client"] != "c-lost" || m["seq"] != 7.0 || m["rev"] != 1.0 {
		t.Fatalf("resumed op %v, want own op seq 7 as rev 1", m)
	}
	if m := b.expect("opened"); m["rev"] != 1.0 {
		t.Fatalf("got %v, want opened at 1", m)
	}
	b.send(`{"type":"op","doc":"d","rev":0,"seq":7,"op":[3,"!"]}`)
	if m := b.expect("ack"); m["rev"] != 1.0 || m["seq"] != 7.0 {
		t.Fatalf("resend got %v, want ack rev 1", m)
	}
	if v := ls.get("d"); v.Text != "abc!" || v.Rev != 1 {
		t.Fatalf("draft rev %d %q, want abc! at 1", v.Rev, v.Text)
	}
}
