package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// FuzzHistoryRequests sends arbitrary parameters and bodies to the history
// endpoints as each role. Nothing may fail as internal; reading changes
// nothing and answers what a replay of the log gives; a label or an
// import changes the draft exactly when it is accepted, and only for a
// facilitator.
func FuzzHistoryRequests(f *testing.F) {
	for _, s := range []struct {
		endpoint, role byte
		a, b           string
		body           string
	}{
		{0, 2, "3", "", ""}, {0, 2, "", "1795000000100", ""}, {0, 2, "v1", "", ""}, {0, 2, "-1", "2026-11-23T10:00:00Z", ""},
		{0, 1, "99", "", ""}, {0, 0, "", "not a time", ""}, {0, 0, "007", "", ""},
		{1, 2, "0", "4", "1"}, {1, 2, "4", "0", "1"}, {1, 1, "v1", "", "html"}, {1, 0, "x", "y", "z"},
		{2, 2, "2", "rev", ""}, {2, 1, "", "author", ""}, {2, 0, "v1", "x", ""},
		{3, 2, "3", "1", ""}, {3, 2, "", "0", ""}, {3, 1, "a", "b", ""},
		{4, 2, "", "", ""},
		{5, 2, "1", "html", "1"}, {5, 1, "v1", "md", ""}, {5, 0, "", "pdf", ""}, {5, 0, "", "txt", "x"},
		{6, 0, "", "", `{"name":"session 2","rev":2}`}, {6, 0, "", "", `{"name":"12"}`}, {6, 1, "", "", `{"name":"mine","rev":0}`},
		{6, 0, "", "", `{"name":" x","rev":0}`}, {6, 0, "", "", `{"name":"v1"}`}, {6, 0, "", "", `[`},
		{7, 0, "", "", `{"text":"Fresh [text].","rev":4}`}, {7, 0, "", "", `{"text":"Old base.","rev":1}`},
		{7, 1, "", "", `{"text":"x","rev":0}`}, {7, 0, "", "", `{"text":"x"}`}, {7, 0, "", "", `{"text":"x","rev":-4}`},
		{7, 0, "", "", "\xff"}, {7, 0, "", "", `{"text":"😭😭","rev":99}`},
	} {
		f.Add(s.endpoint, s.role, s.a, s.b, s.body)
	}
	store := storage.NewMemory()
	s := New(Config{Open: true, MaxDraftLen: 2000}, store, nil)
	f.Cleanup(func() { s.Shutdown(context.Background()) })
	h := s.Handler()
	ctx := context.Background()
	roles := []string{dr.RoleFacilitator, dr.RoleDrafter, dr.RoleReviewer}
	n := 0
	type state struct {
		text   string
		rev    int
		labels int
	}
	stateOf := func(t *testing.T, doc string) state {
		var st state
		if err := s.Do(ctx, doc, func(ds *DraftState) error {
			st.text, st.rev = ds.Text().String(), ds.Rev()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		ls, _ := store.Labels(ctx, doc)
		st.labels = len(ls)
		return st
	}
	f.Fuzz(func(t *testing.T, endpoint, role byte, a, b, body string) {
		// A fresh draft with a few revisions and a label now and then.
		doc := fmt.Sprintf("h%d", n/20)
		if n%20 == 0 {
			if err := store.CreateDraft(ctx, dr.Draft{ID: doc, Created: 1795000000000}, "Text [a/b] <i>."); err != nil {
				t.Fatal(err)
			}
			var c dr.Commit
			for i := 1; i <= 4; i++ {
				c.Ops = append(c.Ops, dr.Op{Rev: i, Op: ot.Op{ot.Insert(fmt.Sprint(i))}, Client: "seed", Seq: uint64(i),
					Principal: "seed", By: dr.Author{Delegation: "CAN", Name: "Ana"}, TS: 1795000000000 + int64(i)*100})
			}
			if err := store.Commit(ctx, doc, 0, c); err != nil {
				t.Fatal(err)
			}
			if err := store.PutLabel(ctx, dr.Label{Draft: doc, Name: "v1", Rev: 1}); err != nil {
				t.Fatal(err)
			}
		}
		n++
		before := stateOf(t, doc)
		q := url.Values{}
		method, path := "GET", ""
		switch endpoint % 8 {
		case 0:
			path = "text"
			q.Set("rev", a)
			q.Set("at", b)
		case 1:
			path = "diff"
			q.Set("from", a)
			q.Set("to", b)
			q.Set("format", body)
			q.Set("by", "1")
		case 2:
			path = "authors"
			q.Set("rev", a)
			q.Set("detail", b)
		case 3:
			path = "history"
			q.Set("before", a)
			q.Set("limit", b)
		case 4:
			path = "labels"
		case 5:
			path = "export"
			q.Set("rev", a)
			q.Set("format", b)
			q.Set("clean", body)
		case 6:
			method, path = "POST", "labels"
		case 7:
			method, path = "PUT", "text"
		}
		for k, v := range q {
			if v[0] == "" {
				q.Del(k)
			}
		}
		target := "/api/docs/" + doc + "/" + path
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		var rb *bytes.Reader
		if method != "GET" {
			rb = bytes.NewReader([]byte(body))
		} else {
			rb = bytes.NewReader(nil)
		}
		req := httptest.NewRequest(method, target, rb)
		req.Header.Set(HeaderDelegation, "CHAIR")
		req.Header.Set(HeaderName, "Fuzz")
		req.Header.Set(HeaderRole, roles[int(role)%len(roles)])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s %q: internal error %s", method, target, body, rec.Body)
		}
		after := stateOf(t, doc)
		ok := rec.Code/100 == 2
		switch {
		case method == "GET" || !ok:
			if after != before {
				t.Fatalf("%s %s %q (%d) changed the draft: %+v -> %+v", method, target, body, rec.Code, before, after)
			}
		case path == "labels":
			if role%3 != 0 || after.labels != before.labels+1 || after.rev != before.rev {
				t.Fatalf("label %q as %s accepted: %+v -> %+v", body, roles[role%3], before, after)
			}
		default: // import
			var req struct{ Text string }
			json.Unmarshal([]byte(body), &req)
			if role%3 != 0 || after.rev != before.rev+1 || utf8.RuneCountInString(after.text) > 2000 {
				t.Fatalf("import %q as %s accepted: %+v -> %+v", body, roles[role%3], before, after)
			}
			var out struct{ Base int }
			json.Unmarshal(rec.Body.Bytes(), &out)
			if out.Base == before.rev && after.text != req.Text {
				t.Fatalf("import on the current revision gives %q, want %q", after.text, req.Text)
			}
		}
		if !ok || method != "GET" {
			return
		}
		switch path {
		case "text":
			var v struct {
				Rev  int
				Text string
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
			want, err := s.TextAt(ctx, doc, v.Rev)
			if err != nil || want != v.Text {
				t.Fatalf("%s: text %q at %d, replay gives %q (%v)", target, v.Text, v.Rev, want, err)
			}
		case "diff":
			if q.Get("format") == "html" {
				return
			}
			var v struct {
				From, To int
				Segments []history.Segment
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
			ta, _ := s.TextAt(ctx, doc, v.From)
			tb, _ := s.TextAt(ctx, doc, v.To)
			var op ot.Op
			for _, sg := range v.Segments {
				switch sg.Op {
				case history.OpEqual:
					op = append(op, ot.Skip(utf8.RuneCountInString(sg.Text)))
				case history.OpDelete:
					op = append(op, ot.Delete(utf8.RuneCountInString(sg.Text)))
				case history.OpInsert:
					op = append(op, ot.Insert(sg.Text))
				}
			}
			if got, err := ot.Apply(ta, ot.Normalize(op)); err != nil || got != tb {
				t.Fatalf("%s: the segments give %q, want %q (%v)", target, got, tb, err)
			}
		}
	})
}

// TestAuthorsWhenObserverBroken: a live authorship that an op did not fit
// (a bug) is never shown; the answer is rebuilt from the store.
func TestAuthorsWhenObserverBroken(t *testing.T) {
	store := storage.NewMemory()
	s := New(Config{Open: true}, store, nil)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	ctx := context.Background()
	if err := store.CreateDraft(ctx, dr.Draft{ID: "br", By: dr.Author{Delegation: "CHAIR", Name: "Maria"}}, "Hello"); err != nil {
		t.Fatal(err)
	}
	can := dr.Author{Delegation: "CAN", Name: "Ana"}
	if err := store.Commit(ctx, "br", 0, dr.Commit{Ops: []dr.Op{{Rev: 1, Op: ot.Op{ot.Skip(5), ot.Insert(" world")}, Client: "c", Seq: 1, Principal: "p", By: can}}}); err != nil {
		t.Fatal(err)
	}
	get := func() []SpanJSON {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/api/docs/br/authors", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("authors: %d %s", rec.Code, rec.Body)
		}
		var v struct{ Spans []SpanJSON }
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return v.Spans
	}
	want := []SpanJSON{{Start: 0, End: 5, Rev: 0, Delegation: "CHAIR", Name: "Maria", Initial: true}, {Start: 5, End: 11, Rev: 1, Delegation: "CAN", Name: "Ana"}}
	if got := get(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("live spans %+v, want %+v", got, want)
	}
	err := s.Do(ctx, "br", func(st *DraftState) error {
		o := st.Observer(history.MetaSection).(*authorsObserver)
		o.Apply(ot.Op{ot.Skip(999), ot.Insert("x")}, 2, can) // does not fit: breaks it
		if o.Err() == nil {
			t.Error("the observer took an op that does not fit")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("spans with a broken observer %+v, want %+v (from the store)", got, want)
	}
}
