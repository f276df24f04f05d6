package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// who is an open-mode identity for HTTP requests.
type who struct{ delegation, name, role string }

var (
	chair    = who{"CHAIR", "Maria", "facilitator"}
	canada   = who{"CAN", "Ana", "drafter"}
	usa      = who{"USA", "Bob", "drafter"}
	observer = who{"OBS", "Olga", "reviewer"}
)

// call makes an HTTP request as w and decodes the JSON answer into out
// (when not nil); it returns the status code.
func (ls *liveServer) call(w who, method, path string, body, out any) int {
	ls.t.Helper()
	code, data, _ := ls.roundTrip(&w, method, path, body)
	ls.decode(method, path, data, out)
	return code
}

type altView struct {
	Text   string    `json:"text"`
	Span   [2]int    `json:"span"`
	By     dr.Author `json:"by"`
	Source string    `json:"source"`
}

type groupView struct {
	ID                string    `json:"id"`
	Span              [2]int    `json:"span"`
	Kind              string    `json:"kind"`
	Parent            *string   `json:"parent"`
	ParentAlternative int       `json:"parent_alternative"`
	Depth             int       `json:"depth"`
	Alternatives      []altView `json:"alternatives"`
}

type listView struct {
	Type        string                `json:"type"`
	Doc         string                `json:"doc"`
	Rev         int                   `json:"rev"`
	Groups      []groupView           `json:"groups"`
	Diagnostics []brackets.Diagnostic `json:"diagnostics"`
	Ref         json.RawMessage       `json:"ref"`
}

func (lv listView) group(id string) *groupView {
	for i := range lv.Groups {
		if lv.Groups[i].ID == id {
			return &lv.Groups[i]
		}
	}
	return nil
}

type errView struct {
	Error struct {
		Code    string     `json:"code"`
		Message string     `json:"message"`
		Group   *groupView `json:"group"`
	} `json:"error"`
}

type decisionView struct {
	Draft        string    `json:"draft"`
	Group        string    `json:"group"`
	Alternatives []string  `json:"alternatives"`
	Choice       string    `json:"choice"`
	Index        *int      `json:"index"`
	Result       string    `json:"result"`
	Note         string    `json:"note"`
	By           dr.Author `json:"by"`
	Rev          int       `json:"rev"`
	TS           int64     `json:"ts"`
}

type statsView struct {
	Rev         int  `json:"rev"`
	Open        int  `json:"open"`
	Diagnostics int  `json:"diagnostics"`
	Clean       bool `json:"clean"`
	Points      []struct {
		Rev  int   `json:"rev"`
		Open int   `json:"open"`
		TS   int64 `json:"ts"`
	} `json:"points"`
}

func (ls *liveServer) listing(id string, rev int) listView {
	ls.t.Helper()
	path := "/api/docs/" + id + "/brackets"
	if rev >= 0 {
		path += fmt.Sprintf("?rev=%d", rev)
	}
	var lv listView
	if code := ls.call(observer, "GET", path, nil, &lv); code != http.StatusOK {
		ls.t.Fatalf("GET %s: status %d", path, code)
	}
	return lv
}

func (ls *liveServer) decisions(id string) []decisionView {
	ls.t.Helper()
	var v struct{ Decisions []decisionView }
	if code := ls.call(observer, "GET", "/api/docs/"+id+"/decisions", nil, &v); code != http.StatusOK {
		ls.t.Fatalf("GET decisions: status %d", code)
	}
	return v.Decisions
}

func (ls *liveServer) proposals(id string) []dr.Proposal {
	ls.t.Helper()
	var v struct{ Proposals []dr.Proposal }
	if code := ls.call(observer, "GET", "/api/docs/"+id+"/proposals", nil, &v); code != http.StatusOK {
		ls.t.Fatalf("GET proposals: status %d", code)
	}
	return v.Proposals
}

func (ls *liveServer) stats(id string) statsView {
	ls.t.Helper()
	var v statsView
	if code := ls.call(observer, "GET", "/api/docs/"+id+"/brackets/stats", nil, &v); code != http.StatusOK {
		ls.t.Fatalf("GET stats: status %d", code)
	}
	return v
}

// wsAs opens a raw WebSocket as w.
func (ls *liveServer) wsAs(w who, client string) *rawConn {
	rc := ls.dialRaw()
	rc.send(fmt.Sprintf(`{"type":"hello","client":%q,"delegation":%q,"name":%q,"role":%q}`, client, w.delegation, w.name, w.role))
	rc.expect("welcome")
	return rc
}

// until reads messages until one of type typ (skipping broadcast ops).
func (rc *rawConn) until(typ string) map[string]any {
	rc.t.Helper()
	for {
		m, closed := rc.next()
		if closed {
			rc.t.Fatalf("connection closed while waiting for %s", typ)
		}
		if m["type"] == typ {
			return m
		}
		if m["type"] != "op" && m["type"] != "presence" {
			rc.t.Fatalf("got %v while waiting for %s", m, typ)
		}
	}
}

// edit submits op at rev on an open draft and waits for its ack.
func (rc *rawConn) edit(doc string, rev int, seq int, op ot.Op) int {
	rc.t.Helper()
	b, _ := json.Marshal(op)
	rc.send(fmt.Sprintf(`{"type":"op","doc":%q,"rev":%d,"seq":%d,"op":%s}`, doc, rev, seq, b))
	return int(rc.until("ack")["rev"].(float64))
}

