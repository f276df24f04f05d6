package server

import (
	"context"

	"github.com/draftroom/draftroom/dr"
)

// Store is the part of the storage method set (docs/DESIGN.md) the server
// calls. storage.Memory, storage.Bolt and storage.Redis implement it; the
// store's owner (main) closes it after Shutdown.
type Store interface {
	CreateDraft(ctx context.Context, d dr.Draft, text string) error
	Draft(ctx context.Context, id string) (dr.Draft, error)
	Drafts(ctx context.Context) ([]dr.Draft, error)
	PatchDraft(ctx context.Context, id string, p dr.DraftPatch) (dr.Draft, error)
	Commit(ctx context.Context, id string, base int, c dr.Commit) error
	Ops(ctx context.Context, id string, from, to int) ([]dr.Op, error)
	Snapshot(ctx context.Context, id string, rev int) (dr.Snapshot, error)
	PutSnapshot(ctx context.Context, id string, s dr.Snapshot) error
	SeqRev(ctx context.Context, id, principal, client string, seq uint64, after int) (int, error)
}
