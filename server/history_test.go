package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// openAuthor is who creates drafts through ls.create (the open-mode
// facilitator of a request without identity headers).
var openAuthor = dr.Author{Delegation: server.OpenDelegation, Name: server.OpenName}

// boltForTest opens a Bolt store in a temporary directory, closed after
// the servers that use it (cleanups run last registered first).
func boltForTest(t *testing.T) *storage.Bolt {
	t.Helper()
	st, err := storage.OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), storage.BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// tickingClock returns a clock that moves one second each time it is
// read, so that every batch of ops gets its own commit time.
func tickingClock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Second) }
}

// getRaw makes a GET as w and returns the status, the body and its
// content type.
func (ls *liveServer) getRaw(w who, path string) (int, []byte, string) {
	ls.t.Helper()
	return ls.roundTrip(&w, "GET", path, nil)
}

type textView struct {
	Rev  int    `json:"rev"`
	Text string `json:"text"`
}

func (ls *liveServer) textAt(w who, doc, query string) (textView, int) {
	ls.t.Helper()
	var v textView
	code := ls.call(w, "GET", "/api/docs/"+doc+"/text?"+query, nil, &v)
	return v, code
}

type authorsView struct {
	Doc   string            `json:"doc"`
	Rev   int               `json:"rev"`
	Spans []server.SpanJSON `json:"spans"`
}

type diffView struct {
	From     int               `json:"from"`
	To       int               `json:"to"`
	Segments []history.Segment `json:"segments"`
}

// fullLog is the whole op log with kinds.
func (ls *liveServer) fullLog(doc string) []server.OpJSON {
	ls.t.Helper()
	var v struct{ Ops []server.OpJSON }
	if code := ls.call(observer, "GET", "/api/docs/"+doc+"/ops", nil, &v); code != http.StatusOK {
		ls.t.Fatalf("ops %s: status %d", doc, code)
	}
	return v.Ops
}

// replayModel replays the op log independently of the server: the text
// and, for every code point, who wrote it, at every revision.
type replayModel struct {
	texts   []string
	writers [][]dr.Author // writers[rev][i]: author of code point i
	ts      []int64
}

func buildModel(t *testing.T, initial string, creator dr.Author, ops []server.OpJSON) replayModel {
	t.Helper()
	m := replayModel{texts: []string{initial}, ts: []int64{0}}
	w := make([]dr.Author, utf8.RuneCountInString(initial))
	for i := range w {
		w[i] = creator
	}
	m.writers = append(m.writers, w)
	text := initial
	for i, op := range ops {
		if op.Rev != i+1 {
			t.Fatalf("log entry %d has rev %d", i, op.Rev)
		}
		var err error
		if text, err = ot.Apply(text, op.Op); err != nil {
			t.Fatalf("replay op %d: %v", op.Rev, err)
		}
		prev := m.writers[len(m.writers)-1]
		next := make([]dr.Author, 0, len(prev)+8)
		pos := 0
		for _, c := range op.Op {
			switch {
			case c.Skip > 0:
				next = append(next, prev[pos:pos+c.Skip]...)
				pos += c.Skip
			case c.Insert != "":
				for range utf8.RuneCountInString(c.Insert) {
					next = append(next, op.By)
				}
			case c.Delete > 0:
				pos += c.Delete
			}
		}
		next = append(next, prev[pos:]...)
		if len(next) != utf8.RuneCountInString(text) {
			t.Fatalf("model: %d writers for %d code points at rev %d", len(next), utf8.RuneCountInString(text), op.Rev)
		}
		m.texts = append(m.texts, text)
		m.writers = append(m.writers, next)
		m.ts = append(m.ts, op.TS)
	}
	return m
}

// checkSpans asserts that spans tile the text of rev and name who wrote
// every code point of it.
func checkSpans(t *testing.T, what string, spans []server.SpanJSON, m replayModel, rev int) {
	t.Helper()
	writers := m.writers[rev]
	at := 0
	for _, sp := range spans {
		if sp.Start != at || sp.End <= sp.Start {
			t.Fatalf("%s: span %+v does not continue at %d (spans must tile the text)", what, sp, at)
		}
		for i := sp.Start; i < sp.End; i++ {
			if sp.End > len(writers) {
				t.Fatalf("%s: span %+v runs past the text (%d code points)", what, sp, len(writers))
			}
			if got := (dr.Author{Delegation: sp.Delegation, Name: sp.Name}); got != writers[i] {
				t.Fatalf("%s: code point %d (%q) attributed to %v, written by %v", what, i, string([]rune(m.texts[rev])[i]), got, writers[i])
			}
		}
		if sp.Rev > rev {
			t.Fatalf("%s: span %+v has a revision after %d", what, sp, rev)
		}
		at = sp.End
	}
	if at != len(writers) {
		t.Fatalf("%s: spans end at %d, the text has %d code points", what, at, len(writers))
	}
}

// applySegments checks a diff's segments against both texts and returns
// the text they turn a into.
func applySegments(t *testing.T, what string, segs []history.Segment, a, b string) string {
	t.Helper()
	var op ot.Op
	var fromA, fromB strings.Builder
	posA, posB := 0, 0
	for _, s := range segs {
		n := utf8.RuneCountInString(s.Text)
		switch s.Op {
		case history.OpEqual:
			if s.From != posA || s.To != posA+n {
				t.Fatalf("%s: equal segment %+v at %d in a", what, s, posA)
			}
			op = append(op, ot.Skip(n))
			fromA.WriteString(s.Text)
			fromB.WriteString(s.Text)
			posA += n
			posB += n
		case history.OpDelete:
			if s.From != posA || s.To != posA+n {
				t.Fatalf("%s: delete segment %+v at %d in a", what, s, posA)
			}
			op = append(op, ot.Delete(n))
			fromA.WriteString(s.Text)
			posA += n
		case history.OpInsert:
			if s.From != posB || s.To != posB+n {
				t.Fatalf("%s: insert segment %+v at %d in b", what, s, posB)
			}
			op = append(op, ot.Insert(s.Text))
			fromB.WriteString(s.Text)
			posB += n
		default:
			t.Fatalf("%s: segment op %q", what, s.Op)
		}
	}
	if fromA.String() != a || fromB.String() != b {
		t.Fatalf("%s: segments do not spell the two texts", what)
	}
	got, err := ot.Apply(a, ot.Normalize(op))
	if err != nil {
		t.Fatalf("%s: segments as an op: %v", what, err)
	}
	return got
}