// refListing computes the expected listing of a draft independently of the
// server: a fresh tracker over the whole op log.
func refListing(t *testing.T, initial string, ops []opView, rev int) brackets.Result {
	t.Helper()
	tr := brackets.NewTracker(initial)
	text := initial
	for _, op := range ops[:rev] {
		var err error
		if text, err = ot.Apply(text, op.Op); err != nil {
			t.Fatal(err)
		}
		if err := tr.Apply(op.Op, op.Rev); err != nil {
			t.Fatal(err)
		}
	}
	res, err := brackets.List(text, tr)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sameListing compares a listing with the reference: ids, spans, kinds,
// parents, alternatives, diagnostics.
func sameListing(t *testing.T, what string, got listView, want brackets.Result) {
	t.Helper()
	if len(got.Groups) != len(want.Groups) {
		t.Fatalf("%s: %d groups, want %d", what, len(got.Groups), len(want.Groups))
	}
	for i, g := range got.Groups {
		w := want.Groups[i]
		parent := ""
		if w.Parent >= 0 {
			parent = want.Groups[w.Parent].ID
		}
		gotParent := ""
		if g.Parent != nil {
			gotParent = *g.Parent
		}
		if g.ID != w.ID || g.Span != [2]int{w.Start, w.End} || g.Kind != string(w.Kind) || gotParent != parent ||
			g.ParentAlternative != w.ParentAlternative || g.Depth != w.Depth || len(g.Alternatives) != len(w.Alternatives) {
			t.Fatalf("%s: group %d is %+v, want %+v (parent %q)", what, i, g, w, parent)
		}
		for k, a := range g.Alternatives {
			wa := w.Alternatives[k]
			if a.Text != want.Outline(i, k) || a.Span != [2]int{wa.Start, wa.End} {
				t.Fatalf("%s: group %s alternative %d is %+v, want %+v", what, g.ID, k, a, wa)
			}
		}
	}
	wd := want.Diagnostics
	if wd == nil {
		wd = []brackets.Diagnostic{}
	}
	if !reflect.DeepEqual(got.Diagnostics, wd) {
		t.Fatalf("%s: diagnostics %v, want %v", what, got.Diagnostics, wd)
	}
}

func TestBracketListingHTTPAndWebSocket(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const initial = "Les États [doivent/peuvent] adopter [toutes] les mesures [en [bonne/mauvaise] foi] or [x]\n[y], \\[sic\\] 😀 [👍/👎] or [🤝] [unclosed"
	ls.create("art-1", initial)
	want := brackets.Parse(initial)
	if len(want.Groups) < 6 || len(want.Diagnostics) != 1 {
		t.Fatalf("test text parses to %d groups, %d diagnostics", len(want.Groups), len(want.Diagnostics))
	}
	for i := range want.Groups {
		want.Groups[i].ID = fmt.Sprintf("b0.%d", want.Groups[i].Start)
	}
	lv := ls.listing("art-1", -1)
	if lv.Doc != "art-1" || lv.Rev != 0 {
		t.Fatalf("listing of %s at %d", lv.Doc, lv.Rev)
	}
	sameListing(t, "HTTP", lv, want)
	creator := dr.Author{Delegation: server.OpenDelegation, Name: server.OpenName}
	for _, g := range lv.Groups {
		for _, a := range g.Alternatives {
			if a.By != creator || a.Source != server.SourceBracket {
				t.Fatalf("group %s alternative %q attributed to %+v (%s), want the creator %+v", g.ID, a.Text, a.By, a.Source, creator)
			}
		}
	}

	// The same over WebSocket, with the ref copied, without opening the draft.
	rc := ls.wsAs(observer, "obs-1")
	rc.send(`{"type":"brackets","doc":"art-1","ref":"r1"}`)
	var ws listView
	m := rc.expect("brackets")
	b, _ := json.Marshal(m)
	json.Unmarshal(b, &ws)
	if string(ws.Ref) != `"r1"` || ws.Doc != "art-1" || ws.Rev != 0 {
		t.Fatalf("WebSocket listing header %+v", ws)
	}
	sameListing(t, "WebSocket", ws, want)

	// Typing before and inside groups keeps their ids and moves them.
	ed := ls.wsAs(canada, "can-1")
	ed.send(`{"type":"open","doc":"art-1"}`)
	ed.expect("snapshot")
	ed.edit("art-1", 0, 1, ot.Op{ot.Insert("Art. 1 ")})
	first := want.Groups[0]
	ed.edit("art-1", 1, 2, ot.Op{ot.Skip(first.Alternatives[0].End + 7), ot.Insert("ent")})
	after := ls.listing("art-1", -1)
	if after.Rev != 2 || len(after.Groups) != len(want.Groups) {
		t.Fatalf("after typing: rev %d, %d groups", after.Rev, len(after.Groups))
	}
	for i, g := range after.Groups {
		w := want.Groups[i]
		start, end := w.Start+10, w.End+10
		if i == 0 {
			start = w.Start + 7
		}
		if g.ID != w.ID || g.Span != [2]int{start, end} {
			t.Fatalf("after typing, group %d is %s %v, want %s [%d %d]", i, g.ID, g.Span, w.ID, start, end)
		}
	}
	if got := after.Groups[0].Alternatives[0]; got.Text != "doiventent" || got.By != creator {
		t.Fatalf("edited alternative %+v", got)
	}
	// An older revision over WebSocket.
	rc.send(`{"type":"brackets","doc":"art-1","rev":0,"ref":2}`)
	m = rc.expect("brackets")
	b, _ = json.Marshal(m)
	ws = listView{}
	json.Unmarshal(b, &ws)
	if ws.Rev != 0 || string(ws.Ref) != "2" {
		t.Fatalf("rev 0 over WebSocket: rev %d ref %s", ws.Rev, ws.Ref)
	}
	sameListing(t, "WebSocket rev 0", ws, want)

	// Errors: a revision ahead, a draft that does not exist.
	var ev errView
	if code := ls.call(observer, "GET", "/api/docs/art-1/brackets?rev=3", nil, &ev); code != http.StatusBadRequest || ev.Error.Code != dr.CodeRevAhead {
		t.Fatalf("rev ahead: %d %+v", code, ev)
	}
	if code := ls.call(observer, "GET", "/api/docs/nope/brackets", nil, &ev); code != http.StatusNotFound || ev.Error.Code != dr.CodeNotFound {
		t.Fatalf("unknown draft: %d %+v", code, ev)
	}
	rc.send(`{"type":"brackets","doc":"nope","ref":3}`)
	if m := rc.expect("error"); m["code"] != dr.CodeNotFound || m["ref"] != 3.0 {
		t.Fatalf("unknown draft over WebSocket: %v", m)
	}
}

// TestBracketListingMatchesReplay types random bracket-heavy edits and
// checks the listing at every revision, and the open-groups curve, against
// a replay of the whole op log, before and after a restart (snapshots every
// 5 revisions carry the bracket section).
func TestBracketListingMatchesReplay(t *testing.T) {
	t.Parallel()
	store := storage.NewMemory()
	cfg := server.Config{SnapshotEvery: 5, RecentOps: 8}
	ls := startServer(t, store, cfg)
	const initial = "A [b/c] d [e] or [f] g [h [i/j] k] \\[l\\] m"
	ls.create("art-2", initial)
	ed := ls.wsAs(canada, "can-2")
	ed.send(`{"type":"open","doc":"art-2"}`)
	ed.expect("snapshot")
	pieces := []string{"[", "]", "/", " or ", " ", "x", "\\", "[y/z]", "or", "\n", "ab"}
	rng := rand.New(rand.NewPCG(6, 6))
	text := initial
	const revs = 60
	for rev := 0; rev < revs; rev++ {
		n := len([]rune(text))
		pos := rng.IntN(n + 1)
		var op ot.Op
		if n > 0 && rng.IntN(3) == 0 {
			pos = min(pos, n-1)
			op = ot.Op{ot.Skip(pos), ot.Delete(1 + rng.IntN(min(3, n-pos)))}
		} else {
			op = ot.Op{ot.Skip(pos), ot.Insert(pieces[rng.IntN(len(pieces))])}
		}
		op = ot.Normalize(op)
		var err error
		if text, err = ot.Apply(text, op); err != nil {
			t.Fatal(err)
		}
		ed.edit("art-2", rev, rev+1, op)
	}
	ops := ls.ops("art-2")
	check := func(ls *liveServer, when string) {
		t.Helper()
		wantPoints := []int{}
		last := -1
		for rev := 0; rev <= revs; rev++ {
			want := refListing(t, initial, ops, rev)
			sameListing(t, fmt.Sprintf("%s, rev %d", when, rev), ls.listing("art-2", rev), want)
			if n := len(want.Groups); n != last {
				wantPoints = append(wantPoints, rev, n)
				last = n
			}
		}
		st := ls.stats("art-2")
		gotPoints := []int{}
		for _, p := range st.Points {
			gotPoints = append(gotPoints, p.Rev, p.Open)
			if p.Rev > 0 && p.TS != ops[p.Rev-1].TS {
				t.Errorf("%s: point at rev %d has ts %d, op ts %d", when, p.Rev, p.TS, ops[p.Rev-1].TS)
			}
		}
		if !reflect.DeepEqual(gotPoints, wantPoints) {
			t.Fatalf("%s: stats points (rev, open) %v, want %v", when, gotPoints, wantPoints)
		}
		final := refListing(t, initial, ops, revs)
		if st.Rev != revs || st.Open != len(final.Groups) || st.Diagnostics != len(final.Diagnostics) ||
			st.Clean != (len(final.Groups) == 0 && len(final.Diagnostics) == 0) {
			t.Fatalf("%s: stats %+v, want %d open, %d diagnostics", when, st, len(final.Groups), len(final.Diagnostics))
		}
	}
	check(ls, "live")
	ls2 := startServer(t, store, cfg)
	check(ls2, "after restart")
}

func TestBracketProposeAndResolve(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const initial = "The Parties [shall/should] take [all] effective measures."
	ls.create("art-3", initial)
	group := "b0.12" // [shall/should]

	// A drafter proposes on a group over HTTP.
	var p struct {
		Doc         string
		Rev         int
		Group       string
		Alternative int
	}
	if code := ls.call(canada, "POST", "/api/docs/art-3/brackets/propose", map[string]any{"rev": 0, "group": group, "text": "must"}, &p); code != http.StatusOK {
		t.Fatalf("propose: status %d", code)
	}
	if p.Rev != 1 || p.Group != group || p.Alternative != 2 || p.Doc != "art-3" {
		t.Fatalf("proposed %+v", p)
	}
	if got := ls.get("art-3").Text; got != "The Parties [shall/should/must] take [all] effective measures." {
		t.Fatalf("after proposal: %q", got)
	}

	// Another drafter proposes on a span over WebSocket, at revision 0 (the
	// span moved since: it is transformed).
	rc := ls.wsAs(usa, "usa-1")
	start := strings.Index(initial, "measures")
	rc.send(fmt.Sprintf(`{"type":"propose","doc":"art-3","rev":0,"span":[%d,%d],"text":"actions","ref":"p2"}`, start, start+len("measures")))
	m := rc.expect("proposed")
	if m["group"] != "b2.0" || m["alternative"] != 1.0 || m["rev"] != 2.0 || m["ref"] != "p2" || m["doc"] != "art-3" {
		t.Fatalf("proposed over WebSocket: %v", m)
	}
	if got := ls.get("art-3").Text; got != "The Parties [shall/should/must] take [all] effective [measures/actions]." {
		t.Fatalf("after span proposal: %q", got)
	}
	// An empty span with text proposes optional new text.
	rc.send(`{"type":"propose","doc":"art-3","rev":2,"span":[4,4],"text":"two ","ref":"p3"}`)
	if m := rc.expect("proposed"); m["group"] != "b3.0" || m["alternative"] != 0.0 {
		t.Fatalf("optional text proposal: %v", m)
	}
	if got := ls.get("art-3").Text; got != "The [two ]Parties [shall/should/must] take [all] effective [measures/actions]." {
		t.Fatalf("after optional proposal: %q", got)
	}

	lv := ls.listing("art-3", -1)
	g := lv.group(group)
	if g == nil || len(g.Alternatives) != 3 {
		t.Fatalf("group %s after proposal: %+v", group, g)
	}
	creator := dr.Author{Delegation: server.OpenDelegation, Name: server.OpenName}
	if a := g.Alternatives[2]; a.Text != "must" || a.By != (dr.Author{Delegation: "CAN", Name: "Ana"}) || a.Source != server.SourceProposal {
		t.Fatalf("proposed alternative %+v", a)
	}
	if a := g.Alternatives[0]; a.By != creator || a.Source != server.SourceBracket {
		t.Fatalf("original alternative %+v", a)
	}
	if a := lv.group("b2.0").Alternatives[1]; a.Text != "actions" || a.By.Delegation != "USA" || a.Source != server.SourceProposal {
		t.Fatalf("span proposal alternative %+v", a)
	}
	props := ls.proposals("art-3")
	wantProps := []dr.Proposal{
		{Draft: "art-3", Group: group, Alternative: 2, Text: "must", By: dr.Author{Delegation: "CAN", Name: "Ana"}, Rev: 1},
		{Draft: "art-3", Group: "b2.0", Alternative: 1, Text: "actions", By: dr.Author{Delegation: "USA", Name: "Bob"}, Rev: 2},
		{Draft: "art-3", Group: "b3.0", Alternative: 0, Text: "two ", By: dr.Author{Delegation: "USA", Name: "Bob"}, Rev: 3},
	}
	for i := range props {
		if props[i].TS == 0 {
			t.Errorf("proposal %d has no ts", i)
		}
		props[i].TS = 0
	}
	if !reflect.DeepEqual(props, wantProps) {
		t.Fatalf("proposals %+v, want %+v", props, wantProps)
	}

	// The facilitator resolves each way.
	resolve := func(group string, body map[string]any) decisionView {
		t.Helper()
		var out struct {
			Doc      string
			Rev      int
			Decision decisionView
		}
		if code := ls.call(chair, "POST", "/api/docs/art-3/brackets/"+group+"/resolve", body, &out); code != http.StatusOK {
			t.Fatalf("resolve %s %v: status %d", group, body, code)
		}
		if out.Decision.Rev != out.Rev || out.Decision.Draft != "art-3" || out.Decision.Group != group || out.Decision.TS == 0 ||
			out.Decision.By != (dr.Author{Delegation: "CHAIR", Name: "Maria"}) {
			t.Fatalf("resolved %+v", out)
		}
		return out.Decision
	}
	d1 := resolve(group, map[string]any{"rev": 3, "choice": "choose", "index": 2, "note": "as agreed in the corridor"})
	if d1.Result != "must" || *d1.Index != 2 || !reflect.DeepEqual(d1.Alternatives, []string{"shall", "should", "must"}) || d1.Note != "as agreed in the corridor" {
		t.Fatalf("choose: %+v", d1)
	}
	d2 := resolve("b0.32", map[string]any{"rev": 4, "choice": "drop"})
	if d2.Result != "" || d2.Index != nil || !reflect.DeepEqual(d2.Alternatives, []string{"all"}) {
		t.Fatalf("drop: %+v", d2)
	}
	// Over WebSocket, with the ref.
	fc := ls.wsAs(chair, "chair-1")
	fc.send(`{"type":"resolve","doc":"art-3","rev":5,"group":"b2.0","choice":"compromise","text":"steps [sic]","ref":9}`)
	m = fc.expect("resolved")
	var d3 decisionView
	b, _ := json.Marshal(m["decision"])
	json.Unmarshal(b, &d3)
	if m["ref"] != 9.0 || m["rev"] != 6.0 || d3.Result != `steps \[sic\]` || d3.Choice != "compromise" || d3.Rev != 6 {
		t.Fatalf("compromise: %v", m)
	}
	d4 := resolve("b3.0", map[string]any{"rev": 6, "choice": "choose", "index": 0})
	if d4.Result != "two " || *d4.Index != 0 {
		t.Fatalf("choose 0: %+v", d4)
	}
	// The dropped group leaves both spaces around it: a resolution never
	// touches text outside the group (docs/BRACKETS.md).
	final := ls.get("art-3")
	if final.Text != `The two Parties must take  effective steps \[sic\].` || final.Rev != 7 {
		t.Fatalf("final text %q at %d", final.Text, final.Rev)
	}
	ds := ls.decisions("art-3")
	if len(ds) != 4 || ds[0].Rev != 4 || ds[1].Rev != 5 || ds[2].Rev != 6 || ds[3].Rev != 7 || ds[2].Result != d3.Result {
		t.Fatalf("decisions %+v", ds)
	}
	// Server-built ops carry their kind and group in the log.
	var log struct {
		Ops []struct {
			Rev         int
			Client      string
			Seq         uint64
			By          dr.Author
			Kind, Group string
		}
	}
	ls.call(observer, "GET", "/api/docs/art-3/ops", nil, &log)
	var kinds []string
	for _, op := range log.Ops {
		kinds = append(kinds, op.Kind+" "+op.Group+" "+op.By.Delegation)
		if op.Client != server.SystemClient || op.Seq != uint64(op.Rev) {
			t.Errorf("op %d: client %q seq %d", op.Rev, op.Client, op.Seq)
		}
	}
	wantKinds := []string{"propose b0.12 CAN", "propose b2.0 USA", "propose b3.0 USA", "resolve b0.12 CHAIR", "resolve b0.32 CHAIR", "resolve b2.0 CHAIR", "resolve b3.0 CHAIR"}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Fatalf("op kinds %v, want %v", kinds, wantKinds)
	}
	st := ls.stats("art-3")
	var open []int
	for _, p := range st.Points {
		open = append(open, p.Rev, p.Open)
	}
	if !st.Clean || st.Open != 0 || !reflect.DeepEqual(open, []int{0, 2, 2, 3, 3, 4, 4, 3, 5, 2, 6, 1, 7, 0}) {
		t.Fatalf("stats %+v (rev, open: %v)", st, open)
	}
	if lv := ls.listing("art-3", -1); len(lv.Groups) != 0 {
		t.Fatalf("groups left: %+v", lv.Groups)
	}
	// Each resolution is in the audit log.
	var audit struct{ Entries []dr.AuditEntry }
	if code := ls.call(chair, "GET", "/api/audit", nil, &audit); code != http.StatusOK {
		t.Fatalf("GET audit: %d", code)
	}
	var resolved []string
	for _, e := range audit.Entries {
		if e.Action == server.ActionBracketResolve && e.Draft == "art-3" && e.Actor.Delegation == "CHAIR" {
			resolved = append(resolved, e.Detail)
		}
	}
	wantAudit := []string{"b0.12 choose 2 at rev 4", "b0.32 drop at rev 5", "b2.0 compromise at rev 6", "b3.0 choose 0 at rev 7"}
	if !reflect.DeepEqual(resolved, wantAudit) {
		t.Fatalf("audit entries %q, want %q", resolved, wantAudit)
	}
}

