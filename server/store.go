package server

import (
	"context"

	"github.com/draftroom/draftroom/storage"
)

// Store is the part of the storage method set (docs/DESIGN.md) the server
// calls. storage.Memory, storage.Bolt and storage.Redis implement it; the
// store's owner (main) closes it after Shutdown.
type Store interface {
	CreateDraft(ctx context.Context, d storage.Draft, text string) error
	Draft(ctx context.Context, id string) (storage.Draft, error)
	Drafts(ctx context.Context) ([]storage.Draft, error)
	PatchDraft(ctx context.Context, id string, p storage.DraftPatch) (storage.Draft, error)
	Commit(ctx context.Context, id string, base int, c storage.Commit) error
	Ops(ctx context.Context, id string, from, to int) ([]storage.Op, error)
	Snapshot(ctx context.Context, id string, rev int) (storage.Snapshot, error)
	PutSnapshot(ctx context.Context, id string, s storage.Snapshot) error
	SeqRev(ctx context.Context, id, principal, client string, seq uint64, after int) (int, error)
}
