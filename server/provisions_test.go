package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/provisions"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

type provisionView struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Num       string     `json:"num"`
	Title     string     `json:"title"`
	Span      [2]int     `json:"span"`
	Parent    *string    `json:"parent"`
	Status    string     `json:"status"`
	Locked    bool       `json:"locked"`
	StatusBy  *dr.Author `json:"status_by"`
	StatusRev *int       `json:"status_rev"`
	Packages  []string   `json:"packages"`
}

type provisionsView struct {
	Type       string          `json:"type"`
	Doc        string          `json:"doc"`
	Rev        int             `json:"rev"`
	Provisions []provisionView `json:"provisions"`
}

// find returns the provision "kind num" (the first one).
func (pv provisionsView) find(t *testing.T, kind, num string) provisionView {
	t.Helper()
	for _, p := range pv.Provisions {
		if p.Kind == kind && p.Num == num {
			return p
		}
	}
	t.Fatalf("no %s %s in %+v", kind, num, pv.Provisions)
	return provisionView{}
}

type statusView struct {
	Doc      string `json:"doc"`
	Rev      int    `json:"rev"`
	Decision struct {
		Draft, Provision, Name, Status, Note, Text string
		By                                         dr.Author
		Rev                                        int
		TS                                         int64
	} `json:"decision"`
}

func (ls *liveServer) provisions(id string, rev int) provisionsView {
	ls.t.Helper()
	path := "/api/docs/" + id + "/provisions"
	if rev >= 0 {
		path += fmt.Sprintf("?rev=%d", rev)
	}
	var pv provisionsView
	if code := ls.call(observer, "GET", path, nil, &pv); code != http.StatusOK {
		ls.t.Fatalf("GET %s: status %d", path, code)
	}
	return pv
}

// setStatus posts a status change as w and returns the HTTP status and the
// error code, if any.
func (ls *liveServer) setStatus(w who, doc, pid, status, note string, out *statusView) (int, string) {
	ls.t.Helper()
	code, data, _ := ls.roundTrip(&w, "POST", "/api/docs/"+doc+"/provisions/"+pid+"/status",
		map[string]any{"status": status, "note": note})
	if code == http.StatusOK && out != nil {
		ls.decode("POST", "status", data, out)
	}
	var ev errView
	if code != http.StatusOK {
		ls.decode("POST", "status", data, &ev)
	}
	return code, ev.Error.Code
}

const treaty = "The States Parties,\nRecalling X,\nArticle 1 Scope\n1. Each State Party shall act.\n2. Each State Party may [adopt/consider] measures.\n3. Nothing in this article.\nArticle 2\n1. Other text.\n"

