package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// rawConn is a WebSocket speaking raw frames, for inputs a real client
// would never send.
type rawConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func (ls *liveServer) dialRaw() *rawConn {
	ls.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(ls.wsURL(), nil)
	if err != nil {
		ls.t.Fatal(err)
	}
	ls.t.Cleanup(func() { ws.Close() })
	return &rawConn{ls.t, ws}
}

func (rc *rawConn) sendRaw(mt int, data []byte) {
	rc.t.Helper()
	rc.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := rc.ws.WriteMessage(mt, data); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

func (rc *rawConn) send(s string) { rc.sendRaw(websocket.TextMessage, []byte(s)) }

// next reads the next message; closed reports that the server closed the
// connection instead.
func (rc *rawConn) next() (m map[string]any, closed bool) {
	rc.t.Helper()
	rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := rc.ws.ReadMessage()
	if err != nil {
		if _, ok := err.(*websocket.CloseError); ok {
			return nil, true
		}
		rc.t.Fatalf("read: %v", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		rc.t.Fatalf("server sent non-JSON %q", data)
	}
	return m, false
}

func (rc *rawConn) expect(typ string) map[string]any {
	rc.t.Helper()
	m, closed := rc.next()
	if closed || m["type"] != typ {
		rc.t.Fatalf("got %v (closed %v), want %s", m, closed, typ)
	}
	return m
}

func (rc *rawConn) hello(role string) {
	rc.t.Helper()
	rc.send(`{"type":"hello","client":"raw-1","delegation":"CAN","name":"Ana","role":"` + role + `"}`)
	rc.expect("welcome")
}

func TestBadInputs(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{MaxFrameBytes: 64 << 10})
	const initial = "hello 😭 world"
	ls.create("art-1", initial)

	// Before hello: unauthorized, then the connection is closed.
	preHello := []struct{ name, frame string }{
		{"op before hello", `{"type":"op","doc":"art-1","rev":0,"seq":1,"op":["x"]}`},
		{"bad JSON before hello", `{"type":`},
		{"hello without delegation", `{"type":"hello","client":"c1","role":"drafter","name":"Ana"}`},
		{"hello with a bad client id", `{"type":"hello","client":"no spaces","delegation":"CAN","name":"Ana","role":"drafter"}`},
		{"hello with a bad role", `{"type":"hello","client":"c1","delegation":"CAN","name":"Ana","role":"king"}`},
		{"hello with a control character in the name", `{"type":"hello","client":"c1","delegation":"CAN","name":"A\u0000na","role":"drafter"}`},
		{"hello with a blank name", `{"type":"hello","client":"c1","delegation":"CAN","name":"   ","role":"drafter"}`}, // a token could not carry it either (dr.ValidName)
		{"hello with an unknown token", `{"type":"hello","client":"c1","token":"drt_nope"}`},
	}
	for _, tt := range preHello {
		t.Run(tt.name, func(t *testing.T) {
			rc := ls.dialRaw()
			rc.send(tt.frame)
			m, closed := rc.next()
			if closed || m["type"] != "error" || m["code"] != dr.CodeUnauthorized {
				t.Fatalf("got %v (closed %v), want error unauthorized", m, closed)
			}
			if m, closed := rc.next(); !closed {
				t.Fatalf("connection still open after unauthorized: got %v", m)
			}
		})
	}

	// After hello: an error with its code, nothing changes, and the
	// connection stays usable.
	rc := ls.dialRaw()
	rc.hello("drafter")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.expect("snapshot")
	seq := 0
	after := []struct {
		name  string
		frame string // or:
		raw   []byte
		mt    int
		code  string
		seq   bool // the error carries the op's seq
	}{
		{name: "unknown type", frame: `{"type":"dance","doc":"art-1"}`, code: dr.CodeBadRequest},
		{name: "no type", frame: `{"doc":"art-1"}`, code: dr.CodeBadRequest},
		{name: "bad JSON", frame: `{"type":"op",`, code: dr.CodeBadRequest},
		{name: "JSON array", frame: `[1,2]`, code: dr.CodeBadRequest},
		{name: "invalid UTF-8", raw: []byte("{\"type\":\"op\",\"doc\":\"art-1\",\"x\":\"\xff\xfe\"}"), code: dr.CodeBadRequest},
		{name: "binary frame", raw: []byte(`{"type":"close","doc":"art-1"}`), mt: websocket.BinaryMessage, code: dr.CodeBadRequest},
		{name: "oversized frame", raw: []byte(`{"type":"op","pad":"` + strings.Repeat("x", 100<<10) + `"}`), code: dr.CodeTooLarge},
		{name: "second hello", frame: `{"type":"hello","client":"raw-1","delegation":"CAN","name":"Ana","role":"facilitator"}`, code: dr.CodeBadRequest},
		{name: "bad draft id", frame: `{"type":"open","doc":"art 1"}`, code: dr.CodeBadRequest},
		{name: "empty draft id", frame: `{"type":"open","doc":""}`, code: dr.CodeBadRequest},
		{name: "long draft id", frame: `{"type":"open","doc":"` + strings.Repeat("a", 129) + `"}`, code: dr.CodeBadRequest},
		{name: "open a missing draft", frame: `{"type":"open","doc":"art-404"}`, code: dr.CodeNotFound},
		{name: "open ahead", frame: `{"type":"open","doc":"art-1","rev":99}`, code: dr.CodeRevAhead},
		{name: "op on a draft not opened", frame: `{"type":"op","doc":"art-2","rev":0,"seq":SEQ,"op":["x"]}`, code: dr.CodeBadRequest, seq: true},
		{name: "op without seq", frame: `{"type":"op","doc":"art-1","rev":0,"op":["x"]}`, code: dr.CodeBadRequest},
		{name: "op without rev", frame: `{"type":"op","doc":"art-1","seq":SEQ,"op":["x"]}`, code: dr.CodeBadRequest, seq: true},
		{name: "op with a fractional rev", frame: `{"type":"op","doc":"art-1","rev":0.5,"seq":SEQ,"op":["x"]}`, code: dr.CodeBadRequest},
		{name: "rev ahead", frame: `{"type":"op","doc":"art-1","rev":5,"seq":SEQ,"op":["x"]}`, code: dr.CodeRevAhead, seq: true},
		{name: "skip past the end", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[14,"x"]}`, code: dr.CodeBadOp, seq: true},
		{name: "delete past the end", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[10,{"d":4}]}`, code: dr.CodeBadOp, seq: true},
		{name: "delete mismatch", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[6,{"d":"😭 x"}]}`, code: dr.CodeBadOp, seq: true},
		{name: "zero skip", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[0,"x"]}`, code: dr.CodeBadOp, seq: true},
		{name: "negative skip", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[-1,"x"]}`, code: dr.CodeBadOp, seq: true},
		{name: "fractional skip", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[1.5,"x"]}`, code: dr.CodeBadOp, seq: true},
		{name: "empty delete", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[{"d":""}]}`, code: dr.CodeBadOp, seq: true},
		{name: "zero delete", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[{"d":0}]}`, code: dr.CodeBadOp, seq: true},
		{name: "empty object", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[{}]}`, code: dr.CodeBadOp, seq: true},
		{name: "insert object", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[{"i":"x"}]}`, code: dr.CodeBadOp, seq: true},
		{name: "null component", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[null]}`, code: dr.CodeBadOp, seq: true},
		{name: "boolean component", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[true]}`, code: dr.CodeBadOp, seq: true},
		{name: "nested array", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":[["x"]]}`, code: dr.CodeBadOp, seq: true},
		{name: "op not an array", frame: `{"type":"op","doc":"art-1","rev":0,"seq":SEQ,"op":"x"}`, code: dr.CodeBadOp, seq: true},
		{name: "presence ahead", frame: `{"type":"presence","doc":"art-1","rev":9,"sel":[[1,1]]}`, code: dr.CodeRevAhead},
		{name: "presence with a bad sel", frame: `{"type":"presence","doc":"art-1","rev":0,"sel":[[1]]}`, code: dr.CodeBadRequest},
		{name: "close a draft not opened", frame: `{"type":"close","doc":"art-9"}`, code: dr.CodeBadRequest},
	}
	for _, tt := range after {
		t.Run(tt.name, func(t *testing.T) {
			seq++
			switch {
			case tt.raw != nil && tt.mt != 0:
				rc.sendRaw(tt.mt, tt.raw)
			case tt.raw != nil:
				rc.sendRaw(websocket.TextMessage, tt.raw)
			default:
				rc.send(strings.ReplaceAll(tt.frame, "SEQ", itoa(seq)))
			}
			m := rc.expect("error")
			if m["code"] != tt.code {
				t.Fatalf("got %v, want code %s", m, tt.code)
			}
			if msg, _ := m["message"].(string); len(msg) < 8 {
				t.Fatalf("message %q does not say what was wrong", msg)
			}
			if got, _ := m["seq"].(float64); tt.seq && int(got) != seq {
				t.Fatalf("error seq %v, want %d", m["seq"], seq)
			}
			if v := ls.get("art-1"); v.Text != initial || v.Rev != 0 {
				t.Fatalf("draft changed: rev %d %q", v.Rev, v.Text)
			}
		})
	}
	// Still usable: a valid op is acked.
	rc.send(`{"type":"op","doc":"art-1","rev":0,"seq":1000,"op":[5,","]}`)
	if m := rc.expect("ack"); m["rev"] != 1.0 {
		t.Fatalf("got %v, want ack rev 1", m)
	}

	t.Run("reviewer edits", func(t *testing.T) {
		rv := ls.dialRaw()
		rv.hello("reviewer")
		rv.send(`{"type":"open","doc":"art-1"}`)
		rv.expect("snapshot")
		rv.send(`{"type":"op","doc":"art-1","rev":1,"seq":1,"op":["x"]}`)
		if m := rv.expect("error"); m["code"] != dr.CodeForbidden || m["seq"] != 1.0 {
			t.Fatalf("got %v, want forbidden with seq 1", m)
		}
		rv.send(`{"type":"presence","doc":"art-1","rev":1,"sel":[[0,2]]}`)
		if m := rc.expect("presence"); m["client"] != "raw-1" {
			t.Fatalf("got %v, want the reviewer's presence", m)
		}
		if v := ls.get("art-1"); v.Rev != 1 {
			t.Fatalf("rev %d after a reviewer's op", v.Rev)
		}
	})

	t.Run("HTTP", func(t *testing.T) {
		tests := []struct {
			name, method, path string
			body               any
			status             int
			code               string
		}{
			{"create an existing id", "POST", "/api/docs", map[string]string{"id": "art-1", "text": "x"}, http.StatusConflict, dr.CodeExists},
			{"create a bad id", "POST", "/api/docs", map[string]string{"id": "art/1"}, http.StatusBadRequest, dr.CodeBadRequest},
			{"create without id", "POST", "/api/docs", map[string]string{"text": "x"}, http.StatusBadRequest, dr.CodeBadRequest},
			{"create with bad JSON", "POST", "/api/docs", "not an object", http.StatusBadRequest, dr.CodeBadRequest},
			{"get a missing draft", "GET", "/api/docs/nope", nil, http.StatusNotFound, dr.CodeNotFound},
			{"get a bad id", "GET", "/api/docs/a%20b", nil, http.StatusBadRequest, dr.CodeBadRequest},
			{"text ahead", "GET", "/api/docs/art-1/text?rev=9", nil, http.StatusBadRequest, dr.CodeRevAhead},
			{"ops with a bad from", "GET", "/api/docs/art-1/ops?from=-1", nil, http.StatusBadRequest, dr.CodeBadRequest},
			{"unknown endpoint", "GET", "/api/nothing", nil, http.StatusNotFound, dr.CodeNotFound},
		}
		for _, tt := range tests {
			var out struct {
				Error struct{ Code, Message string }
			}
			if status := ls.do(tt.method, tt.path, tt.body, &out); status != tt.status || out.Error.Code != tt.code || out.Error.Message == "" {
				t.Errorf("%s: status %d %+v, want %d %s", tt.name, status, out, tt.status, tt.code)
			}
		}
		if v := ls.get("art-1"); v.Rev != 1 || v.Text != "hello, 😭 world" {
			t.Fatalf("draft changed: %+v", v)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
