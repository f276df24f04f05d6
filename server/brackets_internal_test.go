package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// benchBrackets returns a draft of about 180,000 code points with 2,000
// bracket groups of every form (optional, alternatives, adjacent with "or",
// nested), some of it Arabic and Chinese.
func benchBrackets() string {
	forms := []string{
		"States Parties [shall/should/may] take [all] appropriate measures ",
		"[to ensure] or [to promote] the protection of 中国的海洋环境 ",
		"[States Parties [shall/may] adopt/Each Party adopts] legislation ",
		"تعتمد الدول [الأطراف/الأعضاء] التدابير and\\/or [effective] [relevant] ",
	}
	var b strings.Builder
	for i := 0; i < 2000*4/8; i++ { // the four forms hold 8 groups
		b.WriteString(forms[i%len(forms)])
		b.WriteString("The Conference of the Parties shall keep under review the implementation. ")
		b.WriteString("Lorem ipsum dolor sit amet, consectetur. ")
	}
	return b.String()
}

func benchServer(b *testing.B) (*Server, string) {
	text := benchBrackets()
	res := brackets.Parse(text)
	if n := utf8.RuneCountInString(text); n < 170_000 || len(res.Groups) < 1900 {
		b.Fatalf("bench draft: %d code points, %d groups", n, len(res.Groups))
	}
	store := storage.NewMemory()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: "bench", Title: "bench"}, text); err != nil {
		b.Fatal(err)
	}
	s := New(Config{Open: true}, store, nil)
	b.Cleanup(func() { s.Shutdown(context.Background()) })
	return s, text
}

// BenchmarkBracketListing: GET /api/docs/{id}/brackets of a
// 200,000-code-point draft with 2,000 groups. "cached": the listing of
// the current revision was built before; "new-rev": one op was committed
// since (typing), so the listing is built (parse, ids, proposers, JSON).
func BenchmarkBracketListing(b *testing.B) {
	s, _ := benchServer(b)
	h := s.Handler()
	get := func(b *testing.B) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/docs/bench/brackets", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return rec.Body.Len()
	}
	b.Run("cached", func(b *testing.B) {
		size := get(b)
		b.SetBytes(int64(size))
		b.ReportAllocs()
		c0 := cpuTime()
		for b.Loop() {
			get(b)
		}
		b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
	})
	b.Run("new-rev", func(b *testing.B) {
		ctx := context.Background()
		by := dr.Identity{Author: dr.Author{Delegation: "CAN", Name: "Ana"}, Role: dr.RoleDrafter}
		b.ReportAllocs()
		i := 0
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			i++
			_, err := s.submitBuilt(ctx, "bench", by, func(st *DraftState) (Built, error) {
				return Built{Op: ot.Op{ot.Skip((i * 7919) % st.Text().Len()), ot.Insert("a")}}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			c0 := cpuTime()
			get(b)
			cpu += cpuTime() - c0
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	})
}

// cpuTime is the process's CPU time: on a shared machine it says more
// than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestBenchBracketsShape(t *testing.T) {
	res := brackets.Parse(benchBrackets())
	if len(res.Groups) < 1900 || len(res.Groups) > 2100 || len(res.Diagnostics) != 0 {
		t.Fatalf("%d groups, %d diagnostics", len(res.Groups), len(res.Diagnostics))
	}
}