func TestProvisionsListingAndStatus(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-1", treaty)
	pv := ls.provisions("art-1", -1)
	want := provisions.Parse(treaty)
	if len(pv.Provisions) != len(want) || pv.Rev != 0 {
		t.Fatalf("listing at %d has %d provisions, want %d: %+v", pv.Rev, len(pv.Provisions), len(want), pv.Provisions)
	}
	for i, p := range pv.Provisions {
		w := want[i]
		if p.Kind != string(w.Kind) || p.Num != w.Num || p.Span != w.Span || p.ID != fmt.Sprintf("p0.%d", w.Mark) || p.Status != "open" || p.Locked {
			t.Fatalf("provision %d is %+v, want %+v", i, p, w)
		}
	}
	art1, p1, p2 := pv.find(t, "article", "1"), pv.find(t, "paragraph", "1"), pv.find(t, "paragraph", "2")
	if p1.Parent == nil || *p1.Parent != art1.ID || art1.Title != "Scope" {
		t.Fatalf("paragraph 1's parent %v, article 1 %+v", p1.Parent, art1)
	}

	// Roles, ids and statuses are checked before anything is committed.
	for _, tc := range []struct {
		w           who
		pid, status string
		http        int
		code        string
	}{
		{canada, p1.ID, "agreed", http.StatusForbidden, dr.CodeForbidden},
		{observer, p1.ID, "agreed", http.StatusForbidden, dr.CodeForbidden},
		{chair, "p9.9", "agreed", http.StatusNotFound, dr.CodeNotFound},
		{chair, "nope", "agreed", http.StatusBadRequest, dr.CodeBadRequest},
		{chair, p1.ID, "done", http.StatusBadRequest, dr.CodeBadRequest},
		{chair, p1.ID, "open", http.StatusBadRequest, dr.CodeBadRequest},   // open already
		{chair, p2.ID, "agreed", http.StatusBadRequest, dr.CodeBadRequest}, // holds [adopt/consider]
	} {
		if code, ec := ls.setStatus(tc.w, "art-1", tc.pid, tc.status, "", nil); code != tc.http || ec != tc.code {
			t.Errorf("%s sets %s to %s: %d %s, want %d %s", tc.w.role, tc.pid, tc.status, code, ec, tc.http, tc.code)
		}
	}
	if got := ls.get("art-1"); got.Rev != 0 {
		t.Fatalf("refused changes committed: rev %d", got.Rev)
	}

	var sv statusView
	if code, ec := ls.setStatus(chair, "art-1", p1.ID, "agreed", "ad ref, pending the French text", &sv); code != http.StatusOK {
		t.Fatalf("agree paragraph 1: %d %s", code, ec)
	}
	d := sv.Decision
	if sv.Rev != 1 || d.Rev != 1 || d.Provision != p1.ID || d.Status != "agreed" || d.Name != "paragraph 1 of article 1" ||
		d.Text != "1. Each State Party shall act.\n" || d.Note != "ad ref, pending the French text" || d.By.Delegation != "CHAIR" {
		t.Fatalf("decision %+v", sv)
	}
	pv = ls.provisions("art-1", -1)
	if p := pv.find(t, "paragraph", "1"); p.Status != "agreed" || !p.Locked || p.StatusRev == nil || *p.StatusRev != 1 || p.StatusBy.Delegation != "CHAIR" {
		t.Fatalf("agreed paragraph listed as %+v", p)
	}
	if got := ls.get("art-1"); got.Text != treaty {
		t.Fatalf("a status change changed the text: %q", got.Text)
	}
	// The decision record is durable and in the timeline.
	decs := ls.decisions("art-1")
	if len(decs) != 1 || decs[0].Group != p1.ID || decs[0].Choice != "agreed" || decs[0].Rev != 1 {
		t.Fatalf("decisions %+v", decs)
	}
	var tl struct {
		Entries []struct {
			Kind     string        `json:"kind"`
			Group    string        `json:"group"`
			Summary  string        `json:"summary"`
			Decision *decisionView `json:"decision"`
		} `json:"entries"`
	}
	ls.call(observer, "GET", "/api/docs/art-1/history", nil, &tl)
	if len(tl.Entries) == 0 || tl.Entries[0].Kind != "status.agreed" || tl.Entries[0].Group != p1.ID || tl.Entries[0].Decision == nil ||
		tl.Entries[0].Summary != "set "+p1.ID+" to agreed" {
		t.Fatalf("timeline %+v", tl.Entries)
	}
	// Stats: counts at each revision where they changed.
	var st struct {
		Rev      int
		Counts   provisions.Counts
		Points   []provisions.StatPoint
		Articles []provisions.Summary
	}
	ls.call(observer, "GET", "/api/docs/art-1/provisions/stats", nil, &st)
	n := len(want)
	if st.Counts.Agreed != 1 || st.Counts.Open != n-1 || len(st.Points) != 2 || st.Points[1].Rev != 1 ||
		len(st.Articles) != 2 || st.Articles[0].Paragraphs != 3 || st.Articles[0].Agreed != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Reopen, recorded; the listing at revision 1 still shows it agreed.
	if code, ec := ls.setStatus(chair, "art-1", p1.ID, "open", "reopened at the request of X", nil); code != http.StatusOK {
		t.Fatalf("reopen: %d %s", code, ec)
	}
	if p := ls.provisions("art-1", -1).find(t, "paragraph", "1"); p.Status != "open" || p.Locked {
		t.Fatalf("reopened paragraph: %+v", p)
	}
	if p := ls.provisions("art-1", 1).find(t, "paragraph", "1"); p.Status != "agreed" || !p.Locked {
		t.Fatalf("paragraph at revision 1: %+v", p)
	}
	if decs := ls.decisions("art-1"); len(decs) != 2 || decs[1].Choice != "open" {
		t.Fatalf("decisions after reopen %+v", decs)
	}
}

