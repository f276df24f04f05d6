// Package storage keeps drafts, their op logs, snapshots and the records
// that hang off them (bracket proposals and decisions, version labels,
// tokens, the audit log). It has two durable backends with the same
// behaviour: Bolt (one bbolt file, the default) and Redis (shared by several
// server nodes), plus Memory for fast tests. The contract they all follow is
// checked by the suite in storage/storagetest.
//
// Storage knows nothing about sockets or OT rules: the caller (the draft's
// owner goroutine in server/) decides what to commit; a store only makes it
// durable, atomically, at the revision the caller expected.
package storage

import (
	"errors"

	"github.com/draftroom/draftroom/dr"
)

// Every backend keeps the whole storage contract (dr.Store).
var (
	_ dr.Store = (*Memory)(nil)
	_ dr.Store = (*Bolt)(nil)
	_ dr.Store = (*Redis)(nil)
)

// Sentinel errors. Backends wrap them with context (fmt.Errorf("...: %w"));
// callers test them with errors.Is.
var (
	// ErrNotFound: no such draft, op, snapshot, token or record.
	ErrNotFound = errors.New("storage: not found")
	// ErrExists: a draft (or token, or label) with that id already exists.
	ErrExists = errors.New("storage: already exists")
	// ErrRevConflict: a Commit expected the draft at revision base, but the
	// stored head is elsewhere (another node committed first). Nothing was
	// written; the caller loads the ops it missed, transforms again, retries.
	ErrRevConflict = errors.New("storage: revision conflict")
	// ErrUnavailable: the backend cannot be reached (Redis down). Nothing
	// was written; the caller reports an error and may retry later.
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("storage: closed")
	// ErrInvalid: the request is malformed for any store (a Commit without
	// ops or whose revisions, snapshots or records fall outside the run it
	// commits, a label or snapshot beyond the head, Ops from < 1, an empty
	// id). Nothing was written; retrying the same request cannot succeed.
	ErrInvalid = errors.New("storage: invalid request")
	// ErrDuplicate: a Commit carried an op whose (Principal, Client, Seq)
	// is already committed on that draft (or twice in the same Commit).
	// Nothing was written; the caller looks the submission up with SeqRev
	// and acknowledges that revision instead of applying it twice.
	ErrDuplicate = errors.New("storage: duplicate submission")
)
