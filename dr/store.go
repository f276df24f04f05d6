package dr

import (
	"context"
	"io"
)

// Store is the storage contract: the whole method set that every backend
// (storage.Memory, storage.Bolt, storage.Redis) implements and that
// storage/storagetest checks, so that a caller never asks a store what it
// can do. A backend that cannot do something (Memory and Redis take no
// Backup) answers with an error saying so.
//
// Errors are the storage package's sentinels, wrapped with context and
// tested with errors.Is: ErrNotFound, ErrExists, ErrRevConflict,
// ErrDuplicate, ErrInvalid (a malformed request: retrying cannot help),
// ErrUnavailable (unreachable, or refusing writes: retryable), ErrClosed
// (every method after Close). A refused call writes nothing. Stores copy
// what they are given and what they return.
//
// Fan-out between server nodes is not storage: a store shared by several
// nodes (storage.Redis) has its own methods for it, which main hands the
// server separately (server.Config.Fanout).
type Store interface {
	// CreateDraft stores a new draft at revision 0 with text as snapshot
	// 0, Updated = Created (d.Rev and d.Updated are ignored). ErrExists
	// if the id is taken; ErrInvalid for an empty id.
	CreateDraft(ctx context.Context, d Draft, text string) error
	// Draft returns a draft's metadata (Rev is the head). ErrNotFound.
	Draft(ctx context.Context, id string) (Draft, error)
	// Drafts returns every draft's metadata, sorted by id.
	Drafts(ctx context.Context) ([]Draft, error)
	// PatchDraft changes a draft's title or archived flag (whichever p
	// sets) and returns the draft as Draft would. ErrInvalid for a patch
	// that sets nothing, an empty or blank title or one too long;
	// ErrNotFound.
	PatchDraft(ctx context.Context, id string, p DraftPatch) (Draft, error)
	// Commit writes c atomically: its ops are revisions base+1, base+2,
	// ... of draft id. ErrRevConflict if the head is not base (another node
	// committed first); ErrDuplicate if an op's (Principal, Client, Seq)
	// is already committed (answer it with SeqRev); ErrInvalid for a
	// malformed commit; ErrNotFound.
	Commit(ctx context.Context, id string, base int, c Commit) error
	// Ops returns revisions from..to inclusive, clipped to the head
	// (nothing when to < from or from is past the head). ErrInvalid for
	// from < 1; ErrNotFound.
	Ops(ctx context.Context, id string, from, to int) ([]Op, error)
	// Snapshot returns the latest snapshot with Rev <= rev. ErrNotFound
	// for rev < 0 or an unknown draft.
	Snapshot(ctx context.Context, id string, rev int) (Snapshot, error)
	// PutSnapshot stores s (the same rev overwrites). ErrInvalid for
	// s.Rev < 0 or past the head; ErrNotFound.
	PutSnapshot(ctx context.Context, id string, s Snapshot) error
	// SeqRev returns the revision of the submission (principal, client,
	// seq), made on revision after: its committed copy lies in
	// after+1..head, however many submissions followed it. ErrNotFound.
	SeqRev(ctx context.Context, id, principal, client string, seq uint64, after int) (int, error)

	// Proposals and Decisions return a draft's bracket records in rev
	// order, records of one rev in the order their Commit listed them.
	Proposals(ctx context.Context, id string) ([]Proposal, error)
	Decisions(ctx context.Context, id string) ([]Decision, error)
	// PutLabel names a revision. ErrExists if the draft has that label
	// name; ErrInvalid for an empty name or a rev outside 0..head.
	PutLabel(ctx context.Context, l Label) error
	// Labels returns a draft's labels in rev order, then name.
	Labels(ctx context.Context, id string) ([]Label, error)

	// PutToken stores a new token. ErrExists if its id or hash is taken;
	// ErrInvalid for an empty id.
	PutToken(ctx context.Context, t Token) error
	// Token and TokenByHash find a token. ErrNotFound.
	Token(ctx context.Context, id string) (Token, error)
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Tokens returns every token, revoked and expired ones too, by id.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks a token revoked at (Unix ms); revoking it again
	// keeps the first time. ErrNotFound.
	RevokeToken(ctx context.Context, id string, at int64) error

	// AppendAudit appends e to the audit log and returns it with its Seq
	// (1, 2, ... without gaps, also under concurrency; e.Seq is ignored).
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// Audit returns up to limit entries with Seq > afterSeq, oldest
	// first; limit <= 0 returns all of them.
	Audit(ctx context.Context, afterSeq int64, limit int) ([]AuditEntry, error)

	// Health returns nil while the store takes writes, else why it
	// refuses them (wrapping ErrUnavailable; Bolt after its write-ahead
	// log or a checkpoint failed), and ErrClosed after Close. Reads may
	// still be served while it refuses writes. It costs no I/O: whether
	// the store answers at all is for a read to find out.
	Health() error
	// Backup writes a consistent copy of the store to w while it serves
	// and returns its length: every commit acknowledged before the call,
	// never half of one. A store that has no copy of its own to give
	// (Memory: nothing durable; Redis: its own RDB or AOF files are the
	// backup) returns an error wrapping errors.ErrUnsupported, having
	// written nothing.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// Close waits for the writes already handed over, then releases the
	// store; every later call returns ErrClosed, and a second Close nil.
	Close() error
}

// DraftPatch changes a draft's own metadata (Store.PatchDraft): a nil
// field is left as it is. The id, revision and history never change;
// only the title and whether the draft is archived do.
type DraftPatch struct {
	Title    *string
	Archived *bool
}