func TestLockedOpsRefused(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-1", treaty)
	p3 := ls.provisions("art-1", -1).find(t, "paragraph", "3")
	if code, ec := ls.setStatus(chair, "art-1", p3.ID, "agreed", "", nil); code != http.StatusOK {
		t.Fatalf("agree: %d %s", code, ec)
	}
	rc := ls.wsAs(canada, "c-1")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.until("snapshot")
	start := p3.Span[0]
	refused := []ot.Op{
		{ot.Skip(start + 5), ot.Insert("x")}, // inside
		{ot.Skip(start), ot.Insert("x")},     // before its marker, on its line
		{ot.Skip(start - 1), ot.Delete(1)},   // the line break before it
	}
	for i, op := range refused {
		b, _ := op.MarshalJSON()
		rc.send(fmt.Sprintf(`{"type":"op","doc":"art-1","rev":1,"seq":%d,"op":%s}`, i+1, b))
		m := rc.until("error")
		if m["code"] != dr.CodeLocked || m["seq"] != float64(i+1) || !strings.Contains(m["message"].(string), "paragraph 3 of article 1") {
			t.Fatalf("op %v: %v, want locked with seq %d naming the paragraph", op, m, i+1)
		}
	}
	if got := ls.get("art-1"); got.Rev != 1 || got.Text != treaty {
		t.Fatalf("refused ops committed: rev %d", got.Rev)
	}
	// Right next to it: a new paragraph on its own line before it, and
	// typing at the end of paragraph 2.
	p2end := start - 1
	if rev := rc.edit("art-1", 1, 10, ot.Op{ot.Skip(start), ot.Insert("2 bis. New.\n")}); rev != 2 {
		t.Fatalf("new line before: rev %d", rev)
	}
	if rev := rc.edit("art-1", 2, 11, ot.Op{ot.Skip(p2end), ot.Insert(" Also.")}); rev != 3 {
		t.Fatalf("typing at the end of paragraph 2: rev %d", rev)
	}
	after := ls.provisions("art-1", -1).find(t, "paragraph", "3")
	if after.ID != p3.ID || !after.Locked || after.Status != "agreed" {
		t.Fatalf("paragraph 3 after typing around it: %+v", after)
	}
	// A facilitator reopens first, then edits.
	if code, _ := ls.setStatus(chair, "art-1", p3.ID, "open", "", nil); code != http.StatusOK {
		t.Fatal("reopen failed")
	}
	if rev := rc.edit("art-1", 4, 12, ot.Op{ot.Skip(after.Span[0] + 5), ot.Insert("x")}); rev != 5 {
		t.Fatalf("typing in the reopened paragraph: rev %d", rev)
	}
}

// TestAgreeWhileDrafting: a facilitator agrees paragraph 2 while five
// drafters type in paragraphs 1 to 3. Everyone converges, nothing inside
// paragraph 2 is committed after the agreement's revision, and the ops
// refused are answered locked.
func TestAgreeWhileDrafting(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const text = "Article 1\n1. Alpha one.\n2. Bravo two.\n3. Charlie three.\n"
	ls.create("art-1", text)
	p2 := ls.provisions("art-1", -1).find(t, "paragraph", "2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var locked atomic.Int64
	agreed := make(chan struct{})
	docs := make([]*client.Doc, 5)
	for i := range docs {
		opts := client.Options{Delegation: fmt.Sprintf("D%d", i), Name: "N", Role: "drafter",
			OnEvent: func(e client.Event) {
				if e.Type == client.EventError && e.Code == dr.CodeLocked {
					locked.Add(1)
				}
			}}
		_, docs[i] = dialOpen(t, ctx, ls.wsURL(), opts, "art-1")
	}
	var wg, reached sync.WaitGroup
	reached.Add(len(docs))
	for i, d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			for k := range 60 {
				if k == 20 {
					reached.Done()
					<-agreed
				}
				// A position in the second half of the body of a random
				// paragraph. Remote ops may land between Text and Insert,
				// so pos can be a few characters stale: in the second
				// half it still falls inside the same body, never in the
				// "2. " that makes the line a paragraph (an "x" there
				// would end paragraph 2 itself, and the agreement would
				// rightly answer not_found).
				cur := d.Text()
				marker := fmt.Sprintf("\n%d. ", 1+rng.IntN(3))
				at := strings.Index(cur, marker)
				if at < 0 {
					continue
				}
				body := at + len(marker)
				end := body + strings.IndexByte(cur[body:], '\n')
				n := utf8.RuneCountInString(cur[body:end])
				pos := utf8.RuneCountInString(cur[:body]) + n/2 + rng.IntN(n-n/2+1)
				d.Insert(pos, "x") // an error means the text moved: try elsewhere
				if k%5 == 0 {
					d.WaitSynced(ctx)
				}
			}
		}()
	}
	// Agree once the drafters have typed a little: at revision 15, or
	// once every drafter has made its first 20 edits and waits (edits
	// composed behind a slow ack can make fewer revisions than edits, and
	// then revision 15 never comes).
	allReached := make(chan struct{})
	go func() { reached.Wait(); close(allReached) }()