// TestBracketRefusals: every refused request changes nothing.
func TestBracketRefusals(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const initial = "The Parties [shall/should] take [all] measures [now/later]."
	ls.create("art-4", initial)
	resolvePath := "/api/docs/art-4/brackets/b0.12/resolve"
	choose := map[string]any{"rev": 0, "choice": "choose", "index": 0}
	cases := []struct {
		name   string
		as     who
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{"reviewer proposes", observer, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 0, "group": "b0.12", "text": "may"}, 403, dr.CodeForbidden},
		{"reviewer proposes a span", observer, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 0, "span": []int{0, 3}, "text": "A"}, 403, dr.CodeForbidden},
		{"drafter resolves", canada, resolvePath, choose, 403, dr.CodeForbidden},
		{"reviewer resolves", observer, resolvePath, choose, 403, dr.CodeForbidden},
		{"unknown group", chair, "/api/docs/art-4/brackets/b9.9/resolve", choose, 404, dr.CodeNotFound},
		{"malformed group id", chair, "/api/docs/art-4/brackets/x12/resolve", choose, 400, dr.CodeBadRequest},
		{"index out of range", chair, resolvePath, map[string]any{"rev": 0, "choice": "choose", "index": 2}, 400, dr.CodeBadRequest},
		{"negative index", chair, resolvePath, map[string]any{"rev": 0, "choice": "choose", "index": -1}, 400, dr.CodeBadRequest},
		{"choose without index", chair, resolvePath, map[string]any{"rev": 0, "choice": "choose"}, 400, dr.CodeBadRequest},
		{"drop alternatives", chair, resolvePath, map[string]any{"rev": 0, "choice": "drop"}, 400, dr.CodeBadRequest},
		{"unknown choice", chair, resolvePath, map[string]any{"rev": 0, "choice": "pick", "index": 0}, 400, dr.CodeBadRequest},
		{"compromise without text", chair, resolvePath, map[string]any{"rev": 0, "choice": "compromise"}, 400, dr.CodeBadRequest},
		{"resolve without rev", chair, resolvePath, map[string]any{"choice": "choose", "index": 0}, 400, dr.CodeBadRequest},
		{"resolve rev ahead", chair, resolvePath, map[string]any{"rev": 5, "choice": "choose", "index": 0}, 400, dr.CodeRevAhead},
		{"note too long", chair, resolvePath, map[string]any{"rev": 0, "choice": "drop", "note": strings.Repeat("n", 2001)}, 400, dr.CodeBadRequest},
		{"unknown draft", chair, "/api/docs/nope/brackets/b0.12/resolve", choose, 404, dr.CodeNotFound},
		{"propose unknown group", canada, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 0, "group": "b0.1", "text": "x"}, 404, dr.CodeNotFound},
		{"propose without text", canada, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 0, "group": "b0.12"}, 400, dr.CodeBadRequest},
		{"propose group and span", canada, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 0, "group": "b0.12", "span": []int{0, 3}, "text": "x"}, 400, dr.CodeBadRequest},
		{"propose span without rev", canada, "/api/docs/art-4/brackets/propose", map[string]any{"span": []int{0, 3}, "text": "x"}, 400, dr.CodeBadRequest},
		{"propose span crossing a group", canada, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 0, "span": []int{4, 15}, "text": "x"}, 400, dr.CodeBadRequest},
		{"propose span past the end", canada, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 0, "span": []int{50, 90}, "text": "x"}, 400, dr.CodeBadRequest},
		{"propose span rev ahead", canada, "/api/docs/art-4/brackets/propose", map[string]any{"rev": 1, "span": []int{0, 3}, "text": "x"}, 400, dr.CodeRevAhead},
		{"propose unknown draft", canada, "/api/docs/nope/brackets/propose", map[string]any{"rev": 0, "group": "b0.12", "text": "x"}, 404, dr.CodeNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ev errView
			if code := ls.call(c.as, "POST", c.path, c.body, &ev); code != c.status || ev.Error.Code != c.code || ev.Error.Message == "" {
				t.Fatalf("status %d %+v, want %d %s", code, ev.Error, c.status, c.code)
			}
		})
	}
	// The same refusals over WebSocket keep the connection usable.
	rc := ls.wsAs(observer, "obs-4")
	rc.send(`{"type":"propose","doc":"art-4","rev":0,"group":"b0.12","text":"may","ref":1}`)
	if m := rc.expect("error"); m["code"] != dr.CodeForbidden || m["ref"] != 1.0 || m["doc"] != "art-4" {
		t.Fatalf("reviewer propose over WebSocket: %v", m)
	}
	rc.send(`{"type":"resolve","doc":"art-4","rev":0,"group":"b0.12","choice":"choose","index":0,"ref":2}`)
	if m := rc.expect("error"); m["code"] != dr.CodeForbidden || m["ref"] != 2.0 {
		t.Fatalf("reviewer resolve over WebSocket: %v", m)
	}
	dc := ls.wsAs(canada, "can-4")
	dc.send(`{"type":"resolve","doc":"art-4","rev":0,"group":"b0.12","choice":"choose","index":0,"ref":3}`)
	if m := dc.expect("error"); m["code"] != dr.CodeForbidden || m["ref"] != 3.0 {
		t.Fatalf("drafter resolve over WebSocket: %v", m)
	}
	dc.send(`{"type":"propose","doc":"art-4","rev":0,"group":"b0.12","text":7}`)
	if m := dc.expect("error"); m["code"] != dr.CodeBadRequest {
		t.Fatalf("text of the wrong type: %v", m)
	}
	dc.send(`{"type":"brackets","doc":"art-4"}`)
	dc.expect("brackets")

	d := ls.get("art-4")
	if d.Text != initial || d.Rev != 0 {
		t.Fatalf("refusals changed the draft: %q at %d", d.Text, d.Rev)
	}
	if p, ds := ls.proposals("art-4"), ls.decisions("art-4"); len(p) != 0 || len(ds) != 0 {
		t.Fatalf("refusals left records: %v %v", p, ds)
	}
}

