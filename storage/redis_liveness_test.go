package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/storage"
)

// TestRedisNodeLiveness: a node is live while its heartbeat lasts, dead
// once it expires (its entry is kept to say so), and gone at once after
// Depart.
func TestRedisNodeLiveness(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	prefix := fmt.Sprintf("drtest-nodes-%d:", time.Now().UnixNano())
	open := func(node string) *storage.Redis {
		r, err := storage.OpenRedisURL(url, storage.RedisOptions{Prefix: prefix, NodeID: node})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	a, b, c := open("a"), open("b"), open("c")
	ctx := context.Background()
	for _, r := range []*storage.Redis{a, b, c} {
		if err := r.Heartbeat(ctx, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// b's heartbeat expires at once; c departs.
	if err := b.Heartbeat(ctx, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.Depart(ctx); err != nil {
		t.Fatal(err)
	}
	// b's entry expires in Redis's clock: no event, poll.
	testenv.Until(t, "live a, dead b", func() bool {
		live, dead, err := a.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(live, dead) == "map[a:true] map[b:true]"
	})
	// A heartbeat brings b back.
	b.Heartbeat(ctx, time.Hour)
	if live, dead, _ := a.Nodes(ctx); !live["b"] || dead["b"] {
		t.Fatalf("after b's new heartbeat: live %v dead %v", live, dead)
	}
}