waitAgree:
	for ls.get("art-1").Rev < 15 {
		select {
		case <-allReached:
			break waitAgree
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(5 * time.Millisecond): // poll the head again
		}
	}
	var sv statusView
	if code, ec := ls.setStatus(chair, "art-1", p2.ID, "agreed", "", &sv); code != http.StatusOK {
		t.Fatalf("agree: %d %s", code, ec)
	}
	close(agreed)
	wg.Wait()
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	final := ls.get("art-1")
	for i, d := range docs {
		if err := d.WaitRev(ctx, final.Rev); err != nil {
			t.Fatal(err)
		}
		if d.Text() != final.Text {
			t.Fatalf("drafter %d has %q, server %q", i, d.Text(), final.Text)
		}
	}
	line := func(s string) string {
		at := strings.Index(s, "\n2. ")
		return s[at : at+strings.IndexByte(s[at+1:], '\n')+1]
	}
	var atAgree struct{ Text string }
	ls.call(observer, "GET", fmt.Sprintf("/api/docs/art-1/text?rev=%d", sv.Rev), nil, &atAgree)
	if got, want := line(final.Text), line(atAgree.Text); got != want {
		t.Fatalf("paragraph 2 changed after it was agreed at %d: %q, then %q", sv.Rev, want, got)
	}
	if sv.Decision.Text != line(atAgree.Text)[1:]+"\n" {
		t.Errorf("decision text %q, paragraph at agreement %q", sv.Decision.Text, line(atAgree.Text))
	}
	if locked.Load() == 0 {
		t.Fatal("no op was refused as locked: the drafters did not type in paragraph 2 after the agreement")
	}
	if final.Rev < sv.Rev+20 {
		t.Fatalf("only %d revisions after the agreement: typing elsewhere was held up", final.Rev-sv.Rev)
	}
	t.Logf("agreed at %d, final %d, %d ops refused as locked", sv.Rev, final.Rev, locked.Load())
}

type renumberView struct {
	Rev        int                     `json:"rev"`
	Preview    bool                    `json:"preview"`
	Committed  bool                    `json:"committed"`
	Diff       []provisions.Edit       `json:"diff"`
	Numbers    []server.NumberJSON     `json:"numbers"`
	References []provisions.Reference  `json:"references"`
	Unresolved []provisions.Unresolved `json:"unresolved"`
}

