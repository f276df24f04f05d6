package server

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// TestAgreeAndTypeInOneBatch forces one batch holding a facilitator's
// agreement of paragraph 2 and, after it, a drafter's op inside paragraph
// 2 and another in paragraph 3: the op inside is refused as locked
// although the agreement is only staged, not committed, when it is
// checked; the one in paragraph 3 commits.
func TestAgreeAndTypeInOneBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := storage.NewMemory()
		const text = "Article 1\n1. A.\n2. B.\n3. C.\n"
		createDraft(t, mem, "d", text)
		ts := newTestServer(t, mem, Config{})
		a := ts.session("a", "CAN")
		a.open("d", nil)
		ctx := context.Background()
		pv, err := ts.provisionsAt(ctx, "d", -1)
		if err != nil {
			t.Fatal(err)
		}
		p2 := pv.list[2]
		if p2.Num != "2" {
			t.Fatalf("provision 2 is %+v", p2)
		}

		// Hold the owner while the three requests queue up behind it.
		held, hold := make(chan struct{}), make(chan struct{})
		go ts.Do(ctx, "d", func(*DraftState) error { close(held); <-hold; return nil })
		<-held
		chair := dr.Identity{Author: dr.Author{Delegation: "CHAIR", Name: "M"}, Role: dr.RoleFacilitator, Principal: "open:CHAIR/M"}
		agreed := make(chan error, 1)
		go func() {
			_, err := ts.setStatus(ctx, chair, "d", p2.ID, statusRequest{Status: "agreed"})
			agreed <- err
		}()
		synctest.Wait() // the agreement is in the owner's queue, its sender waits for the reply
		if len(a.d.in) != 1 {
			t.Fatalf("%d requests in the owner's queue, want the agreement", len(a.d.in))
		}
		in2 := strings.Index(text, "B.")
		in3 := strings.Index(text, "C.")
		a.submit(0, 1, ot.Op{ot.Skip(in2), ot.Insert("x")})
		a.submit(0, 2, ot.Op{ot.Skip(in3), ot.Insert("y")})
		close(hold)
		if err := <-agreed; err != nil {
			t.Fatal(err)
		}
		var locked, ack int
		for locked == 0 || ack == 0 {
			m := a.next()
			switch m["type"] {
			case "error":
				if m["code"] != dr.CodeLocked || num(m, "seq") != 1 {
					t.Fatalf("got %v, want locked for seq 1", m)
				}
				locked++
			case "ack":
				if num(m, "seq") != 2 || num(m, "rev") != 2 {
					t.Fatalf("got %v, want seq 2 acked at rev 2", m)
				}
				ack++
			case "op":
				if num(m, "rev") != 1 || m["kind"] != "status.agreed" {
					t.Fatalf("got %v, want the status op at rev 1", m)
				}
			default:
				t.Fatalf("unexpected %v", m)
			}
		}
		if got, rev := ts.text("d"); got != "Article 1\n1. A.\n2. B.\n3. yC.\n" || rev != 2 {
			t.Fatalf("text %q at %d", got, rev)
		}
	})
}
