package server_test

import (
	"testing"
	"time"

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