func TestRenumber(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const text = "Article 1\n1. See paragraph 1 bis and article 1 bis.\n1 bis. Inserted.\n2. Last, see article 2.\nArticle 1 bis\nArticle 2\n"
	ls.create("art-1", text)
	before := ls.provisions("art-1", -1)
	last := before.find(t, "paragraph", "2")
	if code, ec := ls.setStatus(chair, "art-1", last.ID, "agreed", "", nil); code != http.StatusOK {
		t.Fatalf("agree: %d %s", code, ec)
	}
	var rv renumberView
	if code := ls.call(canada, "POST", "/api/docs/art-1/renumber", map[string]any{"rev": 1, "preview": true}, nil); code != http.StatusForbidden {
		t.Fatalf("drafter renumbers: %d", code)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/renumber", map[string]any{"rev": 1, "preview": true}, &rv); code != http.StatusOK {
		t.Fatalf("preview: %d", code)
	}
	if !rv.Preview || rv.Committed || len(rv.Numbers) != 4 || len(rv.References) != 3 || len(rv.Diff) != 7 || ls.get("art-1").Rev != 1 {
		t.Fatalf("preview %+v", rv)
	}
	if rv.Numbers[0].ID != before.find(t, "paragraph", "1 bis").ID || rv.Numbers[0].To != "2" {
		t.Fatalf("first number change %+v", rv.Numbers[0])
	}
	// A preview taken before a new "bis" is stale.
	rc := ls.wsAs(canada, "c-1")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.until("snapshot")
	rc.edit("art-1", 1, 1, ot.Op{ot.Skip(utf8.RuneCountInString(text)), ot.Insert("Article 2 bis\n")})
	var ev errView
	if code := ls.call(chair, "POST", "/api/docs/art-1/renumber", map[string]any{"rev": 1}, &ev); code != http.StatusConflict {
		t.Fatalf("stale renumber: %d %+v", code, ev)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/renumber", map[string]any{"rev": 2}, &rv); code != http.StatusOK || !rv.Committed || rv.Rev != 3 {
		t.Fatalf("renumber: %d %+v", code, rv)
	}
	got := ls.get("art-1").Text
	const want = "Article 1\n1. See paragraph 2 and article 2.\n2. Inserted.\n3. Last, see article 3.\nArticle 2\nArticle 3\nArticle 4\n"
	if got != want {
		t.Fatalf("renumbered text %q, want %q", got, want)
	}
	// Ids survive, and the agreed paragraph stays agreed and locked.
	after := ls.provisions("art-1", -1)
	for i, p := range before.Provisions {
		if after.Provisions[i].ID != p.ID {
			t.Errorf("provision %d: id %s became %s", i, p.ID, after.Provisions[i].ID)
		}
	}
	if p := after.find(t, "paragraph", "3"); p.ID != last.ID || !p.Locked || p.Status != "agreed" {
		t.Fatalf("agreed paragraph after renumbering: %+v", p)
	}
	// Twice changes nothing.
	if code := ls.call(chair, "POST", "/api/docs/art-1/renumber", map[string]any{"rev": 3}, &rv); code != http.StatusOK || rv.Committed || len(rv.Diff) != 0 {
		t.Fatalf("second renumber: %d %+v", code, rv)
	}
	if r := ls.get("art-1").Rev; r != 3 {
		t.Fatalf("second renumber committed: rev %d", r)
	}
}

func TestProvisionsExport(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-1", "Article 1\n1. One.\n2. Two.\n")
	p2 := ls.provisions("art-1", -1).find(t, "paragraph", "2")
	ls.setStatus(chair, "art-1", p2.ID, "agreed", "", nil)
	for _, tc := range []struct{ query, want string }{
		{"", "Article 1  {open}\n1. One.  {open}\n2. Two.  {agreed}\n"},
		{"?agreed=1", "Article 1\n2. Two.\n"},
		{"?agreed=1&rev=0", ""},
	} {
		code, body, _ := ls.roundTrip(&observer, "GET", "/api/docs/art-1/provisions/export"+tc.query, nil)
		if code != http.StatusOK || string(body) != tc.want {
			t.Errorf("export%s: %d %q, want %q", tc.query, code, body, tc.want)
		}
	}
	if code, _, _ := ls.roundTrip(&observer, "GET", "/api/docs/art-1/provisions/export?format=docx", nil); code != http.StatusBadRequest {
		t.Errorf("unknown format: %d", code)
	}
}