// TestBracketStaleResolve: a resolution made on a group that changed since
// is a conflict carrying the group as it stands; edits elsewhere are not.
func TestBracketStaleResolve(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const initial = "The Parties [shall/should] take [all] measures [now/later]."
	ls.create("art-5", initial)
	ed := ls.wsAs(canada, "can-5")
	ed.send(`{"type":"open","doc":"art-5"}`)
	ed.expect("snapshot")
	// Inside [shall/should]: "should" → "should not".
	ed.edit("art-5", 0, 1, ot.Op{ot.Skip(25), ot.Insert(" not")})
	// Outside every group.
	ed.edit("art-5", 1, 2, ot.Op{ot.Insert("Now: ")})

	var ev errView
	code := ls.call(chair, "POST", "/api/docs/art-5/brackets/b0.12/resolve", map[string]any{"rev": 0, "choice": "choose", "index": 1}, &ev)
	if code != http.StatusConflict || ev.Error.Code != dr.CodeConflict || ev.Error.Group == nil ||
		ev.Error.Group.ID != "b0.12" || ev.Error.Group.Alternatives[1].Text != "should not" || ev.Error.Group.Span != [2]int{17, 35} {
		t.Fatalf("stale resolve: %d %+v %+v", code, ev.Error, ev.Error.Group)
	}
	fc := ls.wsAs(chair, "chair-5")
	fc.send(`{"type":"resolve","doc":"art-5","rev":0,"group":"b0.12","choice":"choose","index":1,"ref":"s"}`)
	m := fc.expect("error")
	g, _ := m["group"].(map[string]any)
	if m["code"] != dr.CodeConflict || m["ref"] != "s" || g == nil || g["id"] != "b0.12" {
		t.Fatalf("stale resolve over WebSocket: %v", m)
	}
	if d := ls.get("art-5"); d.Rev != 2 || len(ls.decisions("art-5")) != 0 {
		t.Fatalf("a conflict changed the draft: rev %d", d.Rev)
	}
	// [all] and [now/later] only moved: resolving them at rev 0 works.
	var out struct{ Rev int }
	if code := ls.call(chair, "POST", "/api/docs/art-5/brackets/b0.32/resolve", map[string]any{"rev": 0, "choice": "drop"}, &out); code != http.StatusOK || out.Rev != 3 {
		t.Fatalf("resolve a group edited around: %d %+v", code, out)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-5/brackets/b0.47/resolve", map[string]any{"rev": 0, "choice": "choose", "index": 1}, &out); code != http.StatusOK || out.Rev != 4 {
		t.Fatalf("resolve a group at an old rev: %d %+v", code, out)
	}
	// The fresh view of the changed group resolves.
	if code := ls.call(chair, "POST", "/api/docs/art-5/brackets/b0.12/resolve", map[string]any{"rev": 4, "choice": "choose", "index": 1}, &out); code != http.StatusOK {
		t.Fatalf("resolve after the conflict: %d", code)
	}
	if got := ls.get("art-5").Text; got != "Now: The Parties should not take  measures later." {
		t.Fatalf("final text %q", got)
	}
	// Resolved: gone.
	ev = errView{}
	if code := ls.call(chair, "POST", "/api/docs/art-5/brackets/b0.12/resolve", map[string]any{"rev": 4, "choice": "choose", "index": 0}, &ev); code != http.StatusNotFound || ev.Error.Code != dr.CodeNotFound {
		t.Fatalf("resolve twice: %d %+v", code, ev)
	}
}

