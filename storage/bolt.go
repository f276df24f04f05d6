package storage

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/stats"
)

// Bolt is the embedded, durable store: a bbolt file and its write-ahead
// log beside it (wal.go). A Commit returns nil only once it is fsync'd, so
// an acknowledged op survives kill -9 and power loss (never NoSync outside
// tests).
//
// Its code is split by job: this file opens and closes the store and
// holds its reads and record writes; bolt_writer.go the writer goroutine
// and its batches; bolt_commit.go commits (encode, check, dedupe, log);
// bolt_checkpoint.go the log beside bbolt (replay at open, checkpoints);
// wal.go the log files' format.
//
// # Group commit
//
// Every write (Commit, CreateDraft, PutSnapshot, PutLabel, PutToken,
// RevokeToken, AppendAudit) is handed to one writer goroutine, which takes
// every request that is waiting, of any draft, with no artificial delay:
// the next batch gathers while this one syncs.
//
// Commits are checked (draft exists, head == base, no duplicate
// submission) against bbolt and the commits logged before them, and those
// that pass are appended to the log in one write and one fdatasync. A
// checkpoint goroutine copies logged commits into bbolt, many per
// transaction, every CheckpointEvery or CheckpointOps, while the writer
// logs new commits to the log's other file; before any other write, and
// when a reader asks for draft data (settle), the writer first waits until
// everything logged is in bbolt, so reads see every acknowledged commit.
// With NoWAL, commits are written like the other writes.
//
// The other writes run in one bbolt transaction per batch. Each request
// first checks and only then writes, so a request that is refused
// (ErrRevConflict, ErrNotFound, ErrExists, ErrDuplicate, ErrInvalid) writes
// nothing and does not disturb the others in its transaction. If anything
// else fails (a bbolt error mid-write, a failed commit), the transaction is
// rolled back and every request in it is retried in a transaction of its
// own, so one bad request fails alone.
//
// A write whose context is already done is refused with the context's
// error. Once handed to the writer it is not abandoned: the call waits for
// the outcome whatever its context does, so that a caller never has to
// guess whether its commit is on disk (the wait is one batch).
//
// # File layout
//
//	drafts/                      bucket
//	  <draft id>/                bucket per draft (Drafts lists them in id order)
//	    "meta"                   Draft as JSON (Rev, Updated follow commits)
//	    ops/      rev → op record (compact binary, see records.go)
//	    snaps/    rev → snapshot record (text and Meta as they are, records.go)
//	    recent/   len(principal) principal len(client) client → the
//	              client's last submissions, (seq, rev) pairs (dedupe)
//	    seqs/     len(principal) principal len(client) client seq → rev
//	              (files written before "recent": read, never written)
//	    props/    rev idx → Proposal as JSON (idx: place in its Commit)
//	    decs/     rev idx → Decision as JSON
//	    labels/   name → Label as JSON
//	tokens/                      id → Token as JSON
//	tokenhash/                   hash → token id
//	audit/                       seq → AuditEntry as JSON (bucket sequence = last seq)
//
// rev and seq are 8-byte big-endian so that byte order is numeric order:
// Ops is a cursor walk from Seek(from), and Snapshot(rev) is Seek(rev) then
// one step back. idx is 4-byte big-endian. Lengths in recent and seqs keys
// are uvarints: with them, no principal or client id (whatever bytes it
// holds) can make two clients share a key.
//
// # Dedupe
//
// recent keeps, per client and draft, its last recentWindow submissions:
// one small record per client, rewritten in place. A key per submission
// (as seqs had) put each transaction's ops from N clients into N leaf
// pages far apart in an ever-growing bucket, every one of them rewritten
// and synced: with 20 writers, about 100 KB written to the device per op.
// The window is all dedupe needs: a client keeps at most one op per draft
// in flight and numbers its ops in increasing order, so the only
// submission it can resend is its latest. A resend older than the window
// is not recognised (the server refuses a seq that goes backwards).
type Bolt struct {
	db       *bolt.DB
	path     string
	maxBatch int
	log      *slog.Logger

	// mu guards closed and sending on reqs: senders hold it shared, Close
	// exclusively, so no one sends on the closed channel. Reads also hold
	// it shared for their whole transaction, so Close waits for them.
	mu     sync.RWMutex
	closed bool
	reqs   chan *writeReq
	done   chan struct{} // closed when the writer has drained reqs

	// txs counts committed write transactions and appends synced appends
	// to the write-ahead log, for tests and benchmarks.
	txs     atomic.Int64
	appends atomic.Int64
	ckTime  stats.Histogram // checkpoint durations (stats.go)

	// The write-ahead log and what it holds that bbolt does not yet; all
	// owned by the writer goroutine, except unsettled, which readers read.
	// The log is two files used in turn: commits are appended to wals[cur]
	// while the other one's commits are being copied into bbolt by a
	// checkpoint goroutine (so a checkpoint, tens of milliseconds with many
	// drafts, never holds up an ack); once they are, that file is emptied.
	wals      [2]*walFile // nil with BoltOptions.NoWAL
	cur       int
	walErr    error        // a failed sync: the log is unusable (errWALSync)
	ckErr     error        // the last checkpoint failed: commits are refused until a retry succeeds
	ckFails   int          // checkpoints failed in a row
	ckRetryAt time.Time    // when the next retry starts
	stuck     []*walCommit // with ckErr: the failed checkpoint's commits, in the log only
	pending   []*walCommit // in wals[cur]
	pendOps   int          // ops in pending
	pendingAt time.Time    // when pending became non-empty
	ckBusy    bool         // a checkpoint goroutine runs
	ckCount   int          // commits it copies
	ckDone    chan ckResult
	gen       uint64                             // checkpoints started
	heads     map[string]int                     // draft → head, logged commits included
	windows   map[string]map[string]recentWindow // draft → client key → window
	lastGen   map[string]uint64                  // draft → gen of its last logged commit
	unsettled atomic.Int64                       // commits logged, not yet in bbolt
	ckEvery   time.Duration
	ckMax     int
	ckBackoff [2]time.Duration // first and longest wait before a checkpoint retry

	// health is why the store refuses writes (Health), nil when it
	// takes them; written by the writer.
	health atomic.Pointer[error]
	// ckFault, when set, makes checkpoints fail with it (tests).
	ckFault atomic.Pointer[error]
}

