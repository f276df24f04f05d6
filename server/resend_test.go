package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestResendLongAfter: over the WebSocket, on the embedded store (whose
// dedupe record remembers only a client's last 32 submissions), an op
// resent 1,000 submissions after it was committed gets the same ack and
// is not applied again: from the live owner, and from a fresh one (a
// restarted server) that no longer has the op in memory.
func TestResendLongAfter(t *testing.T) {
	t.Parallel()
	st, err := storage.OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), storage.BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ls := startServer(t, st, server.Config{})
	ls.create("art-1", "")

	rc := ls.dialRaw()
	rc.hello("drafter")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.expect("snapshot")
	const first = `{"type":"op","doc":"art-1","rev":0,"seq":1,"op":["first "]}`
	rc.send(first)
	if m := rc.expect("ack"); m["rev"] != 1.0 {
		t.Fatalf("first op: %v, want ack rev 1", m)
	}
	const later = 1000
	for seq := 2; seq <= later+1; seq++ {
		rc.send(fmt.Sprintf(`{"type":"op","doc":"art-1","rev":%d,"seq":%d,"op":["x"]}`, seq-1, seq))
		if m := rc.expect("ack"); m["rev"] != float64(seq) {
			t.Fatalf("op seq %d: %v, want ack rev %d", seq, m, seq)
		}
	}
	head := later + 1
	want, _ := textAt(t, st, "art-1")

	resend := func(rc *rawConn, who string) {
		t.Helper()
		rc.send(first)
		m := rc.expect("ack")
		if m["rev"] != 1.0 || m["seq"] != 1.0 {
			t.Fatalf("%s: resend of seq 1 %d submissions later got %v, want ack rev 1 seq 1", who, later, m)
		}
		text, rev := textAt(t, st, "art-1")
		if rev != head || text != want {
			t.Fatalf("%s: after the resend the draft is at rev %d (%d chars), want rev %d unchanged", who, rev, len(text), head)
		}
	}
	resend(rc, "live owner")

	// A fresh owner on the same store (as after a restart): nothing of
	// seq 1 in memory.
	ls2 := startServer(t, st, server.Config{RecentOps: 16, SnapshotEvery: 64})
	rc2 := ls2.dialRaw()
	rc2.hello("drafter")
	rc2.send(`{"type":"open","doc":"art-1"}`)
	rc2.expect("snapshot")
	resend(rc2, "fresh owner")
}

// textAt reads a draft's head text from the store: the last snapshot and
// the ops after it.
func textAt(t *testing.T, st *storage.Bolt, id string) (string, int) {
	t.Helper()
	ctx := context.Background()
	d, err := st.Draft(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := st.Snapshot(ctx, id, d.Rev)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := st.Ops(ctx, id, snap.Rev+1, d.Rev)
	if err != nil {
		t.Fatal(err)
	}
	text := snap.Text
	for _, op := range ops {
		if text, err = ot.Apply(text, op.Op); err != nil {
			t.Fatal(err)
		}
	}
	return text, d.Rev
}
