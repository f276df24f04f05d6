package storage_test

import (
	"context"
	"log"

	"github.com/draftroom/draftroom/storage"
)

// The fan-out loop of one server node: a single goroutine reads every event
// of the drafts this node has open and hands each to its draft.
func ExampleRedis_Events() {
	s, err := storage.OpenRedisURL("redis://127.0.0.1:6379/0", storage.RedisOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	// Opening a draft on this node: Watch first, then load, so nothing
	// committed in between is missed.
	if err := s.Watch(ctx, "art-17"); err != nil {
		log.Fatal(err) // ErrUnavailable: Redis is down; report and retry later
	}
	defer s.Unwatch("art-17")
	d, err := s.Draft(ctx, "art-17")
	if err != nil {
		log.Fatal(err)
	}
	head := d.Rev // ... plus the snapshot and ops the draft goroutine loads

	for e := range s.Events() {
		switch e.Kind {
		case storage.EventOps:
			if e.Draft != "art-17" {
				continue
			}
			// Not "if e.Own": an own Commit that returned ErrUnavailable
			// may have landed; revisions tell what is news.
			if first := e.Ops[0].Rev; first > head+1 {
				// A gap: pub/sub lost something; read it from the log.
				missed, err := s.Ops(ctx, e.Draft, head+1, first-1)
				if err != nil {
					continue // retry on the next event or resync
				}
				head += len(missed) // apply and broadcast missed, then e.Ops
			}
			for _, op := range e.Ops {
				if op.Rev == head+1 {
					head++ // apply and broadcast op
				}
			}
		case storage.EventPresence:
			if !e.Own {
				_ = e.Presence // relay to the draft's local subscribers
			}
		case storage.EventResync:
			// Events may have been lost for every watched draft: reload.
			missed, err := s.Ops(ctx, "art-17", head+1, 1<<30)
			if err == nil {
				head += len(missed)
			}
		}
	}
}
