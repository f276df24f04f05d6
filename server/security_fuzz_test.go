package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
)

// FuzzFramesByRole sends each input, as a text frame over a real
// WebSocket, from a reviewer and from a drafter whose token covers only
// "own-*" drafts. Properties:
//   - the server never panics and keeps serving: a facilitator on another
//     connection gets its op acknowledged after every input;
//   - the reviewer's frame changes no draft;
//   - the drafter's frame never changes "other-1" (outside its token), and
//     changes "own-1" by at most one revision, and only when the server
//     answered it with ack or proposed.
func FuzzFramesByRole(f *testing.F) {
	for _, seed := range []string{
		`{"type":"op","doc":"own-1","rev":0,"seq":1,"op":[3,"x",{"d":2}]}`,
		`{"type":"op","doc":"other-1","rev":0,"seq":1,"op":["x"]}`,
		`{"type":"open","doc":"other-1"}`,
		`{"type":"propose","doc":"own-1","rev":0,"group":"b0.12","text":"may"}`,
		`{"type":"propose","doc":"other-1","rev":0,"group":"b0.12","text":"may"}`,
		`{"type":"resolve","doc":"own-1","rev":0,"group":"b0.12","choice":"drop"}`,
		`{"type":"resolve","doc":"other-1","rev":0,"group":"b0.12","choice":"choose","index":0}`,
		`{"type":"op","doc":"own-1","rev":0,"seq":2,"op":["x"],"by":{"delegation":"CHAIR","name":"Maria"},"role":"facilitator"}`,
		`{"type":"hello","client":"x","token":"drt_x","role":"facilitator"}`,
		`{"type":"presence","doc":"own-1","rev":0,"sel":[[0,1]]}`,
		`{"type":"close","doc":"own-1"}`,
		`{"type":"brackets","doc":"other-1"}`,
		`{"type":"op","doc":"own-1","rev":0,"seq":18446744073709551615,"op":[{"d":"The"}]}`,
		"{\"type\":\"op\",\"doc\":\"own-1\",\"rev\":0,\"seq\":3,\"op\":[\"\xff\"]}",
		`[]`, `null`, `{`, ``, `{"type":""}`,
	} {
		f.Add([]byte(seed))
	}
	ss := startSecure(f, server.Config{MaxDraftLen: 5000, OpsPerSecond: 1e9, OpsBurst: 1 << 30, MsgsPerSecond: 1e9, MsgsBurst: 1 << 30,
		TokenOpsPerSecond: 1e9, TokenOpsBurst: 1 << 30, TokenMsgsPerSecond: 1e9, TokenMsgsBurst: 1 << 30})
	reviewer, _ := ss.issue("OBS", "Olga", dr.RoleReviewer)
	drafter, _ := ss.issue("CAN", "Ana", dr.RoleDrafter, "own-*")
	chair, _ := ss.issue("CHAIR", "Maria", dr.RoleFacilitator)
	ss.create("own-1", bracketed)
	ss.create("other-1", bracketed)
	ss.create("live", "")

	type peer struct {
		token, client string
		docs          []string // opened on connecting; the first is the sentinel's
		ws            *websocket.Conn
	}
	url := "ws" + strings.TrimPrefix(ss.http.URL, "http") + "/ws"
	sentinel := 0
	// roundTrip sends frame (nil: none) and then a sentinel, an open of
	// the peer's first draft: it goes through that draft's owner after
	// anything the frame queued there, and propose and resolve are
	// answered before the next message is read. It returns the replies
	// before the sentinel's.
	roundTrip := func(t *testing.T, p *peer, frame []byte) []string {
		if p.ws == nil {
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"hello","client":%q,"token":%q}`, p.client, p.token)))
			p.ws = ws
			for _, d := range p.docs {
				ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"open","doc":%q}`, d)))
			}
		}
		if frame != nil {
			p.ws.WriteMessage(websocket.TextMessage, frame)
		}
		sentinel++
		ref := fmt.Sprintf("s%d", sentinel)
		p.ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"open","doc":%q,"ref":%q}`, p.docs[0], ref)))
		var got []string
		for {
			p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, data, err := p.ws.ReadMessage()
			if err != nil {
				// The input may legitimately end the connection (a
				// close frame); the next input reconnects.
				p.ws.Close()
				p.ws = nil
				return got
			}
			if strings.Contains(string(data), `"ref":"`+ref+`"`) {
				return got
			}
			got = append(got, string(data))
		}
	}
	rev := func(id string) int {
		d, err := ss.store.Draft(context.Background(), id)
		if err != nil {
			panic(err)
		}
		return d.Rev
	}
	rp := &peer{token: reviewer, client: "rev", docs: []string{"own-1", "other-1"}}
	dp := &peer{token: drafter, client: "dra", docs: []string{"own-1"}}
	cp := &peer{token: chair, client: "chair", docs: []string{"live"}}
	chairSeq := 0

	f.Fuzz(func(t *testing.T, frame []byte) {
		own, other := rev("own-1"), rev("other-1")
		roundTrip(t, rp, frame)
		if o, x := rev("own-1"), rev("other-1"); o != own || x != other {
			t.Fatalf("reviewer frame %q changed a draft: own %d->%d other %d->%d", frame, own, o, other, x)
		}
		replies := roundTrip(t, dp, frame)
		o, x := rev("own-1"), rev("other-1")
		if x != other {
			t.Fatalf("drafter frame %q changed a draft outside its token: %d->%d", frame, other, x)
		}
		if o != own {
			answered := false
			for _, r := range replies {
				answered = answered || strings.HasPrefix(r, `{"type":"ack"`) || strings.HasPrefix(r, `{"type":"proposed"`)
			}
			if o != own+1 || !answered {
				t.Fatalf("drafter frame %q moved own-1 %d->%d (replies %q)", frame, own, o, replies)
			}
		}
		// The server still serves a third client.
		liveRev := rev("live")
		chairSeq++
		op := `["a"]` // the live draft stays one character long at most
		if liveRev%2 == 1 {
			op = `[{"d":1}]`
		}
		cp2 := roundTrip(t, cp, []byte(fmt.Sprintf(`{"type":"op","doc":"live","rev":%d,"seq":%d,"op":%s}`, liveRev, chairSeq, op)))
		acked := false
		for _, r := range cp2 {
			acked = acked || strings.HasPrefix(r, `{"type":"ack"`)
		}
		if !acked {
			t.Fatalf("after %q the facilitator's op was not acknowledged: %q", frame, cp2)
		}
	})
}
