package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestHugeFrameClosesWith1009: a message far beyond the hard limit (8× the
// frame limit) is refused at the header of the frame that crosses it; the
// peer, still sending, must finish sending without a reset and then read
// the 1009 close frame (a lingering close). Both as one frame and as a
// fragmented message (gorilla fragments at its write buffer size).
func TestHugeFrameClosesWith1009(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{MaxFrameBytes: 1 << 10})
	big := []byte(`{"type":"presence","pad":"` + strings.Repeat("x", 16<<20) + `"}`)
	for name, bufSize := range map[string]int{"fragmented": 4096, "one frame": len(big) + 64} {
		t.Run(name, func(t *testing.T) {
			d := websocket.Dialer{WriteBufferSize: bufSize}
			ws, _, err := d.Dial(ls.wsURL(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			rc := &rawConn{t, ws}
			rc.hello("drafter")
			// Like most simple clients, write the whole message, then read.
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, big); err != nil {
				t.Errorf("write of the huge message: %v, want the server to read it to its end before closing", err)
			}
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err = ws.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
				t.Fatalf("read after a huge message: %v, want close 1009", err)
			}
		})
	}
}

// TestLoneSurrogatesRefused: a lone surrogate escape ("\ud800"), which
// encoding/json would store as U+FFFD, is refused in every text field of
// every message, and changes nothing. Before hello every refusal is
// unauthorized and closes the connection (the contract), so a hello name
// with one is refused that way, with a message that says why.
func TestLoneSurrogatesRefused(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-1", "Parties [shall] act.")
	tests := []struct {
		name   string
		hello  bool // send msg as the hello, on a fresh connection
		msg    string
		code   string
		expect string // the message must mention it
	}{
		{name: "hello name", hello: true, msg: `{"type":"hello","client":"c-s1","delegation":"CAN","name":"An\ud800a","role":"drafter"}`, code: dr.CodeUnauthorized, expect: "surrogate"},
		{name: "hello low half alone", hello: true, msg: `{"type":"hello","client":"c-s2","delegation":"CAN","name":"\udc00","role":"drafter"}`, code: dr.CodeUnauthorized, expect: "surrogate"},
		{name: "propose text", msg: `{"type":"propose","doc":"art-1","rev":0,"group":"b0.8","text":"may\ud800"}`, code: dr.CodeBadRequest, expect: "surrogate"},
		{name: "resolve text", msg: `{"type":"resolve","doc":"art-1","rev":0,"group":"b0.8","choice":"compromise","text":"x\ud83d"}`, code: dr.CodeBadRequest, expect: "surrogate"},
		{name: "presence", msg: `{"type":"presence","doc":"art-1","rev":0,"sel":[[0,0]],"note":"\udfff"}`, code: dr.CodeBadRequest, expect: "surrogate"},
		{name: "op text", msg: `{"type":"op","doc":"art-1","rev":0,"seq":1,"op":["\ud800"]}`, code: dr.CodeBadOp, expect: "not valid UTF-8"},
		{name: "paired is fine", msg: `{"type":"propose","doc":"art-1","rev":0,"group":"b0.8","text":"\ud83d\ude2d"}`, code: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ls.get("art-1")
			beforeProps := len(ls.proposals("art-1"))
			var rc *rawConn
			if tt.hello {
				rc = ls.dialRaw()
			} else {
				rc = ls.wsAs(chair, "c-chair")
				rc.send(`{"type":"open","doc":"art-1"}`)
				rc.until("snapshot")
			}
			rc.send(tt.msg)
			m, closed := rc.next()
			for !closed && (m["type"] == "op" || m["type"] == "presence") {
				m, closed = rc.next()
			}
			if tt.code == "" {
				if closed || m["type"] == "error" {
					t.Fatalf("got %v (closed %v), want it accepted", m, closed)
				}
				return
			}
			if closed || m["type"] != "error" || m["code"] != tt.code {
				t.Fatalf("got %v (closed %v), want error %s", m, closed, tt.code)
			}
			if msg, _ := m["message"].(string); !strings.Contains(msg, tt.expect) {
				t.Fatalf("message %q does not say %q", msg, tt.expect)
			}
			if after := ls.get("art-1"); after != before || len(ls.proposals("art-1")) != beforeProps {
				t.Fatalf("refused but the draft changed: %+v -> %+v", before, after)
			}
		})
	}
}

