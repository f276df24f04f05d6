package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// secServer is a server in token mode (open mode off) on a loopback
// listener, over a Memory store.
type secServer struct {
	t     testing.TB
	srv   *server.Server
	http  *httptest.Server
	store secStore
}

// secStore is the store of the security tests: any backend.
type secStore = dr.Store

func startSecure(t testing.TB, cfg server.Config) *secServer {
	return startSecureOn(t, cfg, storage.NewMemory())
}

func startSecureOn(t testing.TB, cfg server.Config, store secStore) *secServer {
	t.Helper()
	cfg.Auth = server.NewTokenAuth(store, nil)
	srv := server.New(cfg, store, nil)
	hs := serveHTTP(t, srv)
	return &secServer{t: t, srv: srv, http: hs, store: store}
}

// issue makes a token directly in the store (as the CLI does).
func (ss *secServer) issue(delegation, name, role string, drafts ...string) (string, dr.Token) {
	ss.t.Helper()
	secret, tok, err := auth.Issue(context.Background(), ss.store, auth.Request{Delegation: delegation, Name: name, Role: role, Drafts: drafts, IssuedBy: "cli"}, time.Now())
	if err != nil {
		ss.t.Fatal(err)
	}
	return secret, tok
}

func (ss *secServer) create(id, text string) {
	ss.t.Helper()
	if err := ss.store.CreateDraft(context.Background(), dr.Draft{ID: id, Title: id}, text); err != nil {
		ss.t.Fatal(err)
	}
}

// state is what a refused action must not change: the draft's revision,
// text and records.
func (ss *secServer) state(id string) string {
	ss.t.Helper()
	ctx := context.Background()
	d, err := ss.store.Draft(ctx, id)
	if err != nil {
		return "no draft"
	}
	snap, _ := ss.store.Snapshot(ctx, id, 0)
	ops, _ := ss.store.Ops(ctx, id, 1, d.Rev)
	props, _ := ss.store.Proposals(ctx, id)
	decs, _ := ss.store.Decisions(ctx, id)
	labels, _ := ss.store.Labels(ctx, id)
	b, _ := json.Marshal([]any{d.Rev, snap.Text, ops, props, decs, labels})
	return string(b)
}

// httpDo makes a request with a bearer token ("" for none) and extra
// headers; it returns the status and the decoded body.
func (ss *secServer) httpDo(token, method, path string, body any, hdr ...string) (int, map[string]any) {
	ss.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ss.http.URL+path, r)
	if err != nil {
		ss.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ss.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

// secConn is a raw WebSocket.
type secConn struct {
	t  testing.TB
	ws *websocket.Conn
}

func (ss *secServer) dial(hdr http.Header) (*secConn, *http.Response, error) {
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ss.http.URL, "http")+"/ws", hdr)
	if err != nil {
		return nil, resp, err
	}
	ss.t.Cleanup(func() { ws.Close() })
	return &secConn{ss.t, ws}, resp, nil
}

// connect dials and says hello with token as client; it returns the
// connection and the server's answer (welcome or error).
func (ss *secServer) connect(token, client string, extra string) (*secConn, map[string]any) {
	ss.t.Helper()
	c, _, err := ss.dial(nil)
	if err != nil {
		ss.t.Fatal(err)
	}
	c.send(fmt.Sprintf(`{"type":"hello","client":%q,"token":%q%s}`, client, token, extra))
	m, _ := c.next()
	return c, m
}

func (c *secConn) send(s string) {
	c.t.Helper()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads one message; closed reports the connection ended instead
// (with its close error).
func (c *secConn) next() (map[string]any, error) {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("non-JSON %q", data)
	}
	return m, nil
}

// reply reads until a message of one of types or an error, skipping
// broadcasts (op, presence).
func (c *secConn) reply(types ...string) map[string]any {
	c.t.Helper()
	for {
		m, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %v: %v", types, err)
		}
		if m["type"] == "error" {
			return m
		}
		for _, t := range types {
			if m["type"] == t {
				return m
			}
		}
	}
}

// outcome is "ok" or the error code of a reply.
func outcome(m map[string]any) string {
	if m["type"] == "error" {
		return fmt.Sprint(m["code"])
	}
	return "ok"
}

// bracketed has one group, b0.12, with two alternatives.
const bracketed = "The Parties [shall/should] act."

