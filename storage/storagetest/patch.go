package storagetest

import (
	"context"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

func testPatchDraft(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "art-5", multilingo)
	mustCreate(t, s, "other", "x")
	mustCommit(t, s, "art-5", 0, dr.Commit{Ops: run(0, 2, "c")})
	before := mustDraft(t, s, "art-5")
	if before.Archived {
		t.Fatalf("new draft %+v: archived, want not", before)
	}

	title := "Article 5 — «Finance» المادة ٥ 🇨🇦"
	got, err := s.PatchDraft(ctx, "art-5", dr.DraftPatch{Title: &title})
	if err != nil {
		t.Fatalf("PatchDraft title: %v", err)
	}
	want := before
	want.Title = title
	if got != want {
		t.Errorf("PatchDraft title: got %+v, want %+v", got, want)
	}
	if d := mustDraft(t, s, "art-5"); d != want {
		t.Errorf("Draft after rename: got %+v, want %+v", d, want)
	}

	yes, no := true, false
	got, err = s.PatchDraft(ctx, "art-5", dr.DraftPatch{Archived: &yes})
	if err != nil {
		t.Fatalf("PatchDraft archive: %v", err)
	}
	want.Archived = true
	if got != want {
		t.Errorf("PatchDraft archive: got %+v, want %+v (title kept)", got, want)
	}

	// A commit after the patch keeps title and flag.
	mustCommit(t, s, "art-5", 2, dr.Commit{Ops: run(2, 1, "c")})
	d := mustDraft(t, s, "art-5")
	if d.Title != title || !d.Archived || d.Rev != 3 {
		t.Errorf("Draft after a commit: got %+v, want title %q, archived, rev 3", d, title)
	}
	drafts, err := s.Drafts(ctx)
	if err != nil {
		t.Fatalf("Drafts: %v", err)
	}
	for _, d := range drafts {
		switch d.ID {
		case "art-5":
			if d.Title != title || !d.Archived {
				t.Errorf("Drafts entry %+v: want title %q, archived", d, title)
			}
		case "other":
			if d.Title != "Draft other" || d.Archived {
				t.Errorf("Drafts entry %+v: an untouched draft changed", d)
			}
		}
	}

	// Both at once, then unarchive.
	title2 := "Article 5 (rev.)"
	got, err = s.PatchDraft(ctx, "art-5", dr.DraftPatch{Title: &title2, Archived: &no})
	if err != nil {
		t.Fatalf("PatchDraft both: %v", err)
	}
	if got.Title != title2 || got.Archived || got.Rev != 3 || got.ID != "art-5" || got.Created != before.Created || got.By != before.By {
		t.Errorf("PatchDraft both: got %+v, want title %q, not archived, rev 3, rest as created", got, title2)
	}

	// Refusals change nothing.
	head := mustDraft(t, s, "art-5")
	empty, blank, long := "", " \t ", strings.Repeat("é", dr.MaxTitleLen+1)
	for _, tc := range []struct {
		what string
		id   string
		p    dr.DraftPatch
		want error
	}{
		{"nothing", "art-5", dr.DraftPatch{}, storage.ErrInvalid},
		{"empty title", "art-5", dr.DraftPatch{Title: &empty, Archived: &yes}, storage.ErrInvalid},
		{"blank title", "art-5", dr.DraftPatch{Title: &blank}, storage.ErrInvalid},
		{"long title", "art-5", dr.DraftPatch{Title: &long}, storage.ErrInvalid},
		{"unknown draft", "nope", dr.DraftPatch{Archived: &yes}, storage.ErrNotFound},
	} {
		_, err := s.PatchDraft(ctx, tc.id, tc.p)
		wantErr(t, "PatchDraft "+tc.what, err, tc.want)
	}
	if d := mustDraft(t, s, "art-5"); d != head {
		t.Errorf("Draft after refused patches: got %+v, want %+v", d, head)
	}
	if _, err := s.Draft(ctx, "nope"); err == nil {
		t.Errorf("PatchDraft of an unknown draft created it")
	}
}
