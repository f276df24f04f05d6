package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestListDraftsWithBrackets: GET /api/docs?brackets=1 gives every draft's
// open groups and unbalanced brackets in one answer; without the parameter
// the list is as before (no counts).
func TestListDraftsWithBrackets(t *testing.T) {
	t.Parallel()
	srv := server.New(server.Config{Open: true}, storage.NewMemory(), nil)
	hs := serveHTTP(t, srv)
	texts := map[string]string{
		"art-1": "The Parties [shall/should] act [fully].",
		"art-2": "Clean text.",
		"art-3": "A stray ] and an [unclosed one.",
	}
	for id, text := range texts {
		body, _ := json.Marshal(map[string]string{"id": id, "title": strings.ToUpper(id), "text": text})
		res, err := http.Post(hs.URL+"/api/docs", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create %s: HTTP %d", id, res.StatusCode)
		}
	}
	type doc struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Open        *int   `json:"open"`
		Diagnostics *int   `json:"diagnostics"`
	}
	get := func(query string) []doc {
		res, err := http.Get(hs.URL + "/api/docs" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/docs%s: HTTP %d", query, res.StatusCode)
		}
		var out struct{ Docs []doc }
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Docs
	}
	docs := get("?brackets=1")
	want := map[string][2]int{"art-1": {2, 0}, "art-2": {0, 0}, "art-3": {0, 2}}
	if len(docs) != 3 {
		t.Fatalf("got %d drafts, want 3: %+v", len(docs), docs)
	}
	for _, d := range docs {
		if d.Open == nil || d.Diagnostics == nil {
			t.Fatalf("%s has no counts: %+v", d.ID, d)
		}
		if got := [2]int{*d.Open, *d.Diagnostics}; got != want[d.ID] {
			t.Errorf("%s: open, diagnostics = %v, want %v", d.ID, got, want[d.ID])
		}
		if d.Title != strings.ToUpper(d.ID) {
			t.Errorf("%s: title %q", d.ID, d.Title)
		}
	}
	for _, d := range get("") {
		if d.Open != nil {
			t.Errorf("without ?brackets=1 %s has a count", d.ID)
		}
	}
}
