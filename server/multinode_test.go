package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
	"github.com/gorilla/websocket"
)

// bus is a fake of a shared store with fan-out (what storage.Redis is):
// several nodes share one Memory store, and each commit is published to
// every node. It drops an event now and then and sends a resync, as Redis
// pub/sub may.
type bus struct {
	mu    sync.Mutex
	nodes []*busNode
	rng   *rand.Rand
}

type busNode struct {
	*storage.Memory
	b      *bus
	name   string
	events chan storage.Event
}

var (
	_ server.Fanout = (*busNode)(nil)
	_ server.Fanout = (*storage.Redis)(nil)
	_ dr.Store      = (*storage.Redis)(nil)
)

func (b *bus) node(m *storage.Memory, name string) *busNode {
	n := &busNode{Memory: m, b: b, name: name, events: make(chan storage.Event, 10000)}
	b.mu.Lock()
	b.nodes = append(b.nodes, n)
	b.mu.Unlock()
	return n
}

func (b *bus) publish(from string, ev storage.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.nodes {
		e := ev
		e.Node, e.Own = from, n.name == from
		if !e.Own && b.rng.IntN(50) == 0 {
			// Lost, then the receiver is told to resync.
			n.events <- storage.Event{Kind: storage.EventResync}
			continue
		}
		n.events <- e
	}
}

func (n *busNode) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	// The commit and its publication are atomic, as in Redis's script.
	n.b.mu.Lock()
	err := n.Memory.Commit(ctx, id, base, c)
	n.b.mu.Unlock()
	if err == nil {
		n.b.publish(n.name, storage.Event{Kind: storage.EventOps, Draft: id, Ops: c.Ops})
	}
	return err
}

func (n *busNode) Events() <-chan storage.Event               { return n.events }
func (n *busNode) LazyOwnOps()                                {} // its events always carry their ops
func (n *busNode) Watch(ctx context.Context, id string) error { return nil }
func (n *busNode) Unwatch(id string)                          {}
func (n *busNode) PublishPresence(ctx context.Context, id string, conn uint64, payload []byte) error {
	n.b.publish(n.name, storage.Event{Kind: storage.EventPresence, Draft: id, Conn: conn, Presence: json.RawMessage(payload)})
	return nil
}

// The bus's nodes never die: every node is always alive.
func (n *busNode) Heartbeat(ctx context.Context, ttl time.Duration) error { return nil }
func (n *busNode) Nodes(ctx context.Context) (live, dead map[string]bool, err error) {
	return nil, nil, nil
}
func (n *busNode) Depart(ctx context.Context) error { return nil }

// sharedStore is the store of a node that shares it with others: the
// store and the fan-out to the other nodes (storage.Redis, busNode).
type sharedStore interface {
	dr.Store
	server.Fanout
}

// TestMultiNode runs three server nodes on one shared store: clients spread
// over them (and resuming on another node after a drop) converge, the log
// has no gap or duplicate, and presence crosses nodes.
func TestMultiNode(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: a few seconds")
	}
	mem := storage.NewMemory()
	b := &bus{rng: rand.New(rand.NewPCG(3, 4))}
	var stores []sharedStore
	for i := range 3 {
		stores = append(stores, b.node(mem, fmt.Sprint("n", i)))
	}
	runMultiNode(t, stores)
}

// TestMultiNodeRedis is TestMultiNode on a real Redis: $REDIS_URL, or a
// redis-server of the test's own.
func TestMultiNodeRedis(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: a few seconds")
	}
	url := redisForTest(t)
	prefix := fmt.Sprintf("draftroom-test-%d:", time.Now().UnixNano())
	var stores []sharedStore
	for i := range 3 {
		r, err := storage.OpenRedisURL(url, storage.RedisOptions{Prefix: prefix, NodeID: fmt.Sprint("n", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		stores = append(stores, r)
	}
	runMultiNode(t, stores)
}

func runMultiNode(t *testing.T, stores []sharedStore) {
	var nodes []*liveServer
	for _, st := range stores {
		nodes = append(nodes, startServer(t, st, server.Config{RecentOps: 32, Fanout: st}))
	}
	const initial = "Article 9. [Les Parties/Chaque Partie] prend des mesures."
	nodes[0].create("art-9", initial)

	const clients = 6
	ctx := context.Background()
	docs := make([]*client.Doc, clients)
	var wg sync.WaitGroup
	// Each (re)connection of a client goes to the next node, as behind a
	// round-robin load balancer: a dropped client resumes on another node.
	var moves atomic.Int64
	addrs := make([]string, len(nodes))
	for i, ls := range nodes {
		addrs[i] = ls.http.Listener.Addr().String()
	}
	for i := range clients {
		next, dials := i, 0
		dialer := &websocket.Dialer{HandshakeTimeout: 5 * time.Second,
			NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				// Called from one goroutine at a time: the first dial, then
				// the client's reconnect loop.
				addr := addrs[next%len(addrs)]
				next++
				if dials++; dials > 1 {
					moves.Add(1)
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}}
		c, err := client.Dial(ctx, nodes[i%len(nodes)].wsURL(), client.Options{ClientID: fmt.Sprint("m", i), Delegation: fmt.Sprint("D", i), Name: "N", Role: "drafter",
			MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Dialer: dialer})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if docs[i], err = c.Open(ctx, "art-9"); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			end := time.Now().Add(2 * time.Second)
			for time.Now().Before(end) {
				if rng.IntN(100) < 2 {
					c.DropConnection()
				} else {
					randomEdit(rng, docs[i])
				}
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // the typing pace: the workload, not a wait
			}
		}()
	}
	wg.Wait()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for i, d := range docs {
		if err := d.WaitSynced(wctx); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	// Every client is synced; the nodes converge as the last events arrive.
	var final draftView
	waitUntil(t, "the nodes to converge", func() bool {
		final = nodes[0].get("art-9")
		for _, ls := range nodes[1:] {
			if v := ls.get("art-9"); v.Rev != final.Rev || v.Text != final.Text {
				return false
			}
		}
		return true
	})
	for i, d := range docs {
		if err := d.WaitRev(wctx, final.Rev); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if d.Text() != final.Text || d.Rev() != final.Rev {
			t.Fatalf("client %d at rev %d differs from the server at %d", i, d.Rev(), final.Rev)
		}
	}
	checkLog(t, nodes[0].ops("art-9"), initial, final.Text, final.Rev)

	// Presence crosses nodes.
	// Sent again now and then, as a moving cursor is: the fake bus loses
	// an event now and then, as pub/sub may, and a lost presence is not
	// sent again by anyone but its owner. (A late "left" of m0's old
	// connection no longer removes it: docs/REDIS.md, "Presence across
	// nodes".)
	docs[0].SetPresence([][2]int{{3, 5}})
	polls := 0
	waitUntil(t, "the presence of m0 (node 0) to reach m1 (node 1)", func() bool {
		if polls++; polls%200 == 0 {
			docs[0].SetPresence([][2]int{{3, 5}})
		}
		p, ok := docs[1].Presence()["m0"]
		return ok && len(p.Sel) == 1
	})
	if moves.Load() == 0 {
		t.Fatal("no client resumed on another node")
	}
	t.Logf("%d revisions over 3 nodes, %d resumes on another node", final.Rev, moves.Load())
}