// TestRoleMatrix runs every action as every role, on a draft the token
// may access ("own-…") and on one it may not ("other-…"), over WebSocket
// and HTTP. Allowed actions succeed; the others are refused with forbidden
// (or unauthorized without a token) and change nothing.
func TestRoleMatrix(t *testing.T) {
	ss := startSecure(t, server.Config{})
	tokens := map[string]string{}
	for _, role := range []string{dr.RoleFacilitator, dr.RoleDrafter, dr.RoleReviewer} {
		tokens[role], _ = ss.issue("D"+role[:3], "Person "+role, role, "own-*")
	}
	tokens["none"] = ""
	tokens["bad"] = "drt_" + strings.Repeat("A", 43)

	type action struct {
		name  string
		roles []string // roles allowed on an own draft; none on another
		ws    string   // message (%[1]s: doc); "" for HTTP only
		reply string   // WebSocket reply type on success
		// HTTP method, path (%[1]s: doc) and body; "" for WebSocket only
		method, path string
		body         any
		changes      bool // a success changes the draft (state differs)
	}
	all := []string{dr.RoleFacilitator, dr.RoleDrafter, dr.RoleReviewer}
	editors := []string{dr.RoleFacilitator, dr.RoleDrafter}
	chair := []string{dr.RoleFacilitator}
	actions := []action{
		{name: "open", roles: all, ws: `{"type":"open","doc":%q}`, reply: "snapshot"},
		{name: "op", roles: editors, ws: `{"type":"op","doc":%q,"rev":0,"seq":1,"op":[4,"x"]}`, reply: "ack", changes: true},
		{name: "presence", roles: all, ws: `{"type":"presence","doc":%q,"rev":0,"sel":[[1,2]]}`},
		{name: "brackets", roles: all, ws: `{"type":"brackets","doc":%q}`, reply: "brackets", method: "GET", path: "/api/docs/%s/brackets"},
		{name: "propose", roles: editors, ws: `{"type":"propose","doc":%q,"rev":0,"group":"b0.12","text":"may"}`, reply: "proposed",
			method: "POST", path: "/api/docs/%s/brackets/propose", body: map[string]any{"rev": 0, "group": "b0.12", "text": "may"}, changes: true},
		{name: "resolve", roles: chair, ws: `{"type":"resolve","doc":%q,"rev":0,"group":"b0.12","choice":"choose","index":1}`, reply: "resolved",
			method: "POST", path: "/api/docs/%s/brackets/b0.12/resolve", body: map[string]any{"rev": 0, "choice": "choose", "index": 1}, changes: true},
		{name: "read draft", roles: all, method: "GET", path: "/api/docs/%s"},
		{name: "read ops", roles: all, method: "GET", path: "/api/docs/%s/ops"},
		{name: "read text", roles: all, method: "GET", path: "/api/docs/%s/text?rev=0"},
		{name: "bracket stats", roles: all, method: "GET", path: "/api/docs/%s/brackets/stats"},
		{name: "proposals", roles: all, method: "GET", path: "/api/docs/%s/proposals"},
		{name: "decisions", roles: all, method: "GET", path: "/api/docs/%s/decisions"},
		{name: "create", roles: chair, method: "POST", path: "/api/docs", changes: true},
		{name: "replay", roles: all, ws: `{"type":"replay","doc":%q,"from":1,"to":1,"interval_ms":0}`, reply: "replayed"},
		{name: "text at rev", roles: all, method: "GET", path: "/api/docs/%s/text?rev=1"},
		{name: "diff", roles: all, method: "GET", path: "/api/docs/%s/diff?from=0&to=1"},
		{name: "authors", roles: all, method: "GET", path: "/api/docs/%s/authors"},
		{name: "history", roles: all, method: "GET", path: "/api/docs/%s/history"},
		{name: "labels", roles: all, method: "GET", path: "/api/docs/%s/labels"},
		{name: "export", roles: all, method: "GET", path: "/api/docs/%s/export?format=txt"},
		{name: "label", roles: chair, method: "POST", path: "/api/docs/%s/labels", body: map[string]any{"name": "Chair's text", "rev": 1}, changes: true},
		{name: "import", roles: chair, method: "PUT", path: "/api/docs/%s/text", body: map[string]any{"text": "The Parties shall act!", "rev": 1}, changes: true},
	}
	n := 0
	for _, a := range actions {
		for _, role := range []string{dr.RoleFacilitator, dr.RoleDrafter, dr.RoleReviewer, "none", "bad"} {
			for _, own := range []bool{true, false} {
				for _, transport := range []string{"ws", "http"} {
					if (transport == "ws" && a.ws == "") || (transport == "http" && a.method == "") {
						continue
					}
					if transport == "ws" && (role == "none" || role == "bad") {
						continue // hello itself is refused: TestHelloNeedsAValidToken
					}
					n++
					where := "other"
					if own {
						where = "own"
					}
					doc := fmt.Sprintf("%s-%d", where, n)
					allowed := false
					for _, r := range a.roles {
						allowed = allowed || (r == role && own)
					}
					name := fmt.Sprintf("%s/%s/%s/%s", a.name, role, where, transport)
					t.Run(name, func(t *testing.T) {
						body := a.body
						if a.name == "create" {
							body = map[string]string{"id": doc, "title": "new", "text": "x"}
						} else {
							ss.create(doc, bracketed)
							// One op, so that there is history to replay.
							c := dr.Commit{Ops: []dr.Op{{Rev: 1, Op: ot.Op{ot.Skip(31), ot.Insert("!")}, Client: "setup", Seq: 1, Principal: "tok:setup", TS: 1}}}
							if err := ss.store.Commit(context.Background(), doc, 0, c); err != nil {
								t.Fatal(err)
							}
						}
						before := ss.state(doc)
						var got string
						if transport == "ws" {
							c, w := ss.connect(tokens[role], "c"+fmt.Sprint(n), "")
							if w["type"] != "welcome" {
								t.Fatalf("hello: %v", w)
							}
							if a.name == "op" || a.name == "presence" {
								c.send(fmt.Sprintf(`{"type":"open","doc":%q}`, doc))
								if m := c.reply("snapshot"); outcome(m) != "ok" && own {
									t.Fatalf("open: %v", m)
								}
							}
							c.send(fmt.Sprintf(a.ws, doc))
							if a.reply == "" {
								// presence has no reply: a second message
								// flushes out any error it caused.
								c.send(`{"type":"nope"}`)
								m := c.reply("never")
								if got = outcome(m); got == "bad_request" && strings.Contains(fmt.Sprint(m["message"]), "nope") {
									got = "ok"
								}
							} else {
								got = outcome(c.reply(a.reply))
							}
						} else {
							path := a.path
							if strings.Contains(path, "%s") {
								path = fmt.Sprintf(path, doc)
							}
							code, m := ss.httpDo(tokens[role], a.method, path, body)
							got = "ok"
							if code >= 300 {
								e, _ := m["error"].(map[string]any)
								got = fmt.Sprint(e["code"])
								if want := map[string]int{"forbidden": 403, "unauthorized": 401}[got]; want != 0 && want != code {
									t.Errorf("status %d for %s", code, got)
								}
							}
						}
						after := ss.state(doc)
						switch {
						case allowed && got != "ok":
							t.Fatalf("refused with %s, want allowed", got)
						case allowed && a.changes && after == before:
							t.Fatalf("allowed but the draft did not change")
						case !allowed && got == "ok":
							t.Fatalf("allowed, want refused")
						case !allowed && after != before:
							t.Fatalf("refused (%s) but the draft changed:\n%s\n%s", got, before, after)
						case !allowed && (role == "none" || role == "bad"):
							if got != "unauthorized" {
								t.Fatalf("refused with %s, want unauthorized", got)
							}
						case !allowed && role != "none" && role != "bad" && !own && got != "forbidden" && !(transport == "ws" && (a.name == "op" || a.name == "presence")):
							t.Fatalf("refused with %s, want forbidden", got)
						case !allowed && own && got != "forbidden":
							t.Fatalf("refused with %s, want forbidden", got)
						}
					})
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d cases", n)
	}
}

// TestAccountEndpointsByRole: token management and the audit log are for
// facilitators with a token; /api/me is for everyone signed in.
func TestAccountEndpointsByRole(t *testing.T) {
	ss := startSecure(t, server.Config{})
	chairTok, chairTokInfo := ss.issue("CHAIR", "Maria", dr.RoleFacilitator)
	limitedChair, _ := ss.issue("CHAIR", "Lim", dr.RoleFacilitator, "own-*")
	drafter, _ := ss.issue("CAN", "Ana", dr.RoleDrafter)
	reviewer, _ := ss.issue("OBS", "Olga", dr.RoleReviewer)
	_, victim := ss.issue("USA", "Bob", dr.RoleDrafter)
	_, ownVictim := ss.issue("USA", "Bea", dr.RoleDrafter, "own-*")
	_, otherChair := ss.issue("CHAIR", "Other", dr.RoleFacilitator)
	_, otherLimitedChair := ss.issue("CHAIR", "Lim2", dr.RoleFacilitator, "own-*")
	selfSecret, self := ss.issue("CHAIR", "Self", dr.RoleFacilitator)

	issueBody := map[string]any{"delegation": "FRA", "name": "Luc", "role": "reviewer"}
	tests := []struct {
		name, token, method, path string
		body                      any
		want                      int
	}{
		{"me as reviewer", reviewer, "GET", "/api/me", nil, 200},
		{"me without token", "", "GET", "/api/me", nil, 401},
		{"list as facilitator", chairTok, "GET", "/api/tokens", nil, 200},
		{"list as drafter", drafter, "GET", "/api/tokens", nil, 403},
		{"list as reviewer", reviewer, "GET", "/api/tokens", nil, 403},
		{"list without token", "", "GET", "/api/tokens", nil, 401},
		{"issue as drafter", drafter, "POST", "/api/tokens", issueBody, 403},
		{"issue as reviewer", reviewer, "POST", "/api/tokens", issueBody, 403},
		{"issue as facilitator", chairTok, "POST", "/api/tokens", issueBody, 201},
		{"issue a facilitator token over HTTP", chairTok, "POST", "/api/tokens", map[string]any{"delegation": "X", "name": "Y", "role": "facilitator"}, 403},
		{"issue with a bad role", chairTok, "POST", "/api/tokens", map[string]any{"delegation": "X", "name": "Y", "role": "king"}, 400},
		{"issue with a bad expiry", chairTok, "POST", "/api/tokens", map[string]any{"delegation": "X", "name": "Y", "role": "drafter", "expires_in": "-1h"}, 400},
		{"limited facilitator issues beyond its drafts", limitedChair, "POST", "/api/tokens", map[string]any{"delegation": "X", "name": "Y", "role": "drafter", "drafts": []string{"*"}}, 403},
		{"limited facilitator issues within its drafts", limitedChair, "POST", "/api/tokens", map[string]any{"delegation": "X", "name": "Y", "role": "drafter"}, 201},
		{"revoke as drafter", drafter, "DELETE", "/api/tokens/" + victim.ID, nil, 403},
		{"limited facilitator revokes an unlimited token", limitedChair, "DELETE", "/api/tokens/" + victim.ID, nil, 403},
		{"limited facilitator revokes within its drafts", limitedChair, "DELETE", "/api/tokens/" + ownVictim.ID, nil, 200},
		{"revoke unknown", chairTok, "DELETE", "/api/tokens/0000000000000000", nil, 404},
		{"revoke as facilitator", chairTok, "DELETE", "/api/tokens/" + victim.ID, nil, 200},
		{"facilitator revokes another facilitator", chairTok, "DELETE", "/api/tokens/" + otherChair.ID, nil, 403},
		{"facilitator revokes a limited facilitator", chairTok, "DELETE", "/api/tokens/" + otherLimitedChair.ID, nil, 403},
		{"limited facilitator revokes a facilitator within its drafts", limitedChair, "DELETE", "/api/tokens/" + otherLimitedChair.ID, nil, 403},
		{"limited facilitator revokes the chair", limitedChair, "DELETE", "/api/tokens/" + chairTokInfo.ID, nil, 403},
		{"drafter revokes the chair", drafter, "DELETE", "/api/tokens/" + chairTokInfo.ID, nil, 403},
		{"facilitator revokes its own token", selfSecret, "DELETE", "/api/tokens/" + self.ID, nil, 200},
		{"audit as facilitator", chairTok, "GET", "/api/audit", nil, 200},
		{"audit as drafter", drafter, "GET", "/api/audit", nil, 403},
		{"audit as reviewer", reviewer, "GET", "/api/audit", nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := ss.store.Tokens(context.Background())
			code, m := ss.httpDo(tt.token, tt.method, tt.path, tt.body)
			if code != tt.want {
				t.Fatalf("status %d (%v), want %d", code, m, tt.want)
			}
			after, _ := ss.store.Tokens(context.Background())
			if code >= 300 && fmt.Sprint(before) != fmt.Sprint(after) {
				t.Fatalf("refused but the tokens changed")
			}
		})
	}
	// The issued secret works, with the identity asked for.
	code, m := ss.httpDo(chairTok, "POST", "/api/tokens", map[string]any{"delegation": "BRA", "name": "Rita", "role": "drafter", "drafts": []string{"art-*"}, "expires_in": "1h"})
	if code != 201 {
		t.Fatalf("issue: %d %v", code, m)
	}
	code, me := ss.httpDo(fmt.Sprint(m["token"]), "GET", "/api/me", nil)
	if code != 200 || me["delegation"] != "BRA" || me["name"] != "Rita" || me["role"] != "drafter" || fmt.Sprint(me["drafts"]) != "[art-*]" {
		t.Fatalf("me with the issued token: %d %v", code, me)
	}
	// Listing never shows hashes or secrets.
	_, list := ss.httpDo(chairTok, "GET", "/api/tokens", nil)
	b, _ := json.Marshal(list)
	if bytes.Contains(b, []byte("hash")) || bytes.Contains(b, []byte("drt_")) {
		t.Fatalf("token list shows secrets: %s", b)
	}
}

// TestOpenModeCannotManageTokens: self-declared identities never touch
// credentials, even a self-declared facilitator.
func TestOpenModeCannotManageTokens(t *testing.T) {
	ss := startSecure(t, server.Config{Open: true})
	code, _ := ss.httpDo("", "GET", "/api/tokens", nil)
	if code != 403 {
		t.Fatalf("open-mode list tokens: %d, want 403", code)
	}
	code, _ = ss.httpDo("", "POST", "/api/tokens", map[string]any{"delegation": "X", "name": "Y", "role": "drafter"})
	if code != 403 {
		t.Fatalf("open-mode issue: %d, want 403", code)
	}
}

// TestHelloNeedsAValidToken: without open mode, a hello without a token,
// with a bad one, or with only delegation/name/role is unauthorized and
// the connection is closed.
func TestHelloNeedsAValidToken(t *testing.T) {
	ss := startSecure(t, server.Config{})
	revokedSecret, revoked := ss.issue("CAN", "Old", dr.RoleDrafter)
	if err := ss.store.RevokeToken(context.Background(), revoked.ID, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	expiredSecret, _, err := auth.Issue(context.Background(), ss.store, auth.Request{Delegation: "CAN", Name: "Exp", Role: "drafter", TTL: time.Millisecond}, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for name, extra := range map[string]string{
		"no token":        `{"type":"hello","client":"c1","delegation":"CHAIR","name":"Me","role":"facilitator"}`,
		"unknown token":   `{"type":"hello","client":"c1","token":"drt_nope"}`,
		"not a token":     `{"type":"hello","client":"c1","token":"hunter2"}`,
		"revoked token":   `{"type":"hello","client":"c1","token":"` + revokedSecret + `"}`,
		"expired token":   `{"type":"hello","client":"c1","token":"` + expiredSecret + `"}`,
		"op before hello": `{"type":"op","doc":"d","rev":0,"seq":1,"op":["x"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _, err := ss.dial(nil)
			if err != nil {
				t.Fatal(err)
			}
			c.send(extra)
			m, err := c.next()
			if err != nil || m["type"] != "error" || m["code"] != "unauthorized" {
				t.Fatalf("got %v %v, want unauthorized", m, err)
			}
			if _, err := c.next(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("connection not closed with 1008: %v", err)
			}
		})
	}
}

// TestSpoofing: what a message claims about its sender is ignored; the
// token decides who it is.
func TestSpoofing(t *testing.T) {
	ss := startSecure(t, server.Config{})
	ana, anaTok := ss.issue("CAN", "Ana", dr.RoleDrafter)
	bob, _ := ss.issue("USA", "Bob", dr.RoleDrafter)
	olga, _ := ss.issue("OBS", "Olga", dr.RoleReviewer)
	ss.create("d", bracketed)

	t.Run("hello claims another delegation and role", func(t *testing.T) {
		_, w := ss.connect(olga, "olga-1", `,"delegation":"CHAIR","name":"Maria","role":"facilitator"`)
		if w["type"] != "welcome" || w["delegation"] != "OBS" || w["name"] != "Olga" || w["role"] != "reviewer" {
			t.Fatalf("welcome %v, want the token's identity", w)
		}
	})
	t.Run("op and presence carry a forged by", func(t *testing.T) {
		watcher, _ := ss.connect(bob, "bob-w", "")
		watcher.send(`{"type":"open","doc":"d"}`)
		watcher.reply("snapshot")
		c, _ := ss.connect(ana, "ana-1", "")
		c.send(`{"type":"open","doc":"d"}`)
		c.reply("snapshot")
		c.send(`{"type":"op","doc":"d","rev":0,"seq":1,"op":["x"],"by":{"delegation":"USA","name":"Bob"},"client":"bob-w","delegation":"USA"}`)
		if m := c.reply("ack"); outcome(m) != "ok" {
			t.Fatal(m)
		}
		m := watcher.reply("op")
		if by := m["by"].(map[string]any); by["delegation"] != "CAN" || by["name"] != "Ana" || m["client"] != "ana-1" {
			t.Fatalf("broadcast %v, want by CAN/Ana from ana-1", m)
		}
		c.send(`{"type":"presence","doc":"d","rev":1,"sel":[[0,1]],"by":{"delegation":"USA","name":"Bob"},"client":"bob-w"}`)
		m = watcher.reply("presence")
		if by := m["by"].(map[string]any); by["delegation"] != "CAN" || m["client"] != "ana-1" {
			t.Fatalf("presence %v, want by CAN from ana-1", m)
		}
		ops, _ := ss.store.Ops(context.Background(), "d", 1, 1)
		if ops[0].Principal != dr.TokenPrincipal(anaTok.ID) || ops[0].By.Delegation != "CAN" {
			t.Fatalf("stored op %+v", ops[0])
		}
	})
	t.Run("proposal records the token's author", func(t *testing.T) {
		code, m := ss.httpDo(ana, "POST", "/api/docs/d/brackets/propose", map[string]any{"group": "b0.12", "text": "may", "by": map[string]string{"delegation": "USA"}},
			server.HeaderDelegation, "USA", server.HeaderName, "Bob", server.HeaderRole, "facilitator")
		if code != 200 {
			t.Fatalf("propose: %d %v", code, m)
		}
		props, _ := ss.store.Proposals(context.Background(), "d")
		if len(props) != 1 || props[0].By.Delegation != "CAN" || props[0].By.Name != "Ana" {
			t.Fatalf("proposals %+v, want by CAN/Ana", props)
		}
		code, me := ss.httpDo(ana, "GET", "/api/me", nil, server.HeaderDelegation, "USA", server.HeaderRole, "facilitator")
		if code != 200 || me["delegation"] != "CAN" || me["role"] != "drafter" {
			t.Fatalf("me with forged headers: %v", me)
		}
		code, _ = ss.httpDo("", "POST", "/api/docs", map[string]string{"id": "forged", "text": "x"},
			server.HeaderDelegation, "CHAIR", server.HeaderName, "Maria", server.HeaderRole, "facilitator")
		if code != 401 {
			t.Fatalf("headers without a token created a draft: %d", code)
		}
	})
	t.Run("another principal reusing a client id and seq", func(t *testing.T) {
		ss.create("e", "abc")
		a, _ := ss.connect(ana, "shared", "")
		a.send(`{"type":"open","doc":"e"}`)
		a.reply("snapshot")
		a.send(`{"type":"op","doc":"e","rev":0,"seq":7,"op":["A"]}`)
		ackA := a.reply("ack")
		b, _ := ss.connect(bob, "shared", "")
		b.send(`{"type":"open","doc":"e"}`)
		b.reply("snapshot")
		b.send(`{"type":"op","doc":"e","rev":1,"seq":7,"op":[1,"B"]}`)
		ackB := b.reply("ack")
		if outcome(ackA) != "ok" || outcome(ackB) != "ok" || ackA["rev"] == ackB["rev"] {
			t.Fatalf("acks %v and %v: the second principal got the first's ack", ackA, ackB)
		}
		// Bob, resending seq 6 (lower), is judged against his own history
		// only: nothing of Ana's counts.
		b.send(`{"type":"op","doc":"e","rev":2,"seq":6,"op":[2,"b"]}`)
		if m := b.reply("ack"); outcome(m) != "bad_request" {
			t.Fatalf("seq going backwards for bob: %v", m)
		}
		// Ana resending her op gets her own ack, not applied twice.
		a.send(`{"type":"op","doc":"e","rev":0,"seq":7,"op":["A"]}`)
		if m := a.reply("ack"); m["rev"] != ackA["rev"] {
			t.Fatalf("resend ack %v, want %v", m, ackA)
		}
		text, _ := ss.srv.TextAt(context.Background(), "e", 2)
		if d, _ := ss.store.Draft(context.Background(), "e"); d.Rev != 2 || text != "ABabc" {
			t.Fatalf("draft at %d %q, want 2 \"ABabc\"", d.Rev, text)
		}
	})
}

// TestRevocationClosesConnections: a facilitator revokes a token; its
// open connections get unauthorized and are closed at once, and the token
// no longer works anywhere.
func TestRevocationClosesConnections(t *testing.T) {
	ss := startSecure(t, server.Config{})
	chair, _ := ss.issue("CHAIR", "Maria", dr.RoleFacilitator)
	ana, tok := ss.issue("CAN", "Ana", dr.RoleDrafter)
	bob, _ := ss.issue("USA", "Bob", dr.RoleDrafter)
	ss.create("d", "abc")
	var conns []*secConn
	for i := 0; i < 3; i++ {
		c, w := ss.connect(ana, fmt.Sprintf("ana-%d", i), "")
		if w["type"] != "welcome" {
			t.Fatal(w)
		}
		c.send(`{"type":"open","doc":"d"}`)
		c.reply("snapshot")
		conns = append(conns, c)
	}
	other, _ := ss.connect(bob, "bob", "")
	other.send(`{"type":"open","doc":"d"}`)
	other.reply("snapshot")

	code, m := ss.httpDo(chair, "DELETE", "/api/tokens/"+tok.ID, nil)
	if code != 200 || m["closed"] != float64(3) {
		t.Fatalf("revoke: %d %v, want 3 closed", code, m)
	}
	for _, c := range conns {
		m, err := c.next()
		for err == nil && m["type"] != "error" {
			m, err = c.next()
		}
		if err != nil || m["code"] != "unauthorized" {
			t.Fatalf("revoked connection got %v %v, want unauthorized", m, err)
		}
		if _, err := c.next(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("revoked connection not closed with 1008: %v", err)
		}
	}
	// The others keep working.
	other.send(`{"type":"op","doc":"d","rev":0,"seq":1,"op":["x"]}`)
	if m := other.reply("ack"); outcome(m) != "ok" {
		t.Fatal(m)
	}
	if _, w := ss.connect(ana, "ana-again", ""); w["code"] != "unauthorized" {
		t.Fatalf("hello with a revoked token: %v", w)
	}
	if code, _ := ss.httpDo(ana, "GET", "/api/docs/d", nil); code != 401 {
		t.Fatalf("HTTP with a revoked token: %d", code)
	}
	// Revoking twice is harmless and keeps the first time.
	if code, m2 := ss.httpDo(chair, "DELETE", "/api/tokens/"+tok.ID, nil); code != 200 || m2["revoked"] != m["revoked"] {
		t.Fatalf("second revoke: %d %v", code, m2)
	}
}

// TestRevocationElsewhereAndExpiry: a token revoked in the store by
// someone else (another node, the CLI on Redis), or expiring, closes its
// connections at the next recheck.
func TestRevocationElsewhereAndExpiry(t *testing.T) {
	ss := startSecure(t, server.Config{TokenRecheck: 50 * time.Millisecond})
	ana, tok := ss.issue("CAN", "Ana", dr.RoleDrafter)
	shortSecret, _, err := auth.Issue(context.Background(), ss.store, auth.Request{Delegation: "CAN", Name: "Short", Role: "drafter", TTL: 1500 * time.Millisecond}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := ss.connect(ana, "a1", "")
	c2, w := ss.connect(shortSecret, "s1", "")
	if w["type"] != "welcome" {
		t.Fatal(w)
	}
	if err := ss.store.RevokeToken(context.Background(), tok.ID, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*secConn{"revoked in the store": c1, "expired": c2} {
		m, err := c.next()
		if err != nil || m["code"] != "unauthorized" {
			t.Fatalf("%s: got %v %v", name, m, err)
		}
		if _, err := c.next(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("%s: not closed: %v", name, err)
		}
	}
}

// TestPerTokenLimits: connections per token, and the op bucket shared by
// a token's connections.
func TestPerTokenLimits(t *testing.T) {
	ss := startSecure(t, server.Config{MaxConnsPerToken: 2, TokenOpsPerSecond: 0.001, TokenOpsBurst: 3})
	ana, _ := ss.issue("CAN", "Ana", dr.RoleDrafter)
	bob, _ := ss.issue("USA", "Bob", dr.RoleDrafter)
	ss.create("d", "abc")
	a1, _ := ss.connect(ana, "a1", "")
	a2, _ := ss.connect(ana, "a2", "")
	// Before a welcome every refusal is unauthorized (the contract); the
	// message says why.
	if _, w := ss.connect(ana, "a3", ""); w["code"] != "unauthorized" || !strings.Contains(fmt.Sprint(w["message"]), "2 open connections") {
		t.Fatalf("third connection of a token: %v, want refused for the connection limit", w)
	}
	if _, w := ss.connect(bob, "b1", ""); w["type"] != "welcome" {
		t.Fatalf("another token is not limited: %v", w)
	}
	rev, seq := 0, 0
	for i, c := range []*secConn{a1, a2} {
		c.send(`{"type":"open","doc":"d"}`)
		rev = int(c.reply("snapshot")["rev"].(float64))
		_ = i
	}
	var got []string
	for i := 0; i < 6; i++ {
		c := []*secConn{a1, a2}[i%2]
		seq++
		c.send(fmt.Sprintf(`{"type":"op","doc":"d","rev":%d,"seq":%d,"op":["x"]}`, rev, seq))
		m := c.reply("ack")
		got = append(got, outcome(m))
		if outcome(m) == "ok" {
			rev = int(m["rev"].(float64))
		}
	}
	if want := "[ok ok ok rate_limited rate_limited rate_limited]"; fmt.Sprint(got) != want {
		t.Fatalf("ops over two connections of one token: %v, want %s", got, want)
	}
	// Closing a connection frees its place.
	a1.ws.Close()
	// The server notices the close on its own time: no event reaches the
	// test, so it tries again until a connection is welcome.
	waitUntil(t, "the closed connection to free its place", func() bool {
		_, w := ss.connect(ana, "a4", "")
		return w["type"] == "welcome"
	})
}

// TestOriginCheck: browsers from other sites cannot open a WebSocket.
func TestOriginCheck(t *testing.T) {
	ss := startSecure(t, server.Config{AllowOrigins: []string{"https://app.example.org"}})
	own := ss.http.URL // http://127.0.0.1:port
	for _, tt := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{own, true},
		{"https://app.example.org", true},
		{"HTTPS://APP.EXAMPLE.ORG", true},
		{"https://evil.example", false},
		{"https://app.example.org.evil.example", false},
		{"null", false},
		{"http://127.0.0.1", false}, // another port is another origin
	} {
		hdr := http.Header{}
		if tt.origin != "" {
			hdr.Set("Origin", tt.origin)
		}
		_, resp, err := ss.dial(hdr)
		if tt.ok && err != nil {
			t.Errorf("origin %q refused: %v", tt.origin, err)
		}
		if !tt.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %q allowed (err %v)", tt.origin, err)
		}
	}
	// No CORS: the API never says another origin may read it.
	req, _ := http.NewRequest("GET", own+"/api/docs", nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Fatalf("CORS header %q", v)
	}
}

func TestOriginAllowed(t *testing.T) {
	tests := []struct {
		origin, host string
		allow        []string
		want         bool
	}{
		{"http://localhost:8080", "localhost:8080", nil, true},
		{"https://draft.example.org", "draft.example.org", nil, true},
		{"https://draft.example.org", "other.example.org", nil, false},
		{"https://a.example", "h", []string{"https://a.example/"}, true},
		{"http://a.example", "h", []string{"https://a.example"}, false},
		{"https://x", "h", []string{"*"}, true},
		{"file://", "h", nil, false},
		{"javascript:alert(1)", "h", []string{"*"}, false},
	}
	for _, tt := range tests {
		if got := server.OriginAllowed(tt.origin, tt.host, tt.allow); got != tt.want {
			t.Errorf("OriginAllowed(%q, %q, %v) = %v, want %v", tt.origin, tt.host, tt.allow, got, tt.want)
		}
	}
}

// TestAuditLog: sign-ins, token issue and revoke, draft creation and
// bracket resolutions are recorded with who and when.
func TestAuditLog(t *testing.T) {
	ss := startSecure(t, server.Config{})
	chair, _ := ss.issue("CHAIR", "Maria", dr.RoleFacilitator)
	start := time.Now().UnixMilli()
	if code, _ := ss.httpDo(chair, "POST", "/api/docs", map[string]string{"id": "art-1", "title": "Article 1", "text": bracketed}); code != 201 {
		t.Fatal(code)
	}
	_, issued := ss.httpDo(chair, "POST", "/api/tokens", map[string]any{"delegation": "CAN", "name": "Ana", "role": "drafter"})
	ana := fmt.Sprint(issued["token"])
	if _, w := ss.connect(ana, "ana", ""); w["type"] != "welcome" {
		t.Fatal(w)
	}
	if code, m := ss.httpDo(chair, "POST", "/api/docs/art-1/brackets/b0.12/resolve", map[string]any{"rev": 0, "choice": "choose", "index": 0}); code != 200 {
		t.Fatal(code, m)
	}
	if code, _ := ss.httpDo(chair, "DELETE", "/api/tokens/"+fmt.Sprint(issued["id"]), nil); code != 200 {
		t.Fatal(code)
	}
	code, m := ss.httpDo(chair, "GET", "/api/audit", nil)
	if code != 200 {
		t.Fatal(code, m)
	}
	var got []string
	for _, e := range m["entries"].([]any) {
		e := e.(map[string]any)
		actor := e["actor"].(map[string]any)
		if ts := int64(e["ts"].(float64)); ts < start-1000 {
			t.Errorf("entry %v has ts %d before the test", e, ts)
		}
		got = append(got, fmt.Sprintf("%s %s/%s %v", e["action"], actor["delegation"], e["role"], e["draft"]))
	}
	want := []string{
		"draft.create CHAIR/facilitator art-1",
		"token.issue CHAIR/facilitator <nil>",
		"login CAN/drafter <nil>",
		"bracket.resolve CHAIR/facilitator art-1",
		"token.revoke CHAIR/facilitator <nil>",
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("audit log lacks %q; has %q", w, got)
		}
	}
	// Paging.
	code, page := ss.httpDo(chair, "GET", "/api/audit?after=1&limit=2", nil)
	if entries := page["entries"].([]any); code != 200 || len(entries) != 2 || entries[0].(map[string]any)["seq"] != float64(2) || page["next"] != float64(3) {
		t.Fatalf("page after 1: %d %v", code, page)
	}
}

// TestStaleOpsCostMore: an op made far behind the head costs one more op
// of the rate limit per 64 revisions of lag (the server transforms it
// against each of them).
func TestStaleOpsCostMore(t *testing.T) {
	ss := startSecure(t, server.Config{OpsPerSecond: 0.001, OpsBurst: 20})
	ana, _ := ss.issue("CAN", "Ana", dr.RoleDrafter)
	ss.create("d", "")
	var c dr.Commit
	for rev := 1; rev <= 640; rev++ {
		c.Ops = append(c.Ops, dr.Op{Rev: rev, Op: ot.Op{ot.Insert("x")}, Client: "old", Seq: uint64(rev), Principal: "tok:old", TS: 1})
	}
	if err := ss.store.Commit(context.Background(), "d", 0, c); err != nil {
		t.Fatal(err)
	}
	conn, _ := ss.connect(ana, "a", "")
	conn.send(`{"type":"open","doc":"d"}`)
	conn.reply("snapshot")
	var got []string
	for i, rev := range []int{0, 0, 641, 641} { // costs 11, 11 (9 left: refused), 1, 1
		conn.send(fmt.Sprintf(`{"type":"op","doc":"d","rev":%d,"seq":%d,"op":["y"]}`, rev, i+1))
		got = append(got, outcome(conn.reply("ack")))
	}
	if want := "[ok rate_limited ok ok]"; fmt.Sprint(got) != want {
		t.Fatalf("stale, stale, fresh, fresh: %v, want %s", got, want)
	}
}

// TestFloodingConnectionIsClosed: a client that keeps sending after
// rate_limited is disconnected rather than answered forever.
func TestFloodingConnectionIsClosed(t *testing.T) {
	ss := startSecure(t, server.Config{MsgsPerSecond: 0.001, MsgsBurst: 5, MaxRefusedPerSecond: 10})
	ana, _ := ss.issue("CAN", "Ana", dr.RoleDrafter)
	c, _ := ss.connect(ana, "a", "") // the hello is the first of the 5
	limited := 0
	for i := 0; i < 30; i++ {
		c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"nope"}`))
	}
	for {
		m, err := c.next()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("closed with %v, want 1008", err)
			}
			break
		}
		if m["code"] == "rate_limited" {
			limited++
		}
	}
	if limited != 10 {
		t.Fatalf("%d rate_limited answers before the close, want 10", limited)
	}
}