// BoltOptions tunes a Bolt store. The zero value is right for production.
type BoltOptions struct {
	// Timeout is how long OpenBolt waits for the file lock when another
	// process has the file open. Default 5s.
	Timeout time.Duration
	// NoSync skips fsync. For tests and benchmarks only: with it, a crash
	// loses acknowledged commits.
	NoSync bool
	// MaxBatch caps the write requests applied in one transaction, so one
	// transaction (and the commits waiting on it) stays bounded. Default 1024.
	MaxBatch int
	// NoWAL commits ops straight into the bbolt file, one bbolt transaction
	// per group commit, instead of through the write-ahead log. Slower
	// (about ten pages and two fsyncs per group, against one append and
	// one fsync); kept to measure the difference.
	NoWAL bool
	// CheckpointEvery and CheckpointOps bound how long and how many ops
	// the write-ahead log holds before they are copied into the bbolt
	// file. Defaults 200ms and 8192.
	CheckpointEvery time.Duration
	CheckpointOps   int
	// CheckpointRetry is the first wait before a failed checkpoint is
	// retried; it doubles up to CheckpointRetryMax. Defaults 100ms and 5s.
	CheckpointRetry    time.Duration
	CheckpointRetryMax time.Duration
	// Logger gets what the store has to tell (a torn log tail cut at
	// open). Default slog.Default().
	Logger *slog.Logger
}