// TestHistoryMatchesReplay: a random history typed by four clients
// (Bolt store, a snapshot every 8 revisions): the text at every revision
// (by number and by time) is the replay of the op log, the authorship at
// every revision names who typed each code point, before and after a
// restart, and diff(a, b) applied to text(a) gives text(b), its
// insertions attributed to who wrote them.
func TestHistoryMatchesReplay(t *testing.T) {
	t.Parallel()
	store := boltForTest(t)
	cfg := server.Config{SnapshotEvery: 8, RecentOps: 16, Now: tickingClock()}
	ls := startServer(t, store, cfg)
	const initial = "Article 5. States Parties [shall/may] adopt 締約国 measures 😭.\n"
	ls.create("art-5", initial)

	// A server-built op among the typed ones.
	if code := ls.call(canada, "POST", "/api/docs/art-5/brackets/propose", map[string]any{"rev": 0, "group": "b0.26", "text": "must"}, nil); code != http.StatusOK {
		t.Fatalf("propose: status %d", code)
	}
	people := []who{canada, usa, {"EGY", "Omar", "drafter"}, chair}
	edits := 45
	if testing.Short() {
		edits = 15
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, p := range people {
		_, doc := dialOpen(t, ctx, ls.wsURL(), client.Options{ClientID: "h-" + p.delegation, Delegation: p.delegation, Name: p.name, Role: p.role}, "art-5")
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for range edits {
				if err := randomEdit(rng, doc); err != nil {
					t.Errorf("%s: edit: %v", p.delegation, err)
					return
				}
				if rng.IntN(2) == 0 {
					// Often wait for the ack, so that most edits are
					// revisions of their own rather than composed.
					if err := doc.WaitSynced(ctx); err != nil {
						t.Errorf("%s: %v", p.delegation, err)
						return
					}
				}
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond) // the typing pace: the workload, not a wait
			}
			if err := doc.WaitSynced(ctx); err != nil {
				t.Errorf("%s: %v", p.delegation, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	head := ls.get("art-5")
	ops := ls.fullLog("art-5")
	m := buildModel(t, initial, openAuthor, ops)
	if got := m.texts[len(m.texts)-1]; got != head.Text || len(ops) != head.Rev {
		t.Fatalf("the log replays to %q (%d ops), the draft is %q at %d", got, len(ops), head.Text, head.Rev)
	}
	if head.Rev < 30 {
		t.Fatalf("only %d revisions: the test exercises too little", head.Rev)
	}
	t.Logf("%d revisions, %d code points at the head", head.Rev, utf8.RuneCountInString(head.Text))

	for rev := 0; rev <= head.Rev; rev++ {
		v, code := ls.textAt(observer, "art-5", fmt.Sprintf("rev=%d", rev))
		if code != http.StatusOK || v.Rev != rev || v.Text != m.texts[rev] {
			t.Fatalf("text?rev=%d: status %d, rev %d, %q; replay gives %q", rev, code, v.Rev, v.Text, m.texts[rev])
		}
		if rev == 0 {
			continue
		}
		// By time: the last revision committed at or before op rev's time.
		want := rev
		for want < head.Rev && m.ts[want+1] == m.ts[rev] {
			want++
		}
		at := time.UnixMilli(m.ts[rev]).UTC().Format(time.RFC3339Nano)
		for _, q := range []string{"at=" + url.QueryEscape(at), fmt.Sprintf("at=%d", m.ts[rev])} {
			v, code := ls.textAt(observer, "art-5", q)
			if code != http.StatusOK || v.Rev != want || v.Text != m.texts[want] {
				t.Fatalf("text?%s: status %d, rev %d; want rev %d", q, code, v.Rev, want)
			}
		}
	}
	if v, code := ls.textAt(observer, "art-5", "at=1000"); code != http.StatusOK || v.Rev != 0 || v.Text != initial {
		t.Fatalf("text before the first op: status %d, %+v", code, v)
	}

	checkAuthors := func(when string) {
		for rev := 0; rev <= head.Rev; rev++ {
			if rev%3 != 0 && rev != head.Rev && rev != head.Rev-1 {
				continue
			}
			var v authorsView
			if code := ls.call(observer, "GET", fmt.Sprintf("/api/docs/art-5/authors?rev=%d", rev), nil, &v); code != http.StatusOK || v.Rev != rev {
				t.Fatalf("%s: authors?rev=%d: status %d, rev %d", when, rev, code, v.Rev)
			}
			checkSpans(t, fmt.Sprintf("%s: authors at %d", when, rev), v.Spans, m, rev)
			for _, sp := range v.Spans {
				if sp.Initial != (sp.Rev == 0) {
					t.Fatalf("%s: span %+v: initial must mark exactly the initial text", when, sp)
				}
			}
		}
		var v authorsView
		ls.call(observer, "GET", "/api/docs/art-5/authors?detail=rev", nil, &v)
		checkSpans(t, when+": authors by revision at the head", v.Spans, m, head.Rev)
	}
	checkAuthors("live")

	rng := rand.New(rand.NewPCG(3, 3))
	for range 40 {
		a, b := rng.IntN(head.Rev+1), rng.IntN(head.Rev+1)
		var v diffView
		path := fmt.Sprintf("/api/docs/art-5/diff?from=%d&to=%d&by=1", a, b)
		if code := ls.call(observer, "GET", path, nil, &v); code != http.StatusOK {
			t.Fatalf("%s: status %d", path, code)
		}
		what := fmt.Sprintf("diff %d..%d", a, b)
		if got := applySegments(t, what, v.Segments, m.texts[a], m.texts[b]); got != m.texts[b] {
			t.Fatalf("%s applied to text(%d) gives %q, want %q", what, a, got, m.texts[b])
		}
		for _, s := range v.Segments {
			if s.Op != history.OpInsert {
				continue
			}
			if s.Delegation == "" {
				t.Fatalf("%s: insert %+v not attributed", what, s)
			}
			for i := s.From; i < s.To; i++ {
				if w := m.writers[b][i]; w.Delegation != s.Delegation || w.Name != s.Name {
					t.Fatalf("%s: insert %+v attributed to %s, but %v wrote code point %d", what, s, s.Delegation, w, i)
				}
			}
		}
	}

	// A restart: the observer comes back from the snapshots (with their
	// authorship sections) plus the ops after the last one.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	ls.http.Close()
	if err := ls.srv.Shutdown(ctx2); err != nil {
		t.Fatal(err)
	}
	// The authorship section goes with some snapshots: the newest that
	// has one is what the observer starts from.
	snap, err := store.Snapshot(ctx2, "art-5", head.Rev)
	for err == nil && snap.Rev > 0 && snap.Meta[history.MetaSection] == nil {
		snap, err = store.Snapshot(ctx2, "art-5", snap.Rev-1)
	}
	if err != nil {
		t.Fatal(err)
	}
	if snap.Rev == 0 {
		t.Fatalf("no snapshot after revision 0 has an authorship section")
	}
	t.Logf("authorship section in the snapshot of revision %d", snap.Rev)
	ls = startServer(t, store, cfg)
	checkAuthors("after restart")
}

// TestHistoryAuthorsOfKnownClients: what each client typed is attributed
// to its delegation, and the initial text to the draft's creator.
func TestHistoryAuthorsOfKnownClients(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-9", "Base text.")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	open := func(p who) *client.Doc {
		_, d := dialOpen(t, ctx, ls.wsURL(), client.Options{ClientID: "k-" + p.delegation, Delegation: p.delegation, Name: p.name, Role: p.role}, "art-9")
		return d
	}
	can, egy := open(canada), open(who{"EGY", "Omar", "drafter"})
	if err := can.Insert(can.Len(), " Canada wrote this."); err != nil {
		t.Fatal(err)
	}
	if err := can.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if err := egy.WaitRev(ctx, can.Rev()); err != nil {
		t.Fatal(err)
	}
	if err := egy.Insert(0, "مصر كتبت "); err != nil {
		t.Fatal(err)
	}
	if err := egy.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	var v authorsView
	if code := ls.call(observer, "GET", "/api/docs/art-9/authors", nil, &v); code != http.StatusOK {
		t.Fatalf("authors: status %d", code)
	}
	text := []rune(ls.get("art-9").Text)
	got := map[string]string{}
	for _, sp := range v.Spans {
		got[sp.Delegation] += string(text[sp.Start:sp.End])
		if sp.Delegation == openAuthor.Delegation && !sp.Initial {
			t.Errorf("the initial text's span %+v is not marked initial", sp)
		}
	}
	want := map[string]string{"EGY": "مصر كتبت ", openAuthor.Delegation: "Base text.", "CAN": " Canada wrote this."}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("text by delegation %q, want %q", got, want)
	}
}

// TestHistoryImportKeepsConcurrentEdits: a facilitator's revised text,
// made on revision base, is committed as one op of kind import; an edit a
// delegation made on the same revision survives whether it commits before
// or after the import.
func TestHistoryImportKeepsConcurrentEdits(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const base = "1. States shall act.\n2. Parties may report.\n"
	const revised = "1. All States shall act promptly.\n2. Parties may report.\n3. New paragraph.\n"
	for _, order := range []string{"edit-first", "import-first"} {
		t.Run(order, func(t *testing.T) {
			doc := "imp-" + order
			ls.create(doc, base)
			rc := ls.wsAs(canada, "imp-"+order)
			rc.send(fmt.Sprintf(`{"type":"open","doc":%q}`, doc))
			rc.expect("snapshot")
			// CAN types " annually" after "report" (on revision 0).
			at := utf8.RuneCountInString("1. States shall act.\n2. Parties may report")
			edit := ot.Op{ot.Skip(at), ot.Insert(" annually")}
			var imported struct {
				Rev  int   `json:"rev"`
				Base int   `json:"base"`
				Op   ot.Op `json:"op"`
			}
			put := func() {
				if code := ls.call(chair, "PUT", "/api/docs/"+doc+"/text", map[string]any{"text": revised, "rev": 0}, &imported); code != http.StatusOK {
					t.Fatalf("import: status %d", code)
				}
			}
			if order == "edit-first" {
				if rev := rc.edit(doc, 0, 1, edit); rev != 1 {
					t.Fatalf("edit committed as %d", rev)
				}
				put()
			} else {
				put()
				if rev := rc.edit(doc, 0, 1, edit); rev != 2 {
					t.Fatalf("edit committed as %d", rev)
				}
			}
			final := ls.get(doc)
			want := "1. All States shall act promptly.\n2. Parties may report annually.\n3. New paragraph.\n"
			if final.Text != want || final.Rev != 2 {
				t.Fatalf("after import and edit: rev %d %q, want rev 2 %q", final.Rev, final.Text, want)
			}
			if imported.Base != 0 {
				t.Fatalf("import answer %+v", imported)
			}
			log := ls.fullLog(doc)
			if k := log[imported.Rev-1]; k.Kind != dr.KindImport || k.By != (dr.Author{Delegation: chair.delegation, Name: chair.name}) || k.Client != server.SystemClient {
				t.Fatalf("import op %+v, want kind import by the chair from %s", k, server.SystemClient)
			}
			var v authorsView
			ls.call(observer, "GET", "/api/docs/"+doc+"/authors", nil, &v)
			text := []rune(final.Text)
			byDel := map[string]string{}
			for _, sp := range v.Spans {
				byDel[sp.Delegation] += string(text[sp.Start:sp.End])
			}
			if byDel["CAN"] != " annually" || !strings.Contains(byDel["CHAIR"], "3. New paragraph.") {
				t.Fatalf("authorship after import: %q", byDel)
			}
		})
	}
}

// TestHistoryImportConcurrentClient: a client keeps typing while the
// import commits; its edit in flight is transformed, not lost.
func TestHistoryImportConcurrentClient(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("imp-live", "Alpha beta gamma.")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, doc := dialOpen(t, ctx, ls.wsURL(), client.Options{ClientID: "typist", Delegation: "CAN", Name: "Ana", Role: "drafter"}, "imp-live")
	// The typist types one edit at a time, each sent as soon as the last
	// is acknowledged, until three edits after the import's answer: the
	// import lands while edits are in flight, whatever the machine's pace.
	done, imported := make(chan struct{}), make(chan struct{})
	typed := 0
	go func() {
		defer close(done)
		for after := 0; after < 3; typed++ {
			select {
			case <-imported:
				after++
			default:
			}
			if err := doc.Insert(0, fmt.Sprintf("<%d>", typed)); err != nil {
				t.Errorf("insert: %v", err)
				return
			}
			if err := doc.WaitSynced(ctx); err != nil {
				t.Errorf("insert: %v", err)
				return
			}
		}
	}()
	waitUntil(t, "the typing to begin", func() bool { return ls.get("imp-live").Rev >= 3 })
	cur := ls.get("imp-live")
	idx := strings.Index(cur.Text, "Alpha")
	revised := cur.Text[:idx] + "Alpha BETA gamma delta."
	if code := ls.call(chair, "PUT", "/api/docs/imp-live/text", map[string]any{"text": revised, "rev": cur.Rev}, nil); code != http.StatusOK {
		t.Fatalf("import: status %d", code)
	}
	close(imported)
	<-done
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	final := ls.get("imp-live")
	for i := range typed {
		if !strings.Contains(final.Text, fmt.Sprintf("<%d>", i)) {
			t.Fatalf("the client's edit <%d> was lost: %q", i, final.Text)
		}
	}
	if !strings.HasSuffix(final.Text, "Alpha BETA gamma delta.") {
		t.Fatalf("the import was lost: %q", final.Text)
	}
	if doc.Text() != final.Text {
		t.Fatalf("client has %q, server %q", doc.Text(), final.Text)
	}
}

// TestHistoryLabels: facilitators name revisions; names are unique per
// draft and resolve wherever a revision is taken; others may not label.
func TestHistoryLabels(t *testing.T) {
	t.Parallel()
	store := storage.NewMemory()
	ls := startServer(t, store, server.Config{})
	ls.create("art-3", "States [shall/may] act.")
	rc := ls.wsAs(canada, "lab")
	rc.send(`{"type":"open","doc":"art-3"}`)
	rc.expect("snapshot")
	rc.edit("art-3", 0, 1, ot.Op{ot.Skip(23), ot.Insert(" Now.")})
	rc.edit("art-3", 1, 2, ot.Op{ot.Insert("1. ")})

	var l dr.Label
	if code := ls.call(chair, "POST", "/api/docs/art-3/labels", map[string]any{"name": "Chair's text, session 4", "rev": 1}, &l); code != http.StatusCreated {
		t.Fatalf("label: status %d", code)
	}
	if l.Rev != 1 || l.Name != "Chair's text, session 4" || l.By.Delegation != "CHAIR" || l.Draft != "art-3" {
		t.Fatalf("label %+v", l)
	}
	if code := ls.call(chair, "POST", "/api/docs/art-3/labels", map[string]any{"name": "head"}, &l); code != http.StatusCreated || l.Rev != 2 {
		t.Fatalf("label without rev: status %d, %+v (want the head, 2)", code, l)
	}
	var e errView
	for _, tc := range []struct {
		as   who
		body map[string]any
		code int
		err  string
	}{
		{chair, map[string]any{"name": "Chair's text, session 4", "rev": 2}, http.StatusConflict, dr.CodeExists},
		{chair, map[string]any{"name": "17", "rev": 2}, http.StatusBadRequest, dr.CodeBadRequest},
		{chair, map[string]any{"name": "", "rev": 2}, http.StatusBadRequest, dr.CodeBadRequest},
		{chair, map[string]any{"name": "later", "rev": 3}, http.StatusBadRequest, dr.CodeRevAhead},
		{chair, map[string]any{"name": "x\u0000y", "rev": 1}, http.StatusBadRequest, dr.CodeBadRequest},
		{canada, map[string]any{"name": "mine", "rev": 1}, http.StatusForbidden, dr.CodeForbidden},
		{observer, map[string]any{"name": "mine", "rev": 1}, http.StatusForbidden, dr.CodeForbidden},
	} {
		e = errView{}
		if code := ls.call(tc.as, "POST", "/api/docs/art-3/labels", tc.body, &e); code != tc.code || e.Error.Code != tc.err {
			t.Errorf("label %v as %s: %d %s, want %d %s", tc.body, tc.as.role, code, e.Error.Code, tc.code, tc.err)
		}
	}
	var list struct{ Labels []dr.Label }
	ls.call(observer, "GET", "/api/docs/art-3/labels", nil, &list)
	if len(list.Labels) != 2 || list.Labels[0].Rev != 1 || list.Labels[1].Name != "head" {
		t.Fatalf("labels %+v", list.Labels)
	}

	name := url.QueryEscape("Chair's text, session 4")
	texts := []string{"States [shall/may] act.", "States [shall/may] act. Now.", "1. States [shall/may] act. Now."}
	if v, code := ls.textAt(observer, "art-3", "rev="+name); code != http.StatusOK || v.Rev != 1 || v.Text != texts[1] {
		t.Fatalf("text?rev=<label>: %d %+v", code, v)
	}
	var d diffView
	if code := ls.call(observer, "GET", "/api/docs/art-3/diff?from="+name+"&to=head", nil, &d); code != http.StatusOK || d.From != 1 || d.To != 2 {
		t.Fatalf("diff by labels: %d %+v", code, d)
	}
	if got := applySegments(t, "diff by labels", d.Segments, texts[1], texts[2]); got != texts[2] {
		t.Fatalf("diff by labels gives %q", got)
	}
	var a authorsView
	if code := ls.call(observer, "GET", "/api/docs/art-3/authors?rev="+name, nil, &a); code != http.StatusOK || a.Rev != 1 || a.Spans[len(a.Spans)-1].End != utf8.RuneCountInString(texts[1]) {
		t.Fatalf("authors by label: %d %+v", code, a)
	}
	if lv := ls.listing("art-3", -1); lv.Rev != 2 {
		t.Fatalf("listing at head: rev %d", lv.Rev)
	}
	var lv listView
	if code := ls.call(observer, "GET", "/api/docs/art-3/brackets?rev="+name, nil, &lv); code != http.StatusOK || lv.Rev != 1 || len(lv.Groups) != 1 || lv.Groups[0].Span != [2]int{7, 18} {
		t.Fatalf("brackets by label: %d %+v", code, lv)
	}
	if code, body, _ := ls.getRaw(observer, "/api/docs/art-3/export?format=txt&rev="+name); code != http.StatusOK || string(body) != texts[1] {
		t.Fatalf("export by label: %d %q", code, body)
	}
	for _, path := range []string{"/text?rev=nope", "/diff?from=nope", "/authors?rev=nope", "/brackets?rev=nope", "/export?rev=nope"} {
		e = errView{}
		if code := ls.call(observer, "GET", "/api/docs/art-3"+path, nil, &e); code != http.StatusNotFound || e.Error.Code != dr.CodeNotFound {
			t.Errorf("%s: %d %s, want 404 not_found", path, code, e.Error.Code)
		}
	}
	entries, err := store.Audit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	labelled := 0
	for _, en := range entries {
		if en.Action == server.ActionLabel && en.Draft == "art-3" {
			labelled++
		}
	}
	if labelled != 2 {
		t.Fatalf("%d label entries in the audit log, want 2: %+v", labelled, entries)
	}
}

// TestHistoryBadRequests: malformed parameters are refused with a reason.
func TestHistoryBadRequests(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-4", "Text.")
	for _, tc := range []struct {
		path string
		code int
		err  string
	}{
		{"/text?rev=-1", 400, dr.CodeBadRequest},
		{"/text?rev=5", 400, dr.CodeRevAhead},
		{"/text?at=yesterday", 400, dr.CodeBadRequest},
		{"/text?rev=0&at=1", 400, dr.CodeBadRequest},
		{"/diff?from=0&to=9", 400, dr.CodeRevAhead},
		{"/diff?format=xml", 400, dr.CodeBadRequest},
		{"/diff?by=yes", 400, dr.CodeBadRequest},
		{"/authors?detail=x", 400, dr.CodeBadRequest},
		{"/history?limit=-2", 400, dr.CodeBadRequest},
		{"/export?format=pdf", 400, dr.CodeBadRequest},
		{"/export?clean=maybe", 400, dr.CodeBadRequest},
	} {
		var e errView
		if code := ls.call(observer, "GET", "/api/docs/art-4"+tc.path, nil, &e); code != tc.code || e.Error.Code != tc.err || e.Error.Message == "" {
			t.Errorf("%s: %d %q %q, want %d %s", tc.path, code, e.Error.Code, e.Error.Message, tc.code, tc.err)
		}
	}
	for _, path := range []string{"/text", "/diff", "/authors", "/history", "/labels", "/export"} {
		var e errView
		if code := ls.call(observer, "GET", "/api/docs/nope"+path, nil, &e); code != http.StatusNotFound {
			t.Errorf("%s of a missing draft: %d", path, code)
		}
	}
}

// TestHistoryExport: the three formats, HTML escaped, groups footnoted
// with their proposers, and the clean-text check.
func TestHistoryExport(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	const text = "Article <script>alert(1)</script> & States [shall/may] act \\[sic\\]."
	ls.create("ex", text)
	var p struct{ Rev int }
	if code := ls.call(canada, "POST", "/api/docs/ex/brackets/propose", map[string]any{"group": fmt.Sprintf("b0.%d", strings.Index(text, "[")), "text": "<b>must</b>"}, &p); code != http.StatusOK {
		t.Fatalf("propose: %d", code)
	}
	cur := ls.get("ex")
	code, body, ct := ls.getRaw(observer, "/api/docs/ex/export?format=txt")
	if code != 200 || string(body) != cur.Text || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("txt: %d %s %q", code, ct, body)
	}
	code, body, ct = ls.getRaw(observer, "/api/docs/ex/export?format=html")
	html := string(body)
	if code != 200 || !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("html: %d %s", code, ct)
	}
	for _, bad := range []string{"<script", "<b>must"} {
		if strings.Contains(html, bad) {
			t.Fatalf("html export left %q unescaped:\n%s", bad, html)
		}
	}
	for _, good := range []string{"&lt;script&gt;", "&lt;b&gt;must&lt;/b&gt;", "CAN", "<mark"} {
		if !strings.Contains(html, good) {
			t.Fatalf("html export lacks %q:\n%s", good, html)
		}
	}
	code, body, ct = ls.getRaw(observer, "/api/docs/ex/export?format=md&rev=0")
	if code != 200 || !strings.HasPrefix(ct, "text/markdown") || strings.Contains(string(body), "must") || !strings.Contains(string(body), "shall") {
		t.Fatalf("md at rev 0: %d %s\n%s", code, ct, body)
	}
	var e struct {
		Error struct {
			Code      string `json:"code"`
			Rev       int    `json:"rev"`
			Positions []int  `json:"positions"`
		} `json:"error"`
	}
	if code := ls.call(observer, "GET", "/api/docs/ex/export?format=txt&clean=1", nil, &e); code != http.StatusUnprocessableEntity ||
		e.Error.Code != dr.CodeNotClean || fmt.Sprint(e.Error.Positions) != fmt.Sprint(history.Unclean(cur.Text)) || len(e.Error.Positions) != 2 {
		t.Fatalf("clean check: %d %+v (want the positions %v)", code, e, history.Unclean(cur.Text))
	}
	ls.create("ex-clean", "No brackets \\[here\\].")
	if code, body, _ := ls.getRaw(observer, "/api/docs/ex-clean/export?format=txt&clean=1"); code != 200 || string(body) != "No brackets \\[here\\]." {
		t.Fatalf("clean export: %d %q", code, body)
	}
}

