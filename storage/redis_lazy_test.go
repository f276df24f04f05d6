package storage_test

import (
	"context"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// Against a real Redis, under LazyOwnOps a node's own commits come back
// undecoded and decode, when asked beyond the head, to exactly what was
// committed; another node's commits come decoded as before.
func TestRedisLazyOwnOps(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := uniquePrefix(t, url)
	a := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: "node-a"})
	b := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: "node-b"})
	a.LazyOwnOps()
	ctx := context.Background()
	create(t, a, "d")
	if err := a.Watch(ctx, "d"); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	aev := a.Events()

	own := testOps(0, 3, "own")
	if err := a.Commit(ctx, "d", 0, dr.Commit{Ops: own}); err != nil {
		t.Fatal(err)
	}
	e := nextEvent(t, aev, storage.EventOps)
	if !e.Own || e.Node != "node-a" || e.Draft != "d" || e.Ops != nil {
		t.Fatalf("own echo %+v, want undecoded own ops of d", e)
	}
	if ops, err := e.OpsAfter(3); ops != nil || err != nil {
		t.Errorf("OpsAfter(head 3) = %v, %v; want nil", ops, err)
	}
	if ops, err := e.OpsAfter(1); err != nil || !opsEqual(ops, own) {
		t.Errorf("OpsAfter(1) = %v, %v; want the 3 committed ops", ops, err)
	}

	other := testOps(3, 2, "other")
	if err := b.Commit(ctx, "d", 3, dr.Commit{Ops: other}); err != nil {
		t.Fatal(err)
	}
	e = nextEvent(t, aev, storage.EventOps)
	if e.Own || e.Node != "node-b" || !opsEqual(e.Ops, other) {
		t.Fatalf("other node's event %+v, want its 2 decoded ops", e)
	}
	if ops, err := e.OpsAfter(4); err != nil || !opsEqual(ops, other) {
		t.Errorf("OpsAfter(4) = %v, %v; want the 2 ops", ops, err)
	}
}