var (
	bucketDrafts    = []byte("drafts")
	bucketTokens    = []byte("tokens")
	bucketTokenHash = []byte("tokenhash")
	bucketAudit     = []byte("audit")

	keyMeta      = []byte("meta")
	bucketOps    = []byte("ops")
	bucketSnaps  = []byte("snaps")
	bucketSeqs   = []byte("seqs")
	bucketRecent = []byte("recent")
	bucketProps  = []byte("props")
	bucketDecs   = []byte("decs")
	bucketLabel  = []byte("labels")
)

// OpenBolt opens (creating if needed) the bbolt file at path, creating its
// directory too, and starts the writer. The caller must Close it.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	opts = opts.withDefaults()
	db, err := openBoltFile(path, opts)
	if err != nil {
		return nil, err
	}
	b := &Bolt{
		db:        db,
		path:      path,
		maxBatch:  opts.MaxBatch,
		log:       opts.Logger,
		reqs:      make(chan *writeReq, opts.MaxBatch),
		done:      make(chan struct{}),
		heads:     map[string]int{},
		windows:   map[string]map[string]recentWindow{},
		lastGen:   map[string]uint64{},
		ckDone:    make(chan ckResult, 1),
		ckEvery:   opts.CheckpointEvery,
		ckMax:     opts.CheckpointOps,
		ckBackoff: [2]time.Duration{opts.CheckpointRetry, opts.CheckpointRetryMax},
	}
	if !opts.NoWAL {
		if err := b.openWAL(opts.NoSync); err != nil {
			db.Close()
			return nil, err
		}
	}
	go b.writer()
	return b, nil
}

// withDefaults returns o with its zero fields set to their defaults.
func (o BoltOptions) withDefaults() BoltOptions {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 200 * time.Millisecond
	}
	if o.CheckpointOps <= 0 {
		o.CheckpointOps = 8192
	}
	o.CheckpointRetry = cmp.Or(o.CheckpointRetry, 100*time.Millisecond)
	o.CheckpointRetryMax = cmp.Or(o.CheckpointRetryMax, 5*time.Second)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// openBoltFile opens (creating if needed) the bbolt file at path and its
// directory, and creates the top buckets of a new file.
func openBoltFile(path string, opts BoltOptions) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: opts.Timeout,
		NoSync:  opts.NoSync,
		// The freelist is rebuilt on open instead of written with every
		// commit: fewer pages per fsync on the hot path.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	// Create the top buckets of a new file. An existing one is not
	// written to before its log is checked (openWAL): a store that
	// refuses to open leaves every file as it found it.
	created := true
	db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketDrafts, bucketTokens, bucketTokenHash, bucketAudit} {
			created = created && tx.Bucket(name) != nil
		}
		return nil
	})
	if !created {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketDrafts, bucketTokens, bucketTokenHash, bucketAudit} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	return db, nil
}

// Close waits for every write already handed over to be committed and
// answered, then closes the file. Later calls on b return ErrClosed; a
// second Close returns nil.
func (b *Bolt) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.reqs)
	b.mu.Unlock()
	<-b.done
	walErr := b.closeWAL()
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("storage: close %s: %w", b.path, err)
	}
	return walErr
}

// view runs fn in a read-only transaction, after the write-ahead log's
// commits are copied into bbolt (see settle): fn sees every acknowledged
// commit in the file itself (a backup may copy it). While checkpoints
// fail, it returns why instead (ErrUnavailable).
func (b *Bolt) view(ctx context.Context, what string, fn func(tx *bolt.Tx) error) error {
	overlay, err := b.settle(ctx, what)
	if err != nil {
		return err
	}
	if overlay != nil {
		return fmt.Errorf("storage: %s: %w", what, cmp.Or(b.Health(), error(ErrUnavailable)))
	}
	return b.viewNow(ctx, what, fn)
}

// viewAcked is view for the store's reads of draft data: while
// checkpoints fail, fn sees bbolt with the logged commits laid over it
// (viewOverlay), so that reads see every acknowledged commit either way.
// fn must only read through tx.
func (b *Bolt) viewAcked(ctx context.Context, what string, fn func(tx *bolt.Tx) error) error {
	overlay, err := b.settle(ctx, what)
	if err != nil {
		return err
	}
	if overlay != nil {
		return b.viewOverlay(ctx, what, overlay, fn)
	}
	return b.viewNow(ctx, what, fn)
}