// TestHistoryTimeline: entries newest first, a proposal as its own entry
// with its record, labels on the entries they fall in, paging.
func TestHistoryTimeline(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{Now: tickingClock()})
	ls.create("tl", "States [shall/may] act.")
	rc := ls.wsAs(canada, "tl")
	rc.send(`{"type":"open","doc":"tl"}`)
	rc.expect("snapshot")
	rev := 0
	for i := range 5 {
		rev = rc.edit("tl", rev, i+1, ot.Op{ot.Insert("x")})
	}
	if code := ls.call(usa, "POST", "/api/docs/tl/brackets/propose", map[string]any{"group": "b0.7", "text": "must"}, nil); code != http.StatusOK {
		t.Fatalf("propose: %d", code)
	}
	if code := ls.call(chair, "POST", "/api/docs/tl/labels", map[string]any{"name": "after typing", "rev": 3}, nil); code != http.StatusCreated {
		t.Fatalf("label: %d", code)
	}
	type page struct {
		Rev     int
		Entries []server.EntryJSON
		Next    int
	}
	var p page
	if code := ls.call(observer, "GET", "/api/docs/tl/history?limit=50", nil, &p); code != http.StatusOK {
		t.Fatalf("history: %d", code)
	}
	if p.Rev != 6 || len(p.Entries) == 0 || p.Entries[0].To != 6 || p.Next != 0 {
		t.Fatalf("history page %+v", p)
	}
	first := p.Entries[0]
	if first.Kind != dr.KindPropose || first.Proposal == nil || first.Proposal.Text != "must" || first.Proposal.By.Delegation != "USA" {
		t.Fatalf("newest entry %+v, want USA's proposal with its record", first)
	}
	seen := 0
	labelled := false
	for i, e := range p.Entries {
		if i > 0 && e.To >= p.Entries[i-1].From {
			t.Fatalf("entries out of order: %v after %v", e, p.Entries[i-1])
		}
		seen += e.To - e.From + 1
		for _, l := range e.Labels {
			labelled = labelled || (l.Name == "after typing" && e.From <= 3 && 3 <= e.To)
		}
	}
	if seen != 6 || !labelled {
		t.Fatalf("entries cover %d revisions (want 6), label shown %v: %+v", seen, labelled, p.Entries)
	}
	// Page by page, one entry at a time, down to the first.
	var all []server.EntryJSON
	before := 0
	for range 10 {
		var q page
		ls.call(observer, "GET", fmt.Sprintf("/api/docs/tl/history?limit=1&before=%d", before), nil, &q)
		all = append(all, q.Entries...)
		if q.Next == 0 {
			break
		}
		before = q.Next
	}
	if len(all) != len(p.Entries) {
		t.Fatalf("paging one at a time gives %d entries, one page %d", len(all), len(p.Entries))
	}
}