// TestAppPageSecurityHeaders: the app page (and its assets) carry a
// Content-Security-Policy that forbids framing, and X-Frame-Options.
func TestAppPageSecurityHeaders(t *testing.T) {
	web := fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html><title>t</title><script type=module src=app.js></script>")},
		"app.js":     {Data: []byte("console.log(1)")},
	}
	for name, cfg := range map[string]server.Config{"web UI": {Web: web}, "placeholder": {}} {
		t.Run(name, func(t *testing.T) {
			ls := startServer(t, storage.NewMemory(), cfg)
			resp, err := http.Get(ls.http.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET /: %d", resp.StatusCode)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "object-src 'none'", "default-src 'self'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options %q, want DENY", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
		})
	}
}

// TestOpenModeCSRF: in open mode, a request that changes state without a
// token must be JSON; a cross-site page can POST text/plain, a form or
// multipart without a preflight, and must change nothing.
func TestOpenModeCSRF(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-1", "Parties [shall] act.")
	posts := []struct{ path, body string }{
		{"/api/docs", `{"id":"evil","title":"x","text":"planted"}`},
		{"/api/docs/art-1/brackets/b0.8/resolve", `{"rev":0,"choice":"drop"}`},
		{"/api/docs/art-1/labels", `{"name":"planted","rev":0}`},
	}
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		for _, p := range posts {
			t.Run(ct+" "+p.path, func(t *testing.T) {
				before, labels := ls.get("art-1"), ls.labelCount("art-1")
				req, _ := http.NewRequest("POST", ls.http.URL+p.path, strings.NewReader(p.body))
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				req.Header.Set("Origin", "https://evil.example")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnsupportedMediaType {
					t.Errorf("status %d, want 415", resp.StatusCode)
				}
				if after := ls.get("art-1"); after != before || ls.labelCount("art-1") != labels {
					t.Errorf("refused but art-1 changed: %+v -> %+v", before, after)
				}
				if code := ls.do("GET", "/api/docs/evil", nil, nil); code != http.StatusNotFound {
					t.Errorf("draft evil: %d, want 404 (not created)", code)
				}
			})
		}
	}
	// The same requests as JSON work (the web UI and the Go tools send it).
	for _, p := range posts {
		req, _ := http.NewRequest("POST", ls.http.URL+p.path, strings.NewReader(p.body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Errorf("JSON POST %s: %d", p.path, resp.StatusCode)
		}
	}
}

func (ls *liveServer) labelCount(doc string) int {
	ls.t.Helper()
	var out struct{ Labels []any }
	ls.do("GET", "/api/docs/"+doc+"/labels", nil, &out)
	return len(out.Labels)
}

// TestOpenModeHostCheck: DNS rebinding. A page on a name the attacker
// controls, rebound to the server's address, reaches it with that name in
// Host and a matching Origin; in open mode such requests are refused, HTTP
// and WebSocket alike, unless the name is allowed. Addresses, localhost
// and -allow-host names pass; token mode does not check Host.
func TestOpenModeHostCheck(t *testing.T) {
	open := startServer(t, storage.NewMemory(), server.Config{AllowHosts: []string{"draft.lan"}})
	open.create("art-1", "text")
	tokens := startSecure(t, server.Config{})
	tokens.create("art-1", "text")
	chair, _ := tokens.issue("CHAIR", "Maria", dr.RoleFacilitator)
	tests := []struct {
		name   string
		base   string
		token  string
		host   string
		wantOK bool
	}{
		{"rebound name", open.http.URL, "", "evil.net", false},
		{"rebound name with port", open.http.URL, "", "evil.net:8080", false},
		{"allowed name", open.http.URL, "", "draft.lan:8080", true},
		{"allowed name, any case", open.http.URL, "", "DRAFT.LAN", true},
		{"IPv4 address", open.http.URL, "", "127.0.0.1:9", true},
		{"IPv6 address", open.http.URL, "", "[::1]:9", true},
		{"localhost", open.http.URL, "", "localhost:8080", true},
		{"token mode, any name", tokens.http.URL, chair, "draft.example.org", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tt.base+"/api/docs/art-1", nil)
			req.Host = tt.host
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if ok := resp.StatusCode == 200; ok != tt.wantOK {
				t.Errorf("HTTP with Host %q: %d, want ok=%v", tt.host, resp.StatusCode, tt.wantOK)
			}
			// The WebSocket, with a matching Origin as a rebound page sends.
			hdr := http.Header{"Host": {tt.host}, "Origin": {"http://" + tt.host}}
			ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(tt.base, "http")+"/ws", hdr)
			if err == nil {
				ws.Close()
			}
			if ok := err == nil; ok != tt.wantOK {
				status := 0
				if resp != nil {
					status = resp.StatusCode
				}
				t.Errorf("WebSocket with Host %q: %v (status %d), want ok=%v", tt.host, err, status, tt.wantOK)
			}
		})
	}
}