// settle has the writer copy the commits that are only in the write-ahead
// log into bbolt, so that a read sees every acknowledged commit. Reads
// that find the log empty (the common case for all but a hot draft) cost
// nothing more; others wait for one checkpoint. If checkpoints fail, it
// returns the commits bbolt lacks instead.
func (b *Bolt) settle(ctx context.Context, what string) ([]*walCommit, error) {
	if b.unsettled.Load() == 0 {
		return nil, nil
	}
	req := &writeReq{settle: true, err: make(chan error, 1)}
	if err := b.send(ctx, what, req); err != nil {
		return nil, err
	}
	err := <-req.err
	return req.overlay, err
}

// errOverlay rolls back viewOverlay's transaction.
var errOverlay = errors.New("storage: overlay read done")

// viewOverlay runs fn in a write transaction in which overlay (commits
// that are in the log but could not be checkpointed) is applied first, and
// which is then rolled back: nothing reaches the disk. Only used while
// checkpoints fail; it costs a rollback, which with NoFreelistSync
// rescans the file's free pages.
func (b *Bolt) viewOverlay(ctx context.Context, what string, overlay []*walCommit, fn func(tx *bolt.Tx) error) error {
	err := b.whileOpen(ctx, what, func() error {
		return b.db.Update(func(tx *bolt.Tx) error {
			for _, c := range overlay {
				if err := replayTx(tx, c.id, c.base, c.enc); err != nil {
					return fmt.Errorf("storage: %s: lay logged commit %s@%d over the file: %w", what, c.id, c.base, err)
				}
			}
			if err := fn(tx); err != nil {
				return err
			}
			return errOverlay
		})
	})
	if errors.Is(err, errOverlay) {
		return nil
	}
	return err
}

// viewNow runs fn in a read-only transaction of what bbolt holds: reads of
// what the log never holds (tokens, audit) need not settle.
func (b *Bolt) viewNow(ctx context.Context, what string, fn func(tx *bolt.Tx) error) error {
	return b.whileOpen(ctx, what, func() error { return b.db.View(fn) })
}

// whileOpen runs fn holding b.mu shared, so that Close waits for it, if
// ctx has not ended and b is not closed: else it returns why, as what's
// error.
func (b *Bolt) whileOpen(ctx context.Context, what string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return fmt.Errorf("storage: %s: %w", what, ErrClosed)
	}
	return fn()
}

// Keys.

func revKey(rev int) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(rev))
}

func recordKey(rev, idx int) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(rev))
	return binary.BigEndian.AppendUint32(k, uint32(idx))
}

// draftBucket returns the bucket of draft id, or ErrNotFound.
func draftBucket(tx *bolt.Tx, what, id string) (*bolt.Bucket, error) {
	var db *bolt.Bucket
	if id != "" {
		db = tx.Bucket(bucketDrafts).Bucket([]byte(id))
	}
	if db == nil {
		return nil, fmt.Errorf("storage: %s %s: %w", what, id, ErrNotFound)
	}
	return db, nil
}

// draftMeta returns the bucket of draft id and its metadata, or
// ErrNotFound.
func draftMeta(tx *bolt.Tx, what, id string) (*bolt.Bucket, dr.Draft, error) {
	db, err := draftBucket(tx, what, id)
	if err != nil {
		return nil, dr.Draft{}, err
	}
	meta, err := readMeta(db, id)
	return db, meta, err
}

func readMeta(db *bolt.Bucket, id string) (dr.Draft, error) {
	var d dr.Draft
	if err := json.Unmarshal(db.Get(keyMeta), &d); err != nil {
		return dr.Draft{}, fmt.Errorf("storage: draft %s: %w: %v", id, errBadRecord, err)
	}
	return d, nil
}

