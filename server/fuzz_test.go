package server

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// FuzzHandle feeds frames to a session that said hello and opened a draft.
// No frame may panic the server, and the draft may change only when the
// frame was an op that the server acknowledged.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{
		`{"type":"op","doc":"d","rev":0,"seq":1,"op":[3,"x",{"d":2}]}`,
		`{"type":"op","doc":"d","rev":0,"seq":2,"op":[{"d":"ab"}]}`,
		`{"type":"op","doc":"d","rev":1,"seq":3,"op":[100,"x"]}`,
		`{"type":"op","doc":"d","rev":0,"seq":4,"op":[0,{"d":""},{},null,true,[1]]}`,
		`{"type":"op","doc":"d","rev":-1,"seq":5,"op":["x"]}`,
		`{"type":"op","doc":"d","rev":0,"seq":18446744073709551615,"op":["\ud800"]}`,
		`{"type":"presence","doc":"d","rev":0,"sel":[[0,1],[2,2]]}`,
		`{"type":"presence","doc":"d","rev":0,"sel":[[-1,1]]}`,
		`{"type":"open","doc":"d","rev":0}`,
		`{"type":"open","doc":"e"}`,
		`{"type":"close","doc":"d"}`,
		`{"type":"hello","client":"x"}`,
		`{"type":"nope"}`,
		`{"type":"op","doc":"d","rev":0,"seq":6,"op":["é😭締"],"ref":{"a":[1]}}`,
		"{\"type\":\"op\",\"doc\":\"d\",\"rev\":0,\"seq\":7,\"op\":[\"\xff\"]}",
		`[]`, `null`, `"x"`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	store := storage.NewMemory()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: "d"}, "abcdef 😭 締約国"); err != nil {
		f.Fatal(err)
	}
	s := New(Config{Open: true, MaxDraftLen: 5000, OpsPerSecond: 1e9, OpsBurst: 1 << 30, MsgsPerSecond: 1e9, MsgsBurst: 1 << 30}, store, nil)
	f.Cleanup(func() { s.Shutdown(context.Background()) })
	ident, _ := OpenAuth{}.Hello(context.Background(), Hello{Delegation: "CAN", Name: "Fuzz", Role: dr.RoleDrafter})
	var c *Session
	reset := func() {
		if c != nil {
			c.cleanup()
		}
		c = newFakeSession(s, ident, "fuzz")
		s.mu.Lock()
		s.sessions[c] = struct{}{}
		s.mu.Unlock()
		c.handle(websocket.TextMessage, []byte(`{"type":"open","doc":"d"}`))
	}
	reset()
	state := func() (string, int) {
		var text string
		var rev int
		if err := s.Do(context.Background(), "d", func(st *DraftState) error {
			text, rev = st.Text().String(), st.Rev()
			return nil
		}); err != nil {
			f.Fatal(err)
		}
		return text, rev
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		select {
		case <-c.done:
			reset()
		default:
		}
		c.send.take()
		text, rev := state()
		c.handle(websocket.TextMessage, frame)
		text2, rev2 := state() // the owner has answered everything queued before
		if text2 == text && rev2 == rev {
			return
		}
		if rev2 != rev+1 {
			t.Fatalf("one frame moved the draft from rev %d to %d", rev, rev2)
		}
		var m struct {
			Type string
			Seq  uint64
		}
		if json.Unmarshal(frame, &m) != nil || m.Type != "op" {
			t.Fatalf("frame %q changed the draft but is not an op", frame)
		}
		acked := false
		for _, out := range c.send.take() {
			if bytes.HasPrefix(out, []byte(`{"type":"ack"`)) {
				acked = true
			}
		}
		if !acked {
			t.Fatalf("frame %q changed the draft without an ack", frame)
		}
	})
}