func TestHostAllowed(t *testing.T) {
	tests := []struct {
		host  string
		allow []string
		want  bool
	}{
		{"127.0.0.1:8080", nil, true},
		{"[::1]:8080", nil, true},
		{"::1", nil, true},
		{"localhost", nil, true},
		{"app.localhost:80", nil, true},
		{"localhost.evil.example.org.attacker.net", nil, false},
		{"evil.net", nil, false},
		{"evil.net.", []string{"evil.net"}, true},
		{"example.com", nil, true},
		{"www.example.org", nil, true},
		{"draft.test", nil, true},
		{"example.com.evil.net", nil, false},
		{"notexample.com", nil, false},
		{"Draft.LAN:1", []string{"draft.lan"}, true},
		{"other.lan", []string{"draft.lan"}, false},
		{"other.lan", []string{"*"}, true},
		{"", nil, false},
	}
	for _, tt := range tests {
		if got := server.HostAllowed(tt.host, tt.allow); got != tt.want {
			t.Errorf("HostAllowed(%q, %v) = %v, want %v", tt.host, tt.allow, got, tt.want)
		}
	}
}

// auditEntries reads the whole audit log as the facilitator token chair.
func (ss *secServer) auditEntries(chair string) []dr.AuditEntry {
	ss.t.Helper()
	var all []dr.AuditEntry
	for after := 0; ; {
		code, m := ss.httpDo(chair, "GET", fmt.Sprintf("/api/audit?after=%d&limit=1000", after), nil)
		if code != 200 {
			ss.t.Fatalf("audit: %d %v", code, m)
		}
		b, _ := json.Marshal(m["entries"])
		var page []dr.AuditEntry
		json.Unmarshal(b, &page)
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = int(page[len(page)-1].Seq)
	}
}

// TestAuditRecordsRefusalsAndUse: failed sign-ins (WebSocket and HTTP),
// refused attempts (forbidden, and unauthorized without a credential),
// proposals and HTTP use of a token are in the audit log, with who and
// from where.
func TestAuditRecordsRefusalsAndUse(t *testing.T) {
	ss := startSecure(t, server.Config{})
	ss.create("art-1", bracketed)
	chair, _ := ss.issue("CHAIR", "Maria", dr.RoleFacilitator)
	drafter, _ := ss.issue("CAN", "Ana", dr.RoleDrafter)
	reviewer, _ := ss.issue("OBS", "Olga", dr.RoleReviewer)

	if _, w := ss.connect("drt_notatoken", "c1", ""); w["code"] != "unauthorized" {
		t.Fatalf("bad token hello: %v", w)
	}
	if code, _ := ss.httpDo("drt_notatokeneither", "GET", "/api/docs", nil); code != 401 {
		t.Fatalf("bad token over HTTP: %d", code)
	}
	if code, _ := ss.httpDo("", "GET", "/api/docs", nil); code != 401 {
		t.Fatalf("no token over HTTP: %d", code)
	}
	if code, _ := ss.httpDo(drafter, "POST", "/api/docs", map[string]string{"id": "art-2", "text": "x"}); code != 403 {
		t.Fatalf("drafter creates: %d", code)
	}
	rc, w := ss.connect(reviewer, "c-olga", "")
	if w["type"] != "welcome" {
		t.Fatal(w)
	}
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.next()
	rc.send(`{"type":"op","doc":"art-1","rev":0,"seq":1,"op":["x"]}`)
	if m, _ := rc.next(); m["code"] != "forbidden" {
		t.Fatalf("reviewer op: %v", m)
	}
	if code, m := ss.httpDo(drafter, "POST", "/api/docs/art-1/brackets/propose", map[string]any{"group": "b0.12", "text": "must"}); code != 200 {
		t.Fatalf("propose: %d %v", code, m)
	}

	var got []string
	for _, e := range ss.auditEntries(chair) {
		got = append(got, fmt.Sprintf("%s %s/%s %s", e.Action, e.Actor.Delegation, e.Actor.Name, e.Detail))
	}
	want := []string{
		`login.failed / websocket sign-in client=c1 from=127.0.0.1:* code=unauthorized: this token is not valid on this server`,
		`login.failed / GET /api/docs from=127.0.0.1:* code=unauthorized: this token is not valid on this server`,
		`refused / GET /api/docs from=127.0.0.1:* code=unauthorized: a token is required*`,
		`refused CAN/Ana POST /api/docs from=127.0.0.1:* code=forbidden: *`,
		`refused OBS/Olga websocket op art-1 from=127.0.0.1:* code=forbidden: a reviewer may not edit`,
		`bracket.propose CAN/Ana group b0.12 alternative * at rev 1`,
		`token.use CAN/Ana token=* POST /api/docs from=127.0.0.1:*`,
		`token.use CHAIR/Maria token=* GET /api/audit *`,
	}
	for _, pattern := range want {
		found := false
		for _, g := range got {
			if ok, _ := path.Match(pattern, g); ok {
				found = true
			}
		}
		if !found {
			t.Errorf("audit log lacks %q; has\n%s", pattern, strings.Join(got, "\n"))
		}
	}
	// HTTP use of a token is summed up: the drafter's requests above made
	// one entry, not one each.
	uses := 0
	for _, g := range got {
		if strings.HasPrefix(g, "token.use CAN/Ana") {
			uses++
		}
	}
	if uses != 1 {
		t.Errorf("%d token.use entries for the drafter, want 1", uses)
	}
}