// putJSON stores v as JSON; v is one of our record types, which always
// marshal.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// CreateDraft stores a new draft at revision 0 with text as snapshot 0,
// ignoring d.Rev and d.Updated. ErrExists if the id is taken, ErrInvalid if
// it is empty.
func (b *Bolt) CreateDraft(ctx context.Context, d dr.Draft, text string) error {
	if d.ID == "" {
		return fmt.Errorf("storage: create draft: empty id: %w", ErrInvalid)
	}
	d.Rev, d.Updated = 0, d.Created
	meta, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("storage: create draft %s: %w", d.ID, err)
	}
	snap := appendSnapshotRecord(nil, dr.Snapshot{Rev: 0, Text: text})
	return b.write(ctx, "create draft", func(tx *bolt.Tx) error {
		drafts := tx.Bucket(bucketDrafts)
		if drafts.Get([]byte(d.ID)) != nil || drafts.Bucket([]byte(d.ID)) != nil {
			return fmt.Errorf("storage: create draft %s: %w", d.ID, ErrExists)
		}
		db, err := drafts.CreateBucket([]byte(d.ID))
		if err != nil {
			return err
		}
		if err := db.Put(keyMeta, meta); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketOps, bucketSnaps, bucketRecent, bucketProps, bucketDecs, bucketLabel} {
			if _, err := db.CreateBucket(name); err != nil {
				return err
			}
		}
		return db.Bucket(bucketSnaps).Put(revKey(0), snap)
	})
}

// Draft returns a draft's metadata, ErrNotFound if there is none.
func (b *Bolt) Draft(ctx context.Context, id string) (dr.Draft, error) {
	var d dr.Draft
	err := b.viewAcked(ctx, "draft", func(tx *bolt.Tx) error {
		var err error
		_, d, err = draftMeta(tx, "draft", id)
		return err
	})
	return d, err
}

// Drafts returns every draft's metadata, sorted by id.
func (b *Bolt) Drafts(ctx context.Context) ([]dr.Draft, error) {
	out := []dr.Draft{}
	err := b.viewAcked(ctx, "drafts", func(tx *bolt.Tx) error {
		drafts := tx.Bucket(bucketDrafts)
		return drafts.ForEachBucket(func(k []byte) error {
			d, err := readMeta(drafts.Bucket(k), string(k))
			out = append(out, d)
			return err
		})
	})
	return out, err
}

