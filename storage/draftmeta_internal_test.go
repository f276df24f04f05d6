package storage

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/draftroom/draftroom/dr"
	bolt "go.etcd.io/bbolt"
)

// TestBoltPatchDraftOldRecord: a metadata record written before drafts
// could be archived (no "archived" field) reads as not archived, takes a
// patch, and the patch survives a reopen.
func TestBoltPatchDraftOldRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	b, err := OpenBolt(path, BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateDraft(ctx, dr.Draft{ID: "art-1", Title: "Old", Created: 1}, "text"); err != nil {
		t.Fatal(err)
	}
	old := []byte(`{"id":"art-1","title":"Old","created":1,"updated":1,"rev":0,"by":{"delegation":"CAN","name":"Ana"}}`)
	if err := b.write(ctx, "old record", func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDrafts).Bucket([]byte("art-1")).Put(keyMeta, old)
	}); err != nil {
		t.Fatal(err)
	}
	d, err := b.Draft(ctx, "art-1")
	if err != nil || d.Archived || d.Title != "Old" || d.By.Name != "Ana" {
		t.Fatalf("old record: got %+v, %v; want title Old, not archived", d, err)
	}
	yes, title := true, "New"
	if _, err := b.PatchDraft(ctx, "art-1", dr.DraftPatch{Title: &title, Archived: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = OpenBolt(path, BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err = b.Draft(ctx, "art-1")
	if err != nil || !d.Archived || d.Title != "New" || d.By.Name != "Ana" {
		t.Fatalf("after patch and reopen: got %+v, %v; want title New, archived", d, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if rep, err := VerifyBolt(path); err != nil {
		t.Fatalf("VerifyBolt after patch: %v %v", rep, err)
	}
}