// TestAuditFloodIsBounded: a flood of failed sign-ins from one address,
// and of refusals by one token, writes a bounded number of entries.
func TestAuditFloodIsBounded(t *testing.T) {
	ss := startSecure(t, server.Config{})
	ss.create("art-1", bracketed)
	chair, _ := ss.issue("CHAIR", "Maria", dr.RoleFacilitator)
	drafter, _ := ss.issue("CAN", "Ana", dr.RoleDrafter)
	const flood = 300
	for i := range flood {
		ss.httpDo(fmt.Sprintf("drt_bad%d", i), "GET", "/api/docs", nil)
		ss.httpDo(drafter, "POST", "/api/docs", map[string]string{"id": fmt.Sprintf("x%d", i), "text": "x"})
	}
	counts := map[string]int{}
	for _, e := range ss.auditEntries(chair) {
		counts[e.Action]++
	}
	// The burst, plus what refills while the test runs (one every 10s).
	for _, action := range []string{server.ActionLoginFailed, server.ActionRefused} {
		if n := counts[action]; n < 10 || n > 25 {
			t.Errorf("%d %s entries after %d attempts, want the burst of 20 (and a few)", n, action, flood)
		}
	}
}

// TestPresenceClientIDReuse: a second delegation reusing someone's client
// id cannot take over or remove that client's cursor: its presence and its
// "left" say who they are from (by), and after it leaves the others get
// the first client's presence back, so that even a receiver that keys
// cursors by client id alone ends with the right one. The Go client,
// which keys by client id, keeps the victim's cursor.
func TestPresenceClientIDReuse(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-1", "The Parties shall act.")
	ana, bob := who{"CAN", "Ana", "drafter"}, who{"USA", "Bob", "drafter"}

	victim := ls.wsAs(ana, "c-ana")
	victim.send(`{"type":"open","doc":"art-1"}`)
	victim.until("snapshot")
	// Ana's cursor has reached the draft's owner once another subscriber
	// sees it (it comes on another connection: nothing else orders it
	// before the observer's open), so the observer's snapshot must list
	// it. The witness stays, without a cursor of its own (a "left" of
	// its own would be one the observer does not expect).
	witness := ls.wsAs(who{"OBS", "Otto", "reviewer"}, "c-witness")
	witness.send(`{"type":"open","doc":"art-1"}`)
	witness.until("snapshot")
	victim.send(`{"type":"presence","doc":"art-1","rev":0,"sel":[[4,11]]}`)
	for m := witness.until("presence"); m["client"] != "c-ana"; m = witness.until("presence") {
	}

	observer := ls.wsAs(who{"OBS", "Olga", "reviewer"}, "c-obs")
	observer.send(`{"type":"open","doc":"art-1"}`)
	snap := observer.until("snapshot")
	if present, _ := snap["present"].([]any); len(present) != 1 {
		t.Fatalf("present %v, want Ana's cursor", snap["present"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan client.Event, 256)
	_, goDoc := dialOpen(t, ctx, ls.wsURL(), client.Options{ClientID: "c-go", Delegation: "FRA", Name: "Luc", Role: "reviewer",
		OnEvent: func(e client.Event) {
			select {
			case events <- e:
			default:
			}
		}}, "art-1")

	// Bob takes Ana's client id, shows a cursor and leaves.
	attacker := ls.wsAs(bob, "c-ana")
	attacker.send(`{"type":"open","doc":"art-1"}`)
	attacker.until("snapshot")
	attacker.send(`{"type":"presence","doc":"art-1","rev":0,"sel":[[0,0]]}`)
	attacker.send(`{"type":"close","doc":"art-1"}`)
	attacker.send(`{"type":"presence","doc":"art-1","rev":0,"sel":[[1,1]]}`) // not open any more: refused
	if m := attacker.until("error"); m["code"] != dr.CodeBadRequest {
		t.Fatalf("presence after close: %v", m)
	}

	// What the observer sees, keyed by client id alone (the naive way),
	// must end with Ana's cursor; every frame must say who it is from.
	cursor := map[string]map[string]any{}
	for {
		m, closed := observer.next()
		if closed {
			t.Fatal("observer closed")
		}
		if m["type"] != "presence" {
			continue
		}
		by, _ := m["by"].(map[string]any)
		if by == nil {
			t.Fatalf("presence frame %v does not say who it is from", m)
		}
		if m["left"] == true {
			if by["delegation"] != "USA" {
				t.Fatalf("left %v, want Bob's (USA)", m)
			}
			delete(cursor, m["client"].(string))
			continue
		}
		cursor[m["client"].(string)] = m
		if by["delegation"] == "CAN" && fmt.Sprint(m["sel"]) == "[[4 11]]" {
			break // Ana's cursor, back after Bob's departure
		}
	}
	if c := cursor["c-ana"]; c == nil || c["by"].(map[string]any)["delegation"] != "CAN" {
		t.Fatalf("observer's cursor for c-ana is %v, want Ana's", c)
	}
	// The Go client keeps Ana's cursor.
	sawLeft := false
	for {
		p, ok := goDoc.Presence()["c-ana"]
		if sawLeft && ok && p.By.Delegation == "CAN" && fmt.Sprint(p.Sel) == "[[4 11]]" {
			break
		}
		select {
		case e := <-events:
			if e.Type == client.EventLeft {
				if e.By.Delegation != "USA" {
					t.Fatalf("Go client's left event %+v, want Bob's", e)
				}
				sawLeft = true
			}
		case <-ctx.Done():
			t.Fatalf("Go client's presence of c-ana: %+v (present %v, left seen %v), want Ana's [[4 11]]", p, ok, sawLeft)
		}
	}
}

var _ server.Fanout = (*storage.Redis)(nil)

// TestDeadNodePresenceLeaves: two server nodes on one Redis. A client of
// node B shows a cursor to a subscriber of node A; then B dies without a
// goodbye (its store connection closes: no "left", no heartbeat). A's
// subscriber must get "left" for B's client within seconds, once B's
// heartbeat expires.
func TestDeadNodePresenceLeaves(t *testing.T) {
	url := redisForTest(t)
	prefix := fmt.Sprintf("drtest-liveness-%d:", time.Now().UnixNano())
	cfg := server.Config{NodeTTL: time.Second}
	storeA, storeB := redisStore(t, url, prefix), redisStore(t, url, prefix)
	cfg.Fanout = storeA
	a := startServer(t, storeA, cfg)
	cfg.Fanout = storeB
	b := startServer(t, storeB, cfg)
	a.create("art-1", "The Parties shall act.")

	observer := a.wsAs(who{"OBS", "Olga", "reviewer"}, "c-obs")
	observer.send(`{"type":"open","doc":"art-1"}`)
	observer.until("snapshot")

	// Wait until B's heartbeat is in the set, as in any deployment that
	// ran for a moment (a state inside Redis: no event to wait on).
	waitUntil(t, "node B's heartbeat", func() bool {
		live, _, err := storeB.Nodes(context.Background())
		return err == nil && live[storeB.NodeID()]
	})
	x := b.wsAs(who{"CAN", "Ana", "drafter"}, "c-ana")
	x.send(`{"type":"open","doc":"art-1"}`)
	x.until("snapshot")
	x.send(`{"type":"presence","doc":"art-1","rev":0,"sel":[[4,11]]}`)
	for {
		m := observer.until("presence")
		if m["client"] == "c-ana" && m["left"] != true {
			break
		}
	}
	// B dies: nothing more leaves it.
	died := time.Now()
	storeB.Close()
	for {
		m := observer.until("presence")
		if m["client"] == "c-ana" && m["left"] == true {
			if by, _ := m["by"].(map[string]any); by["delegation"] != "CAN" {
				t.Fatalf("left %v, want Ana's", m)
			}
			t.Logf("left for the dead node's client after %v (NodeTTL %v)", time.Since(died).Round(time.Millisecond), cfg.NodeTTL)
			break
		}
	}
}
