package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestCoalesceNeverDelaysAcks: with a write-coalescing window far longer
// than the test's timeout, a client that was just written to still gets
// its acks at once, also when others' ops wait in its queue (the ack ends
// the wait and carries them), and the others' ops do arrive.
func TestCoalesceNeverDelaysAcks(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{WriteCoalesce: time.Hour})
	ls.create("d", "abc")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, a := dialOpen(t, ctx, ls.wsURL(), client.Options{Delegation: "CAN", Name: "A", Role: "drafter"}, "d")
	_, b := dialOpen(t, ctx, ls.wsURL(), client.Options{Delegation: "JPN", Name: "B", Role: "drafter"}, "d")

	// Both pumps wrote the snapshot just now, so for the next hour every
	// write of others' ops waits; only an urgent frame (an ack) ends it.
	for i, step := range []struct {
		who  *client.Doc
		text string
	}{{b, "1"}, {a, "2"}, {b, "3"}, {a, "4"}, {a, "5"}} {
		if err := step.who.Insert(0, step.text); err != nil {
			t.Fatal(err)
		}
		wait, stop := context.WithTimeout(ctx, 5*time.Second)
		err := step.who.WaitSynced(wait)
		stop()
		if err != nil {
			t.Fatalf("step %d: the ack of %q did not come within 5s (coalescing window 1h): %v", i, step.text, err)
		}
	}
	// A's acks carried B's ops queued before them: A has B's "3" already.
	if got := a.Text(); got != "54321abc" {
		t.Errorf("A's text after its acks: %q, want %q (B's ops queued before A's acks must come with them)", got, "54321abc")
	}
}