// TestProvisionsSurviveRestart: statuses, locks and ids come back from the
// snapshot section and the op log when a new server loads the draft.
func TestProvisionsSurviveRestart(t *testing.T) {
	t.Parallel()
	store := storage.NewMemory()
	cfg := server.Config{SnapshotEvery: 4}
	ls := startServer(t, store, cfg)
	ls.create("art-1", treaty)
	p1 := ls.provisions("art-1", -1).find(t, "paragraph", "1")
	if code, ec := ls.setStatus(chair, "art-1", p1.ID, "agreed", "", nil); code != http.StatusOK {
		t.Fatalf("agree: %d %s", code, ec)
	}
	rc := ls.wsAs(canada, "c-1")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.until("snapshot")
	rev := 1
	for i := range 9 { // past two snapshots, then a few more ops
		rev = rc.edit("art-1", rev, i+1, ot.Op{ot.Insert("x")})
	}
	before := ls.provisions("art-1", -1)
	// Snapshots are written off the ack path, with no event a client
	// sees: wait for one past rev 0 in the store.
	var snap dr.Snapshot
	waitUntil(t, "a snapshot after revision 0", func() bool {
		var err error
		snap, err = store.Snapshot(context.Background(), "art-1", rev)
		return err == nil && snap.Rev > 0
	})
	if snap.Meta[server.ProvisionsSection] == nil {
		t.Fatalf("snapshot %d has no provisions section", snap.Rev)
	}

	ls2 := startServer(t, store, cfg)
	after := ls2.provisions("art-1", -1)
	if after.Rev != before.Rev || len(after.Provisions) != len(before.Provisions) {
		t.Fatalf("after restart: rev %d, %d provisions; before %d, %d", after.Rev, len(after.Provisions), before.Rev, len(before.Provisions))
	}
	for i := range before.Provisions {
		b, a := before.Provisions[i], after.Provisions[i]
		if a.ID != b.ID || a.Status != b.Status || a.Locked != b.Locked || a.Span != b.Span {
			t.Fatalf("provision %d: %+v after restart, %+v before", i, a, b)
		}
	}
	rc2 := ls2.wsAs(canada, "c-2")
	rc2.send(`{"type":"open","doc":"art-1"}`)
	rc2.until("snapshot")
	p := after.find(t, "paragraph", "1")
	rc2.send(fmt.Sprintf(`{"type":"op","doc":"art-1","rev":%d,"seq":1,"op":[%d,"x"]}`, rev, p.Span[0]+4))
	if m := rc2.until("error"); m["code"] != dr.CodeLocked {
		t.Fatalf("typing in agreed text after a restart: %v", m)
	}
	// The provisions messages over WebSocket, with a ref.
	rc2.send(`{"type":"provisions","doc":"art-1","ref":7}`)
	if m := rc2.until("provisions"); m["ref"] != float64(7) || len(m["provisions"].([]any)) != len(before.Provisions) {
		t.Fatalf("provisions message: %v", m)
	}
	rc2.send(fmt.Sprintf(`{"type":"provision_status","doc":"art-1","id":%q,"status":"informal"}`, p.ID))
	if m := rc2.until("error"); m["code"] != dr.CodeForbidden {
		t.Fatalf("a drafter's status change: %v", m)
	}
	rc2.send(`{"type":"provision_stats","doc":"art-1"}`)
	if m := rc2.until("provision_stats"); m["counts"].(map[string]any)["agreed"] != float64(1) {
		t.Fatalf("stats: %v", m)
	}
}

