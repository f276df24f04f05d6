package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

type listedDraft struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Rev      int    `json:"rev"`
	Archived bool   `json:"archived"`
}

func (ls *liveServer) listed(id string) listedDraft {
	ls.t.Helper()
	var out struct{ Docs []listedDraft }
	if code := ls.call(chair, "GET", "/api/docs?brackets=1", nil, &out); code != http.StatusOK {
		ls.t.Fatalf("list: status %d", code)
	}
	for _, d := range out.Docs {
		if d.ID == id {
			return d
		}
	}
	ls.t.Fatalf("draft %s not listed: %+v", id, out.Docs)
	return listedDraft{}
}

// TestPatchDraft: a facilitator renames and archives a draft over PATCH
// /api/docs/{id}; the id and text stay, the list shows the new title and
// the flag, the audit log records each change; others may not, and bad
// requests change nothing.
func TestPatchDraft(t *testing.T) {
	t.Parallel()
	store := storage.NewMemory()
	ls := startServer(t, store, server.Config{})
	ls.create("art-5", "The Parties shall act.")

	var got listedDraft
	if code := ls.call(chair, "PATCH", "/api/docs/art-5", map[string]any{"title": "  Article 5 — المادة ٥  "}, &got); code != http.StatusOK {
		t.Fatalf("rename: status %d", code)
	}
	if got.ID != "art-5" || got.Title != "Article 5 — المادة ٥" || got.Archived {
		t.Errorf("rename answered %+v", got)
	}
	if v := ls.get("art-5"); v.Title != "Article 5 — المادة ٥" || v.Text != "The Parties shall act." {
		t.Errorf("GET after rename: %+v", v)
	}
	if code := ls.call(chair, "PATCH", "/api/docs/art-5", map[string]any{"archived": true}, &got); code != http.StatusOK {
		t.Fatalf("archive: status %d", code)
	}
	if l := ls.listed("art-5"); !l.Archived || l.Title != "Article 5 — المادة ٥" {
		t.Errorf("listed after archive: %+v", l)
	}

	before := ls.listed("art-5")
	for _, tc := range []struct {
		what string
		as   who
		path string
		body any
		want int
	}{
		{"drafter", canada, "/api/docs/art-5", map[string]any{"archived": false}, http.StatusForbidden},
		{"reviewer", observer, "/api/docs/art-5", map[string]any{"title": "x"}, http.StatusForbidden},
		{"empty title", chair, "/api/docs/art-5", map[string]any{"title": " ", "archived": false}, http.StatusBadRequest},
		{"long title", chair, "/api/docs/art-5", map[string]any{"title": strings.Repeat("ع", 201)}, http.StatusBadRequest},
		{"nothing", chair, "/api/docs/art-5", map[string]any{}, http.StatusBadRequest},
		{"wrong type", chair, "/api/docs/art-5", map[string]any{"archived": "yes"}, http.StatusBadRequest},
		{"unknown draft", chair, "/api/docs/nope", map[string]any{"archived": true}, http.StatusNotFound},
	} {
		var e struct {
			Error struct{ Code, Message string }
		}
		if code := ls.call(tc.as, "PATCH", tc.path, tc.body, &e); code != tc.want || e.Error.Code == "" {
			t.Errorf("%s: status %d %+v, want %d with a code", tc.what, code, e, tc.want)
		}
	}
	if after := ls.listed("art-5"); after != before {
		t.Errorf("refused patches changed the draft: %+v, was %+v", after, before)
	}

	entries, err := store.Audit(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Draft == "art-5" && e.Action != server.ActionDraftCreate {
			actions = append(actions, e.Action+" by "+e.Actor.Delegation)
		}
	}
	want := []string{server.ActionDraftRename + " by CHAIR", server.ActionDraftArchive + " by CHAIR"}
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Errorf("audit: got %q, want %q", actions, want)
	}
}

// TestArchivedReadOnlyForDrafters: once a draft is archived (while a
// drafter has it open), the drafter's edits and proposals are refused
// with forbidden and the text stays; a facilitator still edits it, and
// after unarchiving the drafter edits again.
func TestArchivedReadOnlyForDrafters(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("art-9", "Text.")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, doc := dialOpen(t, ctx, ls.wsURL(), client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter"}, "art-9")
	_, chairDoc := dialOpen(t, ctx, ls.wsURL(), client.Options{Delegation: "CHAIR", Name: "Maria", Role: "facilitator"}, "art-9")

	if code := ls.call(chair, "PATCH", "/api/docs/art-9", map[string]any{"archived": true}, nil); code != http.StatusOK {
		t.Fatalf("archive: status %d", code)
	}
	if err := doc.Insert(0, "X"); err != nil {
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatalf("WaitSynced: %v", err)
	}
	if r := doc.Refused(); r == nil || r.Code != "forbidden" || !strings.Contains(r.Message, "archived") {
		t.Errorf("drafter's edit on an archived draft: refusal %+v, want forbidden (archived)", r)
	}
	var e struct{ Error struct{ Code string } }
	if code := ls.call(canada, "POST", "/api/docs/art-9/brackets/propose", map[string]any{"rev": 0, "span": []int{0, 4}, "text": "Words"}, &e); code != http.StatusForbidden || e.Error.Code != "forbidden" {
		t.Errorf("drafter's proposal on an archived draft: status %d %+v, want 403", code, e)
	}
	if v := ls.get("art-9"); v.Text != "Text." {
		t.Fatalf("archived draft changed: %q", v.Text)
	}

	if err := chairDoc.Insert(5, " Chair."); err != nil {
		t.Fatal(err)
	}
	if err := chairDoc.WaitSynced(ctx); err != nil || chairDoc.Refused() != nil {
		t.Fatalf("facilitator's edit: %v %+v", err, chairDoc.Refused())
	}
	if code := ls.call(chair, "PATCH", "/api/docs/art-9", map[string]any{"archived": false}, nil); code != http.StatusOK {
		t.Fatalf("unarchive: status %d", code)
	}
	doc.DismissRefused()
	if err := doc.WaitRev(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := doc.Insert(0, "Y"); err != nil {
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil || doc.Refused() != nil {
		t.Fatalf("drafter's edit after unarchive: %v %+v", err, doc.Refused())
	}
	if v := ls.get("art-9"); v.Text != "YText. Chair." {
		t.Errorf("text: got %q, want %q", v.Text, "YText. Chair.")
	}
}

// TestHistoryEntryAt: GET /api/docs/{id}/history entries carry "at", the
// code point where the entry's first change was made.
func TestHistoryEntryAt(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{})
	ls.create("at", "Article 5\n1. Ünïcode 😭 text.\n2. More.")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, doc := dialOpen(t, ctx, ls.wsURL(), client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter"}, "at")
	if err := doc.Insert(24, "new "); err != nil { // after the emoji, in code points
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Entries []map[string]any `json:"entries"`
	}
	if code := ls.call(observer, "GET", "/api/docs/at/history?limit=5", nil, &raw); code != http.StatusOK || len(raw.Entries) != 1 {
		t.Fatalf("history: %d %+v", code, raw)
	}
	if at, ok := raw.Entries[0]["at"].(float64); !ok || at != 24 {
		t.Errorf("entry %v: at = %v, want 24", raw.Entries[0], raw.Entries[0]["at"])
	}
}