// TestHistoryReplay: a reviewer replays ops from..to over WebSocket at a
// chosen pace, without being subscribed; replay_stop and a new replay cut
// it short; other messages are answered meanwhile.
func TestHistoryReplay(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{SnapshotEvery: 4})
	ls.create("rp", "Start.")
	ed := ls.wsAs(canada, "rp-ed")
	ed.send(`{"type":"open","doc":"rp"}`)
	ed.expect("snapshot")
	rev := 0
	for i := range 20 {
		rev = ed.edit("rp", rev, i+1, ot.Normalize(ot.Op{ot.Skip(i + 1), ot.Insert(string(rune('a' + i)))}))
	}
	log := ls.fullLog("rp")
	m := buildModel(t, "Start.", openAuthor, log)

	rv := ls.wsAs(observer, "rp-rv")
	rv.send(`{"type":"replay","doc":"rp","from":5,"to":12,"interval_ms":0,"ref":"r1"}`)
	start := rv.expect("replay")
	if start["rev"] != 4.0 || start["text"] != m.texts[4] || start["ref"] != "r1" {
		t.Fatalf("replay start %v, want the text at 4 %q", start, m.texts[4])
	}
	text := m.texts[4]
	for want := 5; want <= 12; want++ {
		f := rv.expect("replay")
		if int(f["rev"].(float64)) != want {
			t.Fatalf("replay frame %v, want rev %d", f, want)
		}
		raw, _ := json.Marshal(f["op"])
		var op ot.Op
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(op) != fmt.Sprint(log[want-1].Op) || f["by"].(map[string]any)["delegation"] != "CAN" {
			t.Fatalf("replay frame %v, want op %v", f, log[want-1].Op)
		}
		var err error
		if text, err = ot.Apply(text, op); err != nil {
			t.Fatal(err)
		}
	}
	end := rv.expect("replayed")
	if end["rev"] != 12.0 || end["stopped"] != false || end["ref"] != "r1" || text != m.texts[12] {
		t.Fatalf("replayed %v; text %q, want %q", end, text, m.texts[12])
	}
	// Not subscribed: a new op is not sent to the reviewer.
	rev = ed.edit("rp", rev, 100, ot.Op{ot.Insert("!")})
	rv.send(`{"type":"brackets","doc":"rp","ref":"b"}`)
	if m := rv.expect("brackets"); m["rev"] != float64(rev) {
		t.Fatalf("brackets %v", m)
	}

	// A slow replay: other messages are answered meanwhile, replay_stop
	// ends it with "replayed" (stopped) and nothing after.
	rv.send(`{"type":"replay","doc":"rp","from":1,"interval_ms":300,"ref":"slow"}`)
	if f := rv.expect("replay"); f["rev"] != 0.0 || f["to"] != float64(rev) {
		t.Fatalf("slow replay start %v", f)
	}
	rv.expect("replay") // op 1 follows the text at once
	rv.send(`{"type":"brackets","doc":"rp","ref":"b2"}`)
	if m := rv.expect("brackets"); m["ref"] != "b2" {
		t.Fatalf("brackets during a replay: %v", m)
	}
	rv.send(`{"type":"replay_stop","doc":"rp"}`)
	for {
		f := rv.expect2("replay", "replayed")
		if f["type"] == "replayed" {
			if f["stopped"] != true || f["ref"] != "slow" {
				t.Fatalf("stopped replay ended with %v", f)
			}
			break
		}
	}
	rv.send(`{"type":"nope"}`)
	if e := rv.expect("error"); e["code"] != dr.CodeBadRequest {
		t.Fatalf("after the stop: %v", e)
	}
	// A new replay replaces a running one.
	rv.send(`{"type":"replay","doc":"rp","from":1,"interval_ms":10000,"ref":"a"}`)
	rv.expect("replay")
	rv.expect("replay")
	rv.send(`{"type":"replay","doc":"rp","from":20,"to":21,"interval_ms":0,"ref":"b"}`)
	if f := rv.expect("replayed"); f["ref"] != "a" || f["stopped"] != true || f["rev"] != 1.0 {
		t.Fatalf("replaced replay ended with %v", f)
	}
	if f := rv.expect("replay"); f["ref"] != "b" || f["rev"] != 19.0 {
		t.Fatalf("new replay started with %v", f)
	}
	rv.expect("replay")
	rv.expect("replay")
	if f := rv.expect("replayed"); f["ref"] != "b" || f["rev"] != 21.0 {
		t.Fatalf("new replay ended with %v", f)
	}
	for _, bad := range []string{
		`{"type":"replay","doc":"rp","from":0}`,
		`{"type":"replay","doc":"rp","from":5,"to":4}`,
		`{"type":"replay","doc":"rp","from":1,"to":999}`,
		`{"type":"replay","doc":"rp","from":1,"interval_ms":-1}`,
		`{"type":"replay","doc":"rp","from":"x"}`,
		`{"type":"replay","doc":"nope","from":1}`,
	} {
		rv.send(bad)
		if e := rv.expect("error"); e["code"] == dr.CodeInternal {
			t.Fatalf("%s: %v", bad, e)
		}
	}
}