// Ops returns ops from..to (both included) clipped to the head: none if
// from is past it. ErrInvalid if from < 1.
func (b *Bolt) Ops(ctx context.Context, id string, from, to int) ([]dr.Op, error) {
	if from < 1 {
		return nil, fmt.Errorf("storage: ops %s from %d: %w", id, from, ErrInvalid)
	}
	// Ranges are usually short and inside the log; a cap keeps an open
	// range (to = 1<<30) from allocating for ops that do not exist.
	out := make([]dr.Op, 0, min(max(to-from+1, 0), 1024))
	err := b.viewAcked(ctx, "ops", func(tx *bolt.Tx) error {
		db, err := draftBucket(tx, "ops", id)
		if err != nil {
			return err
		}
		if to < from {
			return nil
		}
		c := db.Bucket(bucketOps).Cursor()
		for k, v := c.Seek(revKey(from)); k != nil; k, v = c.Next() {
			rev := int(binary.BigEndian.Uint64(k))
			if rev > to {
				break
			}
			op, err := decodeOpRecord(rev, v)
			if err != nil {
				return fmt.Errorf("storage: ops %s@%d: %w", id, rev, err)
			}
			out = append(out, op)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Snapshot returns the latest snapshot with Rev <= rev; ErrNotFound if the
// draft is unknown or rev < 0.
func (b *Bolt) Snapshot(ctx context.Context, id string, rev int) (dr.Snapshot, error) {
	var s dr.Snapshot
	err := b.viewAcked(ctx, "snapshot", func(tx *bolt.Tx) error {
		db, err := draftBucket(tx, "snapshot", id)
		if err != nil {
			return err
		}
		if rev < 0 {
			return fmt.Errorf("storage: snapshot %s@%d: %w", id, rev, ErrNotFound)
		}
		c := db.Bucket(bucketSnaps).Cursor()
		want := revKey(rev)
		k, v := c.Seek(want)
		switch {
		case k == nil:
			k, v = c.Last()
		case int(binary.BigEndian.Uint64(k)) != rev:
			k, v = c.Prev()
		}
		if k == nil {
			return fmt.Errorf("storage: snapshot %s@%d: %w", id, rev, ErrNotFound)
		}
		s, err = decodeSnapshotRecord(int(binary.BigEndian.Uint64(k)), v)
		if err != nil {
			return fmt.Errorf("storage: snapshot %s@%d: %w", id, rev, err)
		}
		return nil
	})
	return s, err
}

// PutSnapshot stores s, replacing a snapshot at the same rev. ErrNotFound
// for an unknown draft, ErrInvalid if s.Rev is negative or past the head.
func (b *Bolt) PutSnapshot(ctx context.Context, id string, s dr.Snapshot) error {
	data := appendSnapshotRecord(nil, s)
	return b.write(ctx, "put snapshot", func(tx *bolt.Tx) error {
		db, meta, err := draftMeta(tx, "put snapshot", id)
		if err != nil {
			return err
		}
		if s.Rev < 0 || s.Rev > meta.Rev {
			return fmt.Errorf("storage: put snapshot %s@%d (head %d): %w", id, s.Rev, meta.Rev, ErrInvalid)
		}
		return db.Bucket(bucketSnaps).Put(revKey(s.Rev), data)
	})
}

// SeqRev returns the revision the submission (principal, client, seq) was
// committed as; ErrNotFound if it was not, or the draft is unknown. after
// is the revision the submission was made on: its committed copy, if any,
// lies in after+1..head. The client's recent window answers most lookups;
// when it misses, those ops are searched (a resend however old is found,
// at no cost in storage: a resent op is transformed over the same ops).
func (b *Bolt) SeqRev(ctx context.Context, id, principal, client string, seq uint64, after int) (int, error) {
	var rev int
	err := b.viewAcked(ctx, "seq", func(tx *bolt.Tx) error {
		db, err := draftBucket(tx, "seq", id)
		if err != nil {
			return err
		}
		k := clientKey(principal, client)
		var ok bool
		if recent := db.Bucket(bucketRecent); recent != nil {
			rev, ok = recentWindow(recent.Get(k)).find(seq)
		}
		if !ok {
			rev, ok = oldSeqRev(db, k, seq)
		}
		if !ok {
			rev, ok = searchOps(db, max(after, 0)+1, principal, client, seq)
		}
		if !ok {
			return fmt.Errorf("storage: seq %s %s/%s/%d: %w", id, principal, client, seq, ErrNotFound)
		}
		return nil
	})
	return rev, err
}

// searchOps looks for the submission (principal, client, seq) among the
// ops of draft bucket db from revision from on.
func searchOps(db *bolt.Bucket, from int, principal, client string, seq uint64) (int, bool) {
	c := db.Bucket(bucketOps).Cursor()
	for k, v := c.Seek(revKey(from)); k != nil; k, v = c.Next() {
		if isSubmission(v, principal, client, seq) {
			return int(binary.BigEndian.Uint64(k)), true
		}
	}
	return 0, false
}

// records decodes every JSON record in bucket name of draft id, in key
// order.
func records[T any](ctx context.Context, b *Bolt, what, id string, name []byte) ([]T, error) {
	var out []T
	err := b.viewAcked(ctx, what, func(tx *bolt.Tx) error {
		db, err := draftBucket(tx, what, id)
		if err != nil {
			return err
		}
		out, err = jsonRecords[T](db.Bucket(name), nil, 0, func([]byte) string { return what + " " + id })
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// jsonRecords decodes the JSON records of bucket in key order, from key
// from on (nil: from the first), at most limit of them (0: all). A record
// that does not decode is errBadRecord, named by what name returns for its
// key.
func jsonRecords[T any](bucket *bolt.Bucket, from []byte, limit int, name func(k []byte) string) ([]T, error) {
	out := []T{}
	c := bucket.Cursor()
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
	}
	for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		var r T
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("storage: %s: %w: %v", name(k), errBadRecord, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Proposals returns the draft's bracket proposals in rev order.
func (b *Bolt) Proposals(ctx context.Context, id string) ([]dr.Proposal, error) {
	return records[dr.Proposal](ctx, b, "proposals", id, bucketProps)
}

// Decisions returns the draft's bracket decisions in rev order.
func (b *Bolt) Decisions(ctx context.Context, id string) ([]dr.Decision, error) {
	return records[dr.Decision](ctx, b, "decisions", id, bucketDecs)
}

// PutLabel names revision l.Rev of draft l.Draft. ErrNotFound for an
// unknown draft, ErrExists if the draft has a label of that name,
// ErrInvalid for an empty name or a rev outside 0..head.
func (b *Bolt) PutLabel(ctx context.Context, l dr.Label) error {
	if l.Name == "" {
		return fmt.Errorf("storage: label %s: empty name: %w", l.Draft, ErrInvalid)
	}
	data, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("storage: label %s: %w", l.Draft, err)
	}
	return b.write(ctx, "label", func(tx *bolt.Tx) error {
		db, meta, err := draftMeta(tx, "label", l.Draft)
		if err != nil {
			return err
		}
		if l.Rev < 0 || l.Rev > meta.Rev {
			return fmt.Errorf("storage: label %s@%d (head %d): %w", l.Draft, l.Rev, meta.Rev, ErrInvalid)
		}
		labels := db.Bucket(bucketLabel)
		if labels.Get([]byte(l.Name)) != nil {
			return fmt.Errorf("storage: label %s %q: %w", l.Draft, l.Name, ErrExists)
		}
		return labels.Put([]byte(l.Name), data)
	})
}

// Labels returns the draft's labels in rev order, labels of one revision
// by name.
func (b *Bolt) Labels(ctx context.Context, id string) ([]dr.Label, error) {
	ls, err := records[dr.Label](ctx, b, "labels", id, bucketLabel)
	SortLabels(ls)
	return ls, err
}

// PutToken stores a new token. ErrExists if its id or its hash is taken,
// ErrInvalid if the id or hash is empty.
func (b *Bolt) PutToken(ctx context.Context, t dr.Token) error {
	if t.ID == "" || t.Hash == "" {
		return fmt.Errorf("storage: put token %q: empty id or hash: %w", t.ID, ErrInvalid)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("storage: put token %s: %w", t.ID, err)
	}
	return b.write(ctx, "put token", func(tx *bolt.Tx) error {
		tokens, hashes := tx.Bucket(bucketTokens), tx.Bucket(bucketTokenHash)
		if tokens.Get([]byte(t.ID)) != nil {
			return fmt.Errorf("storage: put token %s: %w", t.ID, ErrExists)
		}
		if hashes.Get([]byte(t.Hash)) != nil {
			return fmt.Errorf("storage: put token %s: hash in use: %w", t.ID, ErrExists)
		}
		if err := tokens.Put([]byte(t.ID), data); err != nil {
			return err
		}
		return hashes.Put([]byte(t.Hash), []byte(t.ID))
	})
}

func getToken(tx *bolt.Tx, id string) (dr.Token, error) {
	v := tx.Bucket(bucketTokens).Get([]byte(id))
	if v == nil {
		return dr.Token{}, fmt.Errorf("storage: token %s: %w", id, ErrNotFound)
	}
	var t dr.Token
	if err := json.Unmarshal(v, &t); err != nil {
		return dr.Token{}, fmt.Errorf("storage: token %s: %w: %v", id, errBadRecord, err)
	}
	return t, nil
}

// Token returns the token with that id, ErrNotFound if there is none.
func (b *Bolt) Token(ctx context.Context, id string) (dr.Token, error) {
	var t dr.Token
	err := b.viewNow(ctx, "token", func(tx *bolt.Tx) error {
		var err error
		t, err = getToken(tx, id)
		return err
	})
	return t, err
}

// TokenByHash returns the token whose secret hashes to hash, ErrNotFound
// if there is none.
func (b *Bolt) TokenByHash(ctx context.Context, hash string) (dr.Token, error) {
	var t dr.Token
	err := b.viewNow(ctx, "token by hash", func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketTokenHash).Get([]byte(hash))
		if id == nil {
			return fmt.Errorf("storage: token by hash: %w", ErrNotFound)
		}
		var err error
		t, err = getToken(tx, string(id))
		return err
	})
	return t, err
}

// Tokens returns every token, sorted by id.
func (b *Bolt) Tokens(ctx context.Context) ([]dr.Token, error) {
	var out []dr.Token
	err := b.viewNow(ctx, "tokens", func(tx *bolt.Tx) (err error) {
		out, err = jsonRecords[dr.Token](tx.Bucket(bucketTokens), nil, 0, func(k []byte) string { return "token " + string(k) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeToken marks the token revoked at time at (Unix ms). Revoking a
// revoked token keeps the first time. ErrNotFound if there is no such token.
func (b *Bolt) RevokeToken(ctx context.Context, id string, at int64) error {
	return b.write(ctx, "revoke token", func(tx *bolt.Tx) error {
		t, err := getToken(tx, id)
		if err != nil {
			return err
		}
		if t.Revoked != 0 {
			return nil
		}
		t.Revoked = at
		return putJSON(tx.Bucket(bucketTokens), []byte(id), t)
	})
}

// AppendAudit appends e to the audit log with the next Seq (1, 2, ...),
// ignoring e.Seq, and returns the stored entry.
func (b *Bolt) AppendAudit(ctx context.Context, e dr.AuditEntry) (dr.AuditEntry, error) {
	var stored dr.AuditEntry
	err := b.write(ctx, "append audit", func(tx *bolt.Tx) error {
		audit := tx.Bucket(bucketAudit)
		audit.FillPercent = 1
		seq, err := audit.NextSequence()
		if err != nil {
			return err
		}
		stored = e
		stored.Seq = int64(seq)
		return putJSON(audit, revKey(int(seq)), stored)
	})
	if err != nil {
		return dr.AuditEntry{}, err
	}
	return stored, nil
}

// Audit returns up to limit entries with Seq > afterSeq in Seq order; all
// of them if limit <= 0.
func (b *Bolt) Audit(ctx context.Context, afterSeq int64, limit int) ([]dr.AuditEntry, error) {
	var out []dr.AuditEntry
	err := b.viewNow(ctx, "audit", func(tx *bolt.Tx) (err error) {
		out, err = jsonRecords[dr.AuditEntry](tx.Bucket(bucketAudit), revKey(int(max(afterSeq, 0)+1)), limit, func(k []byte) string {
			return fmt.Sprintf("audit %d", binary.BigEndian.Uint64(k))
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PatchDraft changes a draft's title or archived flag in its metadata
// record and returns the draft as it now is: ErrInvalid if
// checkPatch refuses p, ErrNotFound for an unknown draft. Commits
// still in the write-ahead log keep the change: their checkpoint rewrites
// only the record's revision and update time.
func (b *Bolt) PatchDraft(ctx context.Context, id string, p dr.DraftPatch) (dr.Draft, error) {
	if err := checkPatch(id, p); err != nil {
		return dr.Draft{}, err
	}
	var out dr.Draft
	err := b.write(ctx, "patch draft", func(tx *bolt.Tx) error {
		db, meta, err := draftMeta(tx, "patch draft", id)
		if err != nil {
			return err
		}
		out = applyPatch(meta, p)
		return putJSON(db, keyMeta, out)
	})
	if err != nil {
		return dr.Draft{}, err
	}
	// The record's Rev and Updated may lag commits still in the log: read
	// the draft back as every reader sees it.
	return b.Draft(ctx, id)
}