func TestPackages(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const text = "Article 1\n1. States [shall/may] act.\nArticle 2\n1. States [shall/may] report.\n2. Plain.\nArticle 3\n1. Also plain.\n"
	ls.create("art-1", text)
	groups := ls.listing("art-1", -1).Groups
	pv := ls.provisions("art-1", -1)
	a2p2, a3p1 := pv.Provisions[4], pv.Provisions[6]
	if len(groups) != 2 || a2p2.Num != "2" || a3p1.Kind != "paragraph" {
		t.Fatalf("groups %+v, provisions %+v", groups, pv.Provisions)
	}
	var pkg struct {
		Rev     int
		Package provisions.Package
	}
	if code := ls.call(canada, "POST", "/api/docs/art-1/packages", map[string]any{"members": []string{groups[0].ID, groups[1].ID}}, nil); code != http.StatusForbidden {
		t.Fatalf("drafter makes a package: %d", code)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/packages", map[string]any{"members": []string{groups[0].ID}}, nil); code != http.StatusBadRequest {
		t.Fatalf("one-member package: %d", code)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/packages", map[string]any{"members": []string{groups[0].ID, "b9.9"}}, nil); code != http.StatusNotFound {
		t.Fatalf("package with an unknown group: %d", code)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/packages", map[string]any{"members": []string{groups[0].ID, groups[1].ID}, "note": "same term"}, &pkg); code != http.StatusCreated || pkg.Package.ID != "k1" {
		t.Fatalf("make package: %d %+v", code, pkg)
	}
	// A stale request conflicts: a group changed after revision 1.
	if code := ls.call(canada, "POST", "/api/docs/art-1/brackets/propose", map[string]any{"group": groups[1].ID, "text": "must"}, nil); code != http.StatusOK {
		t.Fatalf("propose: %d", code)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/packages/k1/resolve", map[string]any{"rev": 1, "choice": "choose", "index": 0}, nil); code != http.StatusConflict {
		t.Fatalf("stale package resolve: %d", code)
	}
	var resolved struct {
		Rev       int
		Decisions []decisionView
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/packages/k1/resolve", map[string]any{"rev": 2, "choice": "choose", "index": 0, "note": "shall throughout"}, &resolved); code != http.StatusOK {
		t.Fatalf("resolve package: %d", code)
	}
	if got := ls.get("art-1"); got.Rev != 3 || !strings.Contains(got.Text, "States shall act.") || !strings.Contains(got.Text, "States shall report.") {
		t.Fatalf("after the package: rev %d %q", got.Rev, got.Text)
	}
	if len(resolved.Decisions) != 2 || resolved.Decisions[0].Rev != 3 || resolved.Decisions[1].Rev != 3 {
		t.Fatalf("decisions %+v", resolved.Decisions)
	}
	// Provisions in a package are agreed together.
	if code := ls.call(chair, "POST", "/api/docs/art-1/packages", map[string]any{"members": []string{a2p2.ID, a3p1.ID}}, &pkg); code != http.StatusCreated {
		t.Fatalf("package of provisions: %d", code)
	}
	var sv struct {
		Rev      int
		Together []string
	}
	if code := ls.call(chair, "POST", "/api/docs/art-1/provisions/"+a2p2.ID+"/status", map[string]any{"status": "agreed"}, &sv); code != http.StatusOK {
		t.Fatalf("agree: %d", code)
	}
	pv = ls.provisions("art-1", -1)
	for _, p := range []provisionView{pv.Provisions[4], pv.Provisions[6]} {
		if p.Status != "agreed" || !p.Locked || *p.StatusRev != sv.Rev || len(p.Packages) != 1 || p.Packages[0] != pkg.Package.ID {
			t.Fatalf("provision in the package: %+v", p)
		}
	}
	if len(sv.Together) != 1 || sv.Together[0] != a3p1.ID {
		t.Fatalf("agreed together: %+v", sv)
	}
	var list struct{ Packages []provisions.Package }
	ls.call(observer, "GET", "/api/docs/art-1/packages", nil, &list)
	if len(list.Packages) != 2 {
		t.Fatalf("packages %+v", list)
	}
}

// TestAgreeWhatWasSeen: agreeing with the rev at which the facilitator
// read the provision is a conflict if its text changed since.
func TestAgreeWhatWasSeen(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-1", "Article 1\n1. One.\n2. Two.\n")
	p1 := ls.provisions("art-1", -1).find(t, "paragraph", "1")
	rc := ls.wsAs(canada, "c-1")
	rc.send(`{"type":"open","doc":"art-1"}`)
	rc.until("snapshot")
	rc.edit("art-1", 0, 1, ot.Op{ot.Skip(p1.Span[0] + 3), ot.Insert("Only ")})
	var ev errView
	code, data, _ := ls.roundTrip(&chair, "POST", "/api/docs/art-1/provisions/"+p1.ID+"/status", map[string]any{"status": "agreed", "rev": 0})
	ls.decode("POST", "status", data, &ev)
	if code != http.StatusConflict || !strings.Contains(ev.Error.Message, "paragraph 1 of article 1 changed since revision 0") {
		t.Fatalf("agreeing stale text: %d %+v", code, ev)
	}
	// Typing elsewhere does not stop it.
	rc.edit("art-1", 1, 2, ot.Op{ot.Skip(utf8.RuneCountInString("Article 1\n1. Only One.\n2. Two")), ot.Insert("!")})
	code, _, _ = ls.roundTrip(&chair, "POST", "/api/docs/art-1/provisions/"+p1.ID+"/status", map[string]any{"status": "agreed", "rev": 1})
	if code != http.StatusOK {
		t.Fatalf("agreeing what was seen at 1: %d", code)
	}
}