// TestBracketRecordsDurable: proposals, decisions, ids and the curve survive
// a restart on the Bolt store.
func TestBracketRecordsDurable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	cfg := server.Config{SnapshotEvery: 2}
	open := func() *storage.Bolt {
		b, err := storage.OpenBolt(path, storage.BoltOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	store := open()
	srv := server.New(func() server.Config { c := cfg; c.Open = true; return c }(), store, nil)
	hs := httptest.NewServer(srv.Handler())
	ls := &liveServer{t: t, srv: srv, http: hs, store: store}
	ls.create("art-6", "The States [shall/may] act, [now] and [then].")
	if code := ls.call(canada, "POST", "/api/docs/art-6/brackets/propose", map[string]any{"rev": 0, "group": "b0.11", "text": "must"}, nil); code != 200 {
		t.Fatalf("propose: %d", code)
	}
	if code := ls.call(usa, "POST", "/api/docs/art-6/brackets/propose", map[string]any{"rev": 1, "span": []int{0, 3}, "text": "Our"}, nil); code != 200 {
		t.Fatalf("propose span: %d", code)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-6/brackets/b0.28/resolve", map[string]any{"rev": 2, "choice": "drop", "note": "n"}, nil); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	before := struct {
		list  listView
		props []dr.Proposal
		ds    []decisionView
		stats statsView
	}{ls.listing("art-6", -1), ls.proposals("art-6"), ls.decisions("art-6"), ls.stats("art-6")}
	if len(before.props) != 2 || len(before.ds) != 1 || len(before.list.Groups) != 3 {
		t.Fatalf("before the restart: %+v", before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Close()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	store2 := open()
	t.Cleanup(func() { store2.Close() })
	ls2 := startServer(t, store2, cfg)
	after := struct {
		list  listView
		props []dr.Proposal
		ds    []decisionView
		stats statsView
	}{ls2.listing("art-6", -1), ls2.proposals("art-6"), ls2.decisions("art-6"), ls2.stats("art-6")}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("after the restart:\n%+v\nbefore:\n%+v", after, before)
	}
	if g := after.list.group("b1.0"); g != nil {
		t.Fatalf("unexpected group b1.0: %+v", g)
	}
	if g := after.list.group("b2.0"); g == nil || g.Alternatives[1].By.Delegation != "USA" {
		t.Fatalf("span proposal after the restart: %+v", g)
	}
}

// TestBracketsConcurrentEndToEnd: five drafters type inside and around a
// group and propose alternatives while a facilitator resolves it; everyone
// converges, the decision matches the committed text, and a stale resolve
// is a conflict.
func TestBracketsConcurrentEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: a few seconds")
	}
	ls := startServer(t, storage.NewMemory(), server.Config{SnapshotEvery: 16, RecentOps: 32})
	const initial = "Article 5. The Parties [shall/should] adopt [effective] measures to [protect/preserve] the [marine] environment."
	ls.create("art-7", initial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	dial := func(w who, id string) (*client.Client, *client.Doc) {
		return dialOpen(t, ctx, ls.wsURL(), client.Options{ClientID: id, Delegation: w.delegation, Name: w.name, Role: w.role}, "art-7")
	}
	_, chairDoc := dial(chair, "chair")
	// forcer types only when the test says, to make a resolve stale.
	_, forcer := dial(who{"D9", "Forcer", "drafter"}, "forcer")
	const drafters = 5
	docs := []*client.Doc{chairDoc, forcer}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var proposed [drafters]int
	for i := range drafters {
		w := who{fmt.Sprintf("D%d", i), "Drafter", "drafter"}
		_, doc := dial(w, fmt.Sprintf("drafter-%d", i))
		docs = append(docs, doc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				text := doc.Text()
				res := brackets.Parse(text)
				if len(res.Groups) == 0 {
					return
				}
				g := res.Groups[0]
				if rng.IntN(8) == 0 {
					// Propose an alternative to the group as listed.
					lv := listView{}
					if ls.call(w, "GET", "/api/docs/art-7/brackets", nil, &lv) == 200 && len(lv.Groups) > 0 {
						var ev errView
						code := ls.call(w, "POST", "/api/docs/art-7/brackets/propose",
							map[string]any{"rev": lv.Rev, "group": lv.Groups[0].ID, "text": fmt.Sprintf("may%d", i)}, &ev)
						switch {
						case code == 200:
							proposed[i]++
						case code == 404 && ev.Error.Code == dr.CodeNotFound:
						default:
							t.Errorf("drafter %d: propose: %d %+v", i, code, ev)
						}
					}
					continue
				}
				// Type letters inside one of the group's alternatives, or
				// just around the group.
				var pos int
				switch rng.IntN(3) {
				case 0:
					a := g.Alternatives[rng.IntN(len(g.Alternatives))]
					pos = a.Start + rng.IntN(a.End-a.Start+1)
				case 1:
					pos = max(0, g.Start-rng.IntN(3))
				default:
					pos = min(len([]rune(text)), g.End+rng.IntN(3))
				}
				if err := doc.Insert(pos, string(rune('a'+rng.IntN(26)))); err != nil {
					t.Errorf("drafter %d: %v", i, err)
					return
				}
				time.Sleep(time.Duration(1+rng.IntN(4)) * time.Millisecond) // the typing pace: the workload, not a wait
			}
		}()
	}

	// The facilitator resolves the first group, retrying on conflicts,
	// while the drafters type (once they have begun).
	waitUntil(t, "the drafters to type", func() bool { return ls.get("art-7").Rev >= 10 })
	var decision decisionView
	conflicts := 0
	target := ""
	for attempt := 0; ; attempt++ {
		if attempt > 500 {
			t.Fatalf("no resolution after %d attempts (%d conflicts)", attempt, conflicts)
		}
		lv := ls.listing("art-7", -1)
		if target == "" {
			target = lv.Groups[0].ID
		}
		var out struct {
			Rev      int
			Decision decisionView
			errView
		}
		if attempt == 0 {
			// The first attempt is stale, for sure: a drafter types into
			// the group (strictly inside its first alternative, which
			// only grows) after the facilitator looked at it.
			res := brackets.Parse(forcer.Text())
			if len(res.Groups) == 0 {
				t.Fatalf("no group in %q", forcer.Text())
			}
			if err := forcer.Insert(res.Groups[0].Alternatives[0].Start+1, "q"); err != nil {
				t.Fatal(err)
			}
			if err := forcer.WaitSynced(ctx); err != nil {
				t.Fatal(err)
			}
		}
		body := map[string]any{"rev": lv.Rev, "choice": "choose", "index": 0, "note": "chair's text"}
		code := ls.call(chair, "POST", "/api/docs/art-7/brackets/"+target+"/resolve", body, &out)
		if code == http.StatusOK {
			decision = out.Decision
			break
		}
		if code != http.StatusConflict || out.Error.Code != dr.CodeConflict || out.Error.Group.ID != target {
			t.Fatalf("resolve: status %d %+v", code, out.Error)
		}
		conflicts++
	}
	// The drafters go on typing around the decision for a while.
	waitUntil(t, "typing after the resolution", func() bool { return ls.get("art-7").Rev >= decision.Rev+10 })
	close(stop)
	wg.Wait()
	settle := func() int {
		t.Helper()
		for i, d := range docs {
			if err := d.WaitSynced(ctx); err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
		}
		rev := ls.get("art-7").Rev
		for i, d := range docs {
			if err := d.WaitRev(ctx, rev); err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
		}
		return rev
	}
	settle()

	// A stale resolve: the facilitator looks at the next group, a drafter
	// types inside it, the facilitator resolves what they saw.
	lv := ls.listing("art-7", -1)
	next := lv.Groups[0]
	if next.ID == target {
		t.Fatalf("group %s still listed after its resolution", target)
	}
	if err := docs[1].Insert(next.Alternatives[0].Span[0]+1, "zz"); err != nil {
		t.Fatal(err)
	}
	if err := docs[1].WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	var ev errView
	code := ls.call(chair, "POST", "/api/docs/art-7/brackets/"+next.ID+"/resolve", map[string]any{"rev": lv.Rev, "choice": "choose", "index": 0}, &ev)
	if code != http.StatusConflict || ev.Error.Group == nil || ev.Error.Group.ID != next.ID || !strings.Contains(ev.Error.Group.Alternatives[0].Text, "zz") {
		t.Fatalf("stale resolve: %d %+v", code, ev.Error)
	}

	// Everyone converges to the server's text.
	settle()
	final := ls.get("art-7")
	for i, d := range docs {
		if d.Text() != final.Text {
			t.Fatalf("client %d: %q, server %q", i, d.Text(), final.Text)
		}
	}
	ops := ls.ops("art-7")
	checkLog(t, ops, initial, final.Text, final.Rev)

	// The decision matches the committed text: the group as it stood
	// before the resolving op, and the op's effect.
	ds := ls.decisions("art-7")
	if len(ds) != 1 || !reflect.DeepEqual(ds[0], decision) {
		t.Fatalf("decisions %+v, want [%+v]", ds, decision)
	}
	beforeList := ls.listing("art-7", decision.Rev-1)
	g := beforeList.group(target)
	if g == nil {
		t.Fatalf("group %s not listed at rev %d", target, decision.Rev-1)
	}
	var alts []string
	for _, a := range g.Alternatives {
		alts = append(alts, a.Text)
	}
	if !reflect.DeepEqual(alts, decision.Alternatives) || decision.Result != alts[0] || *decision.Index != 0 {
		t.Fatalf("decision %+v, group at rev %d: %v", decision, decision.Rev-1, alts)
	}
	var before, after struct{ Text string }
	ls.call(observer, "GET", fmt.Sprintf("/api/docs/art-7/text?rev=%d", decision.Rev-1), nil, &before)
	ls.call(observer, "GET", fmt.Sprintf("/api/docs/art-7/text?rev=%d", decision.Rev), nil, &after)
	rb := []rune(before.Text)
	if want := string(rb[:g.Span[0]]) + decision.Result + string(rb[g.Span[1]:]); after.Text != want {
		t.Fatalf("text after the resolution %q, want %q", after.Text, want)
	}
	totalProposed := 0
	for _, n := range proposed {
		totalProposed += n
	}
	if conflicts == 0 {
		t.Fatalf("the forced stale resolve was not a conflict")
	}
	if totalProposed != len(ls.proposals("art-7")) {
		t.Fatalf("%d proposals accepted, %d recorded", totalProposed, len(ls.proposals("art-7")))
	}
	t.Logf("%d revisions, %d proposals, resolved after %d conflicts", final.Rev, totalProposed, conflicts)
}