// expect2 reads the next message, which must be of one of two types.
func (rc *rawConn) expect2(a, b string) map[string]any {
	rc.t.Helper()
	m, closed := rc.next()
	if closed || (m["type"] != a && m["type"] != b) {
		rc.t.Fatalf("got %v (closed %v), want %s or %s", m, closed, a, b)
	}
	return m
}

// TestHistoryReplayFullSpeed: a replay at interval 0 of more ops than the
// connection's queue holds arrives whole; the connection is not dropped
// as a slow subscriber.
func TestHistoryReplayFullSpeed(t *testing.T) {
	t.Parallel()
	store := storage.NewMemory()
	ls := startServer(t, store, server.Config{SendQueue: 16})
	ls.create("fast", "")
	ctx := context.Background()
	var c dr.Commit
	for i := 1; i <= 500; i++ {
		c.Ops = append(c.Ops, dr.Op{Rev: i, Op: ot.Op{ot.Insert("x")}, Client: "seed", Seq: uint64(i), Principal: "seed", By: canada.author()})
	}
	if err := store.Commit(ctx, "fast", 0, c); err != nil {
		t.Fatal(err)
	}
	rv := ls.wsAs(observer, "fast-rv")
	rv.send(`{"type":"replay","doc":"fast","from":1,"interval_ms":0}`)
	rv.expect("replay")
	for want := 1; want <= 500; want++ {
		if f := rv.expect("replay"); f["rev"] != float64(want) {
			t.Fatalf("frame %v, want rev %d", f, want)
		}
	}
	if f := rv.expect("replayed"); f["rev"] != 500.0 {
		t.Fatalf("replayed %v", f)
	}
}

