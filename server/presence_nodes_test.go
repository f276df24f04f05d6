package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/draftroom/draftroom/server"
)

// TestLateLeftOfAReplacedConnectionRedis: a client that reconnected to
// another node keeps its cursor on every node when its old connection's
// "left" comes after the new connection's presence (docs/REDIS.md,
// "Presence across nodes"). The bad order is driven explicitly: the old
// connection leaves only once every node has relayed the new presence,
// and a later presence from the old node (z) shows when its "left" has
// been handled everywhere. Three nodes share a real Redis, one observer on
// each: the old node (its own subscribers), the new node (where the
// client now is) and a third.
func TestLateLeftOfAReplacedConnectionRedis(t *testing.T) {
	t.Parallel()
	url := redisForTest(t)
	prefix := fmt.Sprintf("drtest-lateleft-%d:", time.Now().UnixNano())
	var nodes []*liveServer
	for range 3 {
		st := redisStore(t, url, prefix)
		nodes = append(nodes, startServer(t, st, server.Config{Fanout: st}))
	}
	nodes[0].create("d", "0123456789")

	open := func(rc *rawConn) {
		rc.send(`{"type":"open","doc":"d"}`)
		rc.expect("snapshot")
	}
	var observers []*rawConn
	for i, n := range nodes {
		obs := n.wsAs(who{fmt.Sprint("OBS", i), "Olga", "reviewer"}, fmt.Sprint("obs", i))
		open(obs)
		observers = append(observers, obs)
	}
	// next checks that every observer's next frame is a presence of
	// client, with sel or (sel "") a "left".
	next := func(step, client, sel string) {
		t.Helper()
		for i, obs := range observers {
			m := obs.expect("presence")
			got := fmt.Sprint(m["sel"])
			if m["left"] == true {
				got = ""
			}
			if m["client"] != client || got != sel {
				t.Errorf("%s: observer on node %d got %v, want the presence of %s with sel %q (\"\": left)", step, i, m, client, sel)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	ana := who{"CAN", "Ana", "drafter"}
	old := nodes[0].wsAs(ana, "c-ana")
	open(old)
	old.send(`{"type":"presence","doc":"d","rev":0,"sel":[[1,1]]}`)
	next("presence on the old node", "c-ana", "[[1 1]]")

	// The client reconnects to node 1 before node 0 notices.
	renewed := nodes[1].wsAs(ana, "c-ana")
	open(renewed)
	renewed.send(`{"type":"presence","doc":"d","rev":0,"sel":[[2,2]]}`)
	next("presence on the new node", "c-ana", "[[2 2]]")

	// Now node 0 sees the old connection go. The old connection's own
	// requests are handled in order, so once it has the draft's snapshot
	// again, node 0 has handled the close and queued its "left" ahead of
	// anything it publishes later.
	old.send(`{"type":"close","doc":"d"}`)
	old.send(`{"type":"open","doc":"d"}`)
	old.until("snapshot") // past the presence it was sent meanwhile
	z := nodes[0].wsAs(who{"FRA", "Zoé", "drafter"}, "z")
	open(z)
	z.send(`{"type":"presence","doc":"d","rev":0,"sel":[[0,0]]}`)
	next("after the old connection's late left", "z", "[[0 0]]")

	// The connection whose cursor is shown does remove it when it goes.
	renewed.ws.Close()
	next("the new connection leaves", "c-ana", "")
}