// redisForTest returns $REDIS_URL, or starts a redis-server of the test's
// own; it skips the test when there is neither.
func redisForTest(t *testing.T) string { return redistest.URL(t) }

// TestBracketsOnRedisNodes: server nodes sharing a Redis store compute the
// same group ids and attributions, keep the records, and a node that missed
// another's commits catches up before it builds a proposal.
func TestBracketsOnRedisNodes(t *testing.T) {
	t.Parallel()
	url := redisForTest(t)
	prefix := fmt.Sprintf("drtest-brackets-%d:", time.Now().UnixNano())
	node := func() *liveServer {
		st := redisStore(t, url, prefix)
		return startServer(t, st, server.Config{SnapshotEvery: 3, Fanout: st})
	}
	a := node()
	const initial = "The Parties [shall/should] take [all] effective measures."
	a.create("art-8", initial)
	if code := a.call(canada, "POST", "/api/docs/art-8/brackets/propose", map[string]any{"group": "b0.12", "text": "must"}, nil); code != 200 {
		t.Fatalf("propose on A: %d", code)
	}
	if code := a.call(usa, "POST", "/api/docs/art-8/brackets/propose", map[string]any{"rev": 0, "span": []int{48, 56}, "text": "steps"}, nil); code != 200 {
		t.Fatalf("span proposal on A: %d", code)
	}
	if code := a.call(chair, "POST", "/api/docs/art-8/brackets/b0.32/resolve", map[string]any{"rev": 2, "choice": "drop"}, nil); code != 200 {
		t.Fatalf("resolve on A: %d", code)
	}
	b := node()
	la, lb := a.listing("art-8", -1), b.listing("art-8", -1)
	if !reflect.DeepEqual(la, lb) || len(lb.Groups) != 2 || lb.group("b2.0") == nil {
		t.Fatalf("node B lists %+v, node A %+v", lb, la)
	}
	if g := lb.group("b0.12"); g.Alternatives[2].By.Delegation != "CAN" || g.Alternatives[2].Source != server.SourceProposal {
		t.Fatalf("attribution on B: %+v", g)
	}
	if !reflect.DeepEqual(a.decisions("art-8"), b.decisions("art-8")) || len(b.proposals("art-8")) != 2 {
		t.Fatalf("records differ between nodes")
	}
	// B proposes; A has not seen it, proposes too, and must catch up first.
	if code := b.call(usa, "POST", "/api/docs/art-8/brackets/propose", map[string]any{"group": "b0.12", "text": "may"}, nil); code != 200 {
		t.Fatalf("propose on B: %d", code)
	}
	var p struct{ Rev, Alternative int }
	if code := a.call(canada, "POST", "/api/docs/art-8/brackets/propose", map[string]any{"group": "b2.0", "text": "action"}, &p); code != 200 || p.Rev != 5 {
		t.Fatalf("propose on A after B: %d %+v", code, p)
	}
	c := node()
	lc := c.listing("art-8", -1)
	sameListing(t, "node C", lc, refListing(t, initial, c.ops("art-8"), 5))
	if g := lc.group("b0.12"); len(g.Alternatives) != 4 || g.Alternatives[3].Text != "may" || g.Alternatives[3].By.Delegation != "USA" {
		t.Fatalf("node C: %+v", g)
	}
	if got := c.get("art-8").Text; got != "The Parties [shall/should/must/may] take  effective [measures/steps/action]." {
		t.Fatalf("text on node C: %q", got)
	}
}