func (w who) author() dr.Author { return dr.Author{Delegation: w.delegation, Name: w.name} }

// TestHistoryRoles: reviewers and drafters read every history endpoint;
// labels and imports are refused to them and change nothing.
func TestHistoryRoles(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("roles", "Text [a/b].")
	if code := ls.call(chair, "POST", "/api/docs/roles/labels", map[string]any{"name": "v1", "rev": 0}, nil); code != http.StatusCreated {
		t.Fatalf("label: %d", code)
	}
	for _, p := range []who{observer, canada, chair} {
		for _, path := range []string{"/text?rev=v1", "/text?at=1", "/diff?from=0", "/diff?from=0&format=html", "/authors", "/history", "/labels", "/export?format=html", "/export?format=md", "/brackets?rev=v1"} {
			if code, body, _ := ls.getRaw(p, "/api/docs/roles"+path); code != http.StatusOK {
				t.Errorf("%s GET %s: %d %s", p.role, path, code, body)
			}
		}
	}
	before := ls.get("roles")
	for _, p := range []who{observer, canada} {
		var e errView
		if code := ls.call(p, "POST", "/api/docs/roles/labels", map[string]any{"name": "mine", "rev": 0}, &e); code != http.StatusForbidden || e.Error.Code != dr.CodeForbidden {
			t.Errorf("%s label: %d %+v", p.role, code, e)
		}
		e = errView{}
		if code := ls.call(p, "PUT", "/api/docs/roles/text", map[string]any{"text": "Replaced.", "rev": 0}, &e); code != http.StatusForbidden || e.Error.Code != dr.CodeForbidden {
			t.Errorf("%s import: %d %+v", p.role, code, e)
		}
	}
	var list struct{ Labels []dr.Label }
	ls.call(observer, "GET", "/api/docs/roles/labels", nil, &list)
	if after := ls.get("roles"); after != before || len(list.Labels) != 1 {
		t.Fatalf("refused requests changed the draft: %+v -> %+v, labels %+v", before, after, list.Labels)
	}
	var e errView
	for _, body := range []map[string]any{{"text": "x"}, {"rev": 0}, {"text": "x", "rev": 7}, {"text": "x", "rev": -1}} {
		if code := ls.call(chair, "PUT", "/api/docs/roles/text", body, &e); code != http.StatusBadRequest {
			t.Errorf("import %v: %d", body, code)
		}
	}
	if after := ls.get("roles"); after != before {
		t.Fatalf("refused imports changed the draft")
	}
}