// TestListingJSON: the listing's bytes are the JSON encoding of its
// GroupJSON values and diagnostics.
func TestListingJSON(t *testing.T) {
	text := "A \"quoted\" [shall/may] or [\tmust\u2028] [x [y/z] \\/ w] [😀/عربي] \\[ ] [unclosed"
	tr := brackets.NewTracker(text)
	res, err := brackets.List(text, tr)
	if err != nil {
		t.Fatal(err)
	}
	opener := func(rev int) dr.Author { return dr.Author{Delegation: "C\"A", Name: "Ana\\"} }
	props := []dr.Proposal{
		{Group: res.Groups[0].ID, Alternative: 1, Text: "may", By: dr.Author{Delegation: "USA", Name: "Bob"}, Rev: 0},
		{Group: res.Groups[0].ID, Alternative: 2, Text: "\tmust\u2028", By: dr.Author{Delegation: "FRA", Name: "Zoé"}, Rev: 1},
	}
	got := encodeListing(&res, opener, props, 0)
	pm := map[string][]dr.Proposal{res.Groups[0].ID: props[:1]}
	groups := make([]GroupJSON, len(res.Groups))
	for i := range res.Groups {
		groups[i] = groupJSON(&res, i, opener, pm)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.Encode(map[string]any{"diagnostics": res.Diagnostics, "groups": groups})
	// encoding/json sorts map keys: diagnostics first. Rebuild in our order.
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(want.Bytes(), &parts); err != nil {
		t.Fatal(err)
	}
	wantBody := `"groups":` + compact(t, parts["groups"]) + `,"diagnostics":` + compact(t, parts["diagnostics"])
	if string(got) != wantBody {
		t.Fatalf("listing JSON\n got %s\nwant %s", got, wantBody)
	}
	if g := groups[0].Alternatives; g[1].Source != SourceProposal || g[1].By.Delegation != "USA" || g[2].Source != SourceBracket {
		t.Fatalf("attribution %+v (a proposal after the listed revision must not count)", g)
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestBracketBuildAfterStagedOps: a proposal committed in the same batch as
// typed ops sees the groups and positions those ops made (the tracker is
// brought forward over DraftState.Staged on a copy).
func TestBracketBuildAfterStagedOps(t *testing.T) {
	for _, c := range []struct {
		name  string
		typed ot.Op
		req   bracketRequest
		text  string
		group string
		alt   int
	}{
		{"group typed in the batch", ot.Op{ot.Skip(7), ot.Insert("[now] ")},
			bracketRequest{Group: "b1.0", Text: ptrTo("later")}, "States [now/later] act.", "b1.0", 1},
		{"span moved in the batch", ot.Op{ot.Insert("Today ")},
			bracketRequest{Rev: ptrTo(0), Span: &[2]int{7, 10}, Text: ptrTo("do")}, "Today States [act/do].", "b2.0", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				ts := newTestServer(t, storage.NewMemory(), Config{})
				createDraft(t, ts.store, "st", "States act.")
				f := ts.session("c1", "CAN")
				f.open("st", nil)
				// Hold the owner so the typed op and the proposal queue up and
				// are staged in one batch.
				started, release := make(chan struct{}), make(chan struct{})
				go ts.Do(ctx, "st", func(*DraftState) error { close(started); <-release; return nil })
				<-started
				f.submit(0, 1, c.typed)
				type result struct {
					out proposedJSON
					err error
				}
				done := make(chan result, 1)
				go func() {
					out, err := ts.propose(ctx, f.ident, "st", c.req)
					done <- result{out, err}
				}()
				synctest.Wait() // the op and the proposal are in the owner's queue
				if len(f.d.in) != 2 {
					t.Fatalf("%d requests in the owner's queue, want the op and the proposal", len(f.d.in))
				}
				close(release)
				r := <-done
				if r.err != nil {
					t.Fatal(r.err)
				}
				if r.out.Group != c.group || r.out.Alternative != c.alt || r.out.Rev != 2 {
					t.Fatalf("proposed %+v, want group %s alternative %d at rev 2", r.out, c.group, c.alt)
				}
				if text, rev := ts.text("st"); text != c.text || rev != 2 {
					t.Fatalf("text %q at %d, want %q", text, rev, c.text)
				}
				l, err := ts.bracketListing(ctx, "st", -1)
				if err != nil {
					t.Fatal(err)
				}
				if l.res.Find(c.group) < 0 {
					t.Fatalf("group %s not listed after commit", c.group)
				}
			})
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// FuzzBracketRequests posts arbitrary bodies to the propose and resolve
// endpoints, as each role. Nothing may panic or fail as internal; the
// draft changes exactly when the answer is 200, by one op of the right
// kind, and still lists.
func FuzzBracketRequests(f *testing.F) {
	for _, s := range []struct {
		path byte
		role byte
		body string
	}{
		{0, 1, `{"rev":0,"group":"b0.4","text":"c"}`},
		{0, 1, `{"rev":0,"span":[0,3],"text":"A"}`},
		{0, 1, `{"rev":0,"span":[0,0],"text":""}`},
		{0, 0, `{"rev":0,"span":[38,39],"text":"/[]\\"}`},
		{0, 1, `{"group":"b0.22","text":"x/y"}`},
		{1, 0, `{"rev":0,"choice":"choose","index":1,"note":"n"}`},
		{1, 0, `{"rev":0,"choice":"drop"}`},
		{2, 0, `{"rev":0,"choice":"drop"}`},
		{3, 0, `{"rev":0,"choice":"compromise","text":"z]/["}`},
		{4, 0, `{"rev":0,"choice":"choose","index":0}`},
		{1, 2, `{"rev":0,"choice":"choose","index":0}`},
		{1, 0, `{"rev":9,"choice":"choose","index":-3}`},
		{0, 1, `{"rev":0,"span":[5,2],"text":1}`},
		{1, 0, `[]`}, {0, 1, `null`}, {1, 0, `{`}, {0, 1, "\xff"},
	} {
		f.Add(s.path, s.role, []byte(s.body))
	}
	const initial = "The [a/b] and [c] or [d [e/f]] \\[x\\] then [g/] [h"
	store := storage.NewMemory()
	s := New(Config{Open: true, MaxDraftLen: 2000}, store, nil)
	f.Cleanup(func() { s.Shutdown(context.Background()) })
	h := s.Handler()
	roles := []string{dr.RoleFacilitator, dr.RoleDrafter, dr.RoleReviewer}
	paths := []string{"propose", "b0.4/resolve", "b0.14/resolve", "b0.24/resolve", "b0.43/resolve", "b1.0/resolve", "x/resolve"}
	n := 0
	ctx := context.Background()
	state := func(t *testing.T, doc string) (string, int) {
		var text string
		var rev int
		if err := s.Do(ctx, doc, func(st *DraftState) error {
			text, rev = st.Text().String(), st.Rev()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return text, rev
	}
	f.Fuzz(func(t *testing.T, path, role byte, body []byte) {
		// A fresh draft now and then, so the draft stays small and
		// resolvable.
		doc := fmt.Sprintf("f%d", n/20)
		if n%20 == 0 {
			if err := store.CreateDraft(ctx, dr.Draft{ID: doc}, initial); err != nil {
				t.Fatal(err)
			}
		}
		n++
		text, rev := state(t, doc)
		req := httptest.NewRequest("POST", "/api/docs/"+doc+"/brackets/"+paths[int(path)%len(paths)], bytes.NewReader(body))
		req.Header.Set(HeaderDelegation, "CAN")
		req.Header.Set(HeaderName, "Fuzz")
		req.Header.Set(HeaderRole, roles[int(role)%len(roles)])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s: internal error %s", body, rec.Body)
		}
		text2, rev2 := state(t, doc)
		if rec.Code != http.StatusOK {
			if text2 != text || rev2 != rev {
				t.Fatalf("%s refused (%d %s) but the draft changed", body, rec.Code, rec.Body)
			}
			return
		}
		if rev2 != rev+1 {
			t.Fatalf("%s: accepted, draft moved from %d to %d", body, rev, rev2)
		}
		ops, err := store.Ops(ctx, doc, rev2, rev2)
		if err != nil || len(ops) != 1 || (ops[0].Kind != dr.KindPropose && ops[0].Kind != dr.KindResolve) {
			t.Fatalf("%s: committed %+v (%v)", body, ops, err)
		}
		if got, err := ot.Apply(text, ops[0].Op); err != nil || got != text2 {
			t.Fatalf("%s: op %v does not take %q to %q", body, ops[0].Op, text, text2)
		}
		if _, err := s.bracketListing(ctx, doc, -1); err != nil {
			t.Fatalf("%s: listing after: %v", body, err)
		}
	})
}