// TestBracketSpanRefusalsInWords: a selection that cannot be bracketed is
// refused with a bad_request that says why and what to do, over HTTP and
// WebSocket alike; the draft stays as it was, the connection stays usable,
// and a selection right next to a bracket is a new group (issue 13).
func TestBracketSpanRefusalsInWords(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const initial = `The Parties [shall/should] take [all]measures [now/later] or soon; a ] b \[sic\].`
	ls.create("art-13", initial)
	cases := []struct {
		name string
		span [2]int
		text string
		says string
	}{
		{"cuts through a bracket", [2]int{4, 15}, "x", "cuts through a bracket"},
		{"spans two alternatives", [2]int{14, 20}, "x", "cuts through a bracket"},
		{"touches a bracket", [2]int{37, 45}, "steps", "touches a bracket"},
		{"after an or", [2]int{61, 65}, "later", "touches a bracket"},
		{"holds an unbalanced bracket", [2]int{67, 72}, "x", "has no partner"},
		{"splits an escape", [2]int{74, 77}, "x", "escaped character"},
		{"past the end", [2]int{70, 200}, "x", "no longer in the text"},
	}
	for _, c := range cases {
		var ev errView
		code := ls.call(canada, "POST", "/api/docs/art-13/brackets/propose", map[string]any{"rev": 0, "span": c.span, "text": c.text}, &ev)
		if code != 400 || ev.Error.Code != dr.CodeBadRequest || !strings.Contains(ev.Error.Message, c.says) {
			t.Errorf("HTTP %s: %d %+v, want 400 bad_request saying %q", c.name, code, ev.Error, c.says)
		}
	}
	dc := ls.wsAs(canada, "can-13")
	for i, c := range cases {
		dc.send(fmt.Sprintf(`{"type":"propose","doc":"art-13","rev":0,"span":[%d,%d],"text":%q,"ref":%d}`, c.span[0], c.span[1], c.text, i+1))
		m := dc.expect("error")
		if m["code"] != dr.CodeBadRequest || m["ref"] != float64(i+1) || !strings.Contains(fmt.Sprint(m["message"]), c.says) {
			t.Errorf("WebSocket %s: %v, want bad_request saying %q", c.name, m, c.says)
		}
	}
	if d := ls.get("art-13"); d.Text != initial || d.Rev != 0 {
		t.Fatalf("refusals changed the draft: %q at %d", d.Text, d.Rev)
	}
	if p := ls.proposals("art-13"); len(p) != 0 {
		t.Fatalf("refusals left proposals: %v", p)
	}
	// The same connection proposes next to a bracket: a new group.
	dc.send(`{"type":"propose","doc":"art-13","rev":0,"span":[27,31],"text":"adopt","ref":99}`)
	m := dc.until("proposed")
	if m["group"] != "b1.0" || m["ref"] != 99.0 {
		t.Fatalf("propose next to a bracket: %v", m)
	}
	want := `The Parties [shall/should] [take/adopt] [all]measures [now/later] or soon; a ] b \[sic\].`
	if d := ls.get("art-13"); d.Text != want || d.Rev != 1 {
		t.Fatalf("after proposing next to a bracket: %q at %d, want %q", d.Text, d.Rev, want)
	}
	l := ls.listing("art-13", -1)
	if len(l.Groups) != 4 {
		t.Fatalf("listing after the proposal: %+v", l.Groups)
	}
}