// TestHistoryOnRedisNodes: two server nodes sharing a Redis store, a
// delegation typing on each and an import through one of them: both nodes
// give the same text at every revision and the same authorship at the
// head (each from its own live observer, fed by the other node's ops),
// and labels made on one resolve on the other.
func TestHistoryOnRedisNodes(t *testing.T) {
	t.Parallel()
	redisURL := redisForTest(t)
	prefix := fmt.Sprintf("drtest-history-%d:", time.Now().UnixNano())
	node := func() *liveServer {
		st := redisStore(t, redisURL, prefix)
		return startServer(t, st, server.Config{SnapshotEvery: 3, Fanout: st})
	}
	a, b := node(), node()
	const initial = "Article 8. The Parties shall cooperate.\n"
	a.create("art-8", initial)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var docs []*client.Doc
	var wg sync.WaitGroup
	for i, n := range []*liveServer{a, b} {
		p := []who{canada, usa}[i]
		_, d := dialOpen(t, ctx, n.wsURL(), client.Options{ClientID: "r-" + p.delegation, Delegation: p.delegation, Name: p.name, Role: p.role}, "art-8")
		docs = append(docs, d)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			for range 25 {
				if err := randomEdit(rng, d); err != nil {
					t.Errorf("edit: %v", err)
					return
				}
				if err := d.WaitSynced(ctx); err != nil {
					t.Errorf("sync: %v", err)
					return
				}
			}
		}()
	}
	// The import lands while both clients type.
	waitUntil(t, "typing on both nodes", func() bool { return b.get("art-8").Rev >= 3 })
	cur := b.get("art-8")
	if code := b.call(chair, "PUT", "/api/docs/art-8/text", map[string]any{"text": "Preamble.\n" + cur.Text, "rev": cur.Rev}, nil); code != http.StatusOK {
		t.Fatalf("import on B: %d", code)
	}
	wg.Wait()
	if code := a.call(chair, "POST", "/api/docs/art-8/labels", map[string]any{"name": "typed on two nodes", "rev": 7}, nil); code != http.StatusCreated {
		t.Fatalf("label on A: %d", code)
	}
	head := a.get("art-8")
	for _, d := range docs {
		if err := d.WaitRev(ctx, head.Rev); err != nil {
			t.Fatal(err)
		}
	}
	// Both nodes' drafts have caught up with the head before asking for
	// the live authorship.
	waitUntil(t, fmt.Sprintf("both nodes at revision %d", head.Rev), func() bool {
		return b.get("art-8").Rev == head.Rev && a.get("art-8").Rev == head.Rev
	})
	log := a.fullLog("art-8")
	m := buildModel(t, initial, openAuthor, log)
	if m.texts[head.Rev] != head.Text {
		t.Fatalf("head %q, the log replays to %q", head.Text, m.texts[head.Rev])
	}
	imports := 0
	for _, op := range log {
		if op.Kind == dr.KindImport {
			imports++
		}
	}
	if imports != 1 {
		t.Fatalf("%d imports in the log, want 1", imports)
	}
	for _, n := range []*liveServer{a, b} {
		for rev := 0; rev <= head.Rev; rev++ {
			if v, code := n.textAt(observer, "art-8", fmt.Sprintf("rev=%d", rev)); code != http.StatusOK || v.Text != m.texts[rev] {
				t.Fatalf("text at %d: %d %q, want %q", rev, code, v.Text, m.texts[rev])
			}
		}
		var v authorsView
		n.call(observer, "GET", "/api/docs/art-8/authors", nil, &v)
		checkSpans(t, "authors at the head", v.Spans, m, head.Rev)
		if tv, code := n.textAt(observer, "art-8", "rev="+url.QueryEscape("typed on two nodes")); code != http.StatusOK || tv.Rev != 7 || tv.Text != m.texts[7] {
			t.Fatalf("label on a node: %d %+v", code, tv)
		}
	}
}