// TestHTTPRequestsPerToken: requests with a token share the token's HTTP
// bucket; another token is not affected.
func TestHTTPRequestsPerToken(t *testing.T) {
	ss := startSecure(t, server.Config{TokenMsgsPerSecond: 0.001, TokenMsgsBurst: 3})
	ana, _ := ss.issue("CAN", "Ana", dr.RoleDrafter)
	bob, _ := ss.issue("USA", "Bob", dr.RoleDrafter)
	var got []int
	for i := 0; i < 5; i++ {
		code, _ := ss.httpDo(ana, "GET", "/api/me", nil)
		got = append(got, code)
	}
	if want := "[200 200 200 429 429]"; fmt.Sprint(got) != want {
		t.Fatalf("statuses %v, want %s", got, want)
	}
	if code, _ := ss.httpDo(bob, "GET", "/api/me", nil); code != 200 {
		t.Fatalf("another token: %d", code)
	}
}

// TestRevocationAcrossNodes: two servers share a Redis store. A token
// revoked through one node closes its connections there at once, and on
// the other node at its next recheck; HTTP refuses it on both at once.
func TestRevocationAcrossNodes(t *testing.T) {
	url := redisForTest(t)
	prefix := fmt.Sprintf("drtest-security-%d:", time.Now().UnixNano())
	node := func() *secServer {
		st := redisStore(t, url, prefix)
		return startSecureOn(t, server.Config{TokenRecheck: 100 * time.Millisecond, Fanout: st}, st)
	}
	a, b := node(), node()
	chair, _ := a.issue("CHAIR", "Maria", dr.RoleFacilitator)
	ana, tok := a.issue("CAN", "Ana", dr.RoleDrafter)
	onA, w := a.connect(ana, "ana-a", "")
	if w["type"] != "welcome" {
		t.Fatal(w)
	}
	onB, w := b.connect(ana, "ana-b", "")
	if w["type"] != "welcome" {
		t.Fatalf("the token issued through node a is not known on node b: %v", w)
	}
	start := time.Now()
	if code, m := a.httpDo(chair, "DELETE", "/api/tokens/"+tok.ID, nil); code != 200 || m["closed"] != float64(1) {
		t.Fatalf("revoke on a: %d %v", code, m)
	}
	if code, _ := b.httpDo(ana, "GET", "/api/me", nil); code != 401 {
		t.Fatalf("node b still accepts the revoked token over HTTP: %d", code)
	}
	for name, c := range map[string]*secConn{"node a": onA, "node b": onB} {
		m, err := c.next()
		if err != nil || m["code"] != "unauthorized" {
			t.Fatalf("%s: got %v %v, want unauthorized", name, m, err)
		}
		if _, err := c.next(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("%s: not closed: %v", name, err)
		}
	}
	t.Logf("both nodes closed the connections within %v", time.Since(start))
}
