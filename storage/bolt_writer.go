package storage

// The writer goroutine: every write of a Bolt store goes through it.
// Requests are gathered into batches (group commit), runs of commits are
// logged to the write-ahead log (bolt_commit.go), and every other write
// runs in one bbolt transaction per batch, after a checkpoint
// (bolt_checkpoint.go). Health reports why writes are refused.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeReq is one request to the writer goroutine: a commit (logged in
// the write-ahead log), a settle (copy the log into bbolt, for a reader),
// or fn, run inside a batch's bbolt transaction, which must return a
// refusal (rejected reports true) only before it has written anything.
type writeReq struct {
	fn     func(tx *bolt.Tx) error
	commit *walCommit
	settle bool
	// overlay answers a settle while checkpoints fail: the commits that
	// are only in the log, for the reader to lay over bbolt (viewOverlay).
	// Set before err is sent.
	overlay []*walCommit
	err     chan error // buffered: the writer never waits for the caller
}

// write hands fn to the writer and waits for its outcome. Once handed over
// it waits even if ctx ends: the caller must learn whether the write is
// durable, and the wait is one transaction long.
func (b *Bolt) write(ctx context.Context, what string, fn func(tx *bolt.Tx) error) error {
	done, err := b.submit(ctx, what, fn)
	if err != nil {
		return err
	}
	return <-done
}

// submit hands fn to the writer and returns the channel its outcome will
// arrive on. Requests reach the writer in the order they are submitted.
func (b *Bolt) submit(ctx context.Context, what string, fn func(tx *bolt.Tx) error) (<-chan error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	req := &writeReq{fn: fn, err: make(chan error, 1)}
	if err := b.send(ctx, what, req); err != nil {
		return nil, err
	}
	return req.err, nil
}

// send hands req to the writer.
func (b *Bolt) send(ctx context.Context, what string, req *writeReq) error {
	return b.whileOpen(ctx, what, func() error {
		b.reqs <- req
		return nil
	})
}

// writer is the only goroutine that writes to the files. Commits it
// gathers go to the write-ahead log; at most ckEvery after the first of
// them, or once ckMax ops wait, or before anything else is written or a
// reader needs them, they are copied into bbolt (checkpoint).
func (b *Bolt) writer() {
	defer close(b.done)
	batch := make([]*writeReq, 0, b.maxBatch)
	ck := time.NewTimer(time.Hour)
	ck.Stop()
	for {
		req, ok := b.next(ck)
		if !ok {
			if b.checkpoint() != nil {
				// One last try; what fails stays in the log for the next open.
				if b.startCheckpoint(); b.ckBusy {
					b.endCheckpoint(<-b.ckDone)
				}
			}
			return
		}
		batch = b.gather(append(batch[:0], req))
		b.run(batch)
		if b.checkpointDue() {
			b.startCheckpoint()
		}
	}
}

// next waits for the next request, meanwhile starting a checkpoint when
// its time comes (ck fires) and taking the outcome of the one running. It
// returns false once Close has closed reqs and every request is taken.
func (b *Bolt) next(ck *time.Timer) (*writeReq, bool) {
	for {
		var timer <-chan time.Time
		var done <-chan ckResult
		if b.ckBusy {
			done = b.ckDone
		} else if b.ckErr != nil {
			ck.Reset(time.Until(b.ckRetryAt))
			timer = ck.C
		} else if len(b.pending) > 0 {
			ck.Reset(time.Until(b.pendingAt.Add(b.ckEvery)))
			timer = ck.C
		}
		select {
		case req, ok := <-b.reqs:
			ck.Stop()
			return req, ok
		case <-timer:
			b.startCheckpoint()
		case res := <-done:
			b.endCheckpoint(res)
		}
	}
}

// gather appends to batch the requests already waiting, up to maxBatch:
// no artificial delay, the next batch gathers while this one syncs.
func (b *Bolt) gather(batch []*writeReq) []*writeReq {
	for len(batch) < b.maxBatch {
		select {
		case r, ok := <-b.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// checkpointDue reports whether the logged commits should be copied into
// bbolt now: ckMax ops wait, or the first has waited ckEvery, and no
// checkpoint runs or is failing (retries keep their own schedule).
func (b *Bolt) checkpointDue() bool {
	return !b.ckBusy && b.ckErr == nil && len(b.pending) > 0 && (b.pendOps >= b.ckMax || time.Since(b.pendingAt) >= b.ckEvery)
}

// run handles a batch in order: runs of commits are logged together, and
// anything else first checkpoints the log, so that it sees every commit.
func (b *Bolt) run(batch []*writeReq) {
	for len(batch) > 0 {
		n := 1
		switch {
		case batch[0].commit != nil && b.wals[0] != nil:
			for n < len(batch) && batch[n].commit != nil {
				n++
			}
			b.logCommits(batch[:n])
		case batch[0].settle:
			for n < len(batch) && batch[n].settle {
				n++
			}
			err := b.checkpoint()
			var overlay []*walCommit
			if err != nil {
				// Checkpoints fail, but the log holds the commits
				// durably (only synced ones are pending): serve them
				// from it.
				overlay = slices.Concat(b.stuck, b.pending)
				err = nil
			}
			for _, r := range batch[:n] {
				r.overlay = overlay
				r.err <- err
			}
		default:
			for n < len(batch) && !batch[n].settle && (batch[n].commit == nil || b.wals[0] == nil) {
				n++
			}
			if err := b.checkpoint(); err != nil {
				for _, r := range batch[:n] {
					r.err <- fmt.Errorf("storage: write to %s: %w", b.path, err)
				}
			} else {
				b.apply(batch[:n])
			}
		}
		batch = batch[n:]
	}
}

// refusing returns why writes are refused, wrapping ErrUnavailable, or
// nil. Writer only.
func (b *Bolt) refusing() error {
	switch {
	case b.walErr != nil:
		return fmt.Errorf("%w; restart the server (the log is replayed)", b.walErr)
	case b.ckErr != nil:
		return fmt.Errorf("%w: the write-ahead log cannot be copied into the file (%d attempts, retrying): %w", ErrUnavailable, b.ckFails, b.ckErr)
	}
	return nil
}

// setHealth publishes for Health why writes are refused, without file
// names (it is shown on /healthz, which needs no credential; the commit
// errors, which are logged, have them).
func (b *Bolt) setHealth() {
	var err error
	switch {
	case b.walErr != nil:
		err = fmt.Errorf("%w: the write-ahead log failed to sync (%v); restart the server", ErrUnavailable, rootCause(b.walErr))
	case b.ckErr != nil:
		err = fmt.Errorf("%w: checkpoints into the store file are failing (%d attempts, retrying; reads are served): %v", ErrUnavailable, b.ckFails, rootCause(b.ckErr))
	}
	if err != nil {
		// Some causes carry the path in their text (bbolt formats its
		// resize error with %s): keep only the file's name.
		err = &healthError{msg: strings.ReplaceAll(err.Error(), b.path, filepath.Base(b.path))}
		b.health.Store(&err)
	} else {
		b.health.Store(nil)
	}
}

// healthError is Health's error: a message without directories, which
// wraps ErrUnavailable.
type healthError struct{ msg string }

func (e *healthError) Error() string { return e.msg }
func (e *healthError) Unwrap() error { return ErrUnavailable }

// rootCause is the innermost error err wraps (for a failed write, the
// errno: "no space left on device").
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// Health returns nil while the store takes writes, else why it refuses
// them (wrapping ErrUnavailable, naming no file): a failed checkpoint
// (retried with backoff; the store recovers on its own once the disk
// takes writes again) or a failed sync of the write-ahead log (until a
// restart). Reads are served either way. After Close it is ErrClosed.
func (b *Bolt) Health() error {
	return b.whileOpen(context.Background(), "health", func() error {
		if err := b.health.Load(); err != nil {
			return *err
		}
		return nil
	})
}

// rejected reports whether err is a refusal a write function returns
// before writing anything, which leaves the transaction usable.
func rejected(err error) bool {
	for _, e := range [...]error{ErrRevConflict, ErrNotFound, ErrExists, ErrInvalid, ErrDuplicate} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// runReq runs r in tx. A panic in it (a bug) becomes an error, which rolls
// back the batch and retries its requests one by one: the writer must
// survive, or every later write would hang.
func runReq(r *writeReq, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("storage: write panicked: %v", p)
		}
	}()
	return r.fn(tx)
}

// errNothingWritten rolls back a transaction in which every request was
// refused: there is nothing to sync.
var errNothingWritten = errors.New("storage: nothing written")

// apply runs batch in one transaction and answers every request.
func (b *Bolt) apply(batch []*writeReq) {
	results := make([]error, len(batch))
	err := b.db.Update(func(tx *bolt.Tx) error {
		wrote := false
		for i, r := range batch {
			err := runReq(r, tx)
			if err != nil && !rejected(err) {
				return err
			}
			results[i] = err
			wrote = wrote || err == nil
		}
		if !wrote {
			return errNothingWritten
		}
		return nil
	})
	switch {
	case err == nil:
		b.txs.Add(1)
	case errors.Is(err, errNothingWritten):
	case len(batch) == 1:
		// A failed write (a full disk, an I/O error): nothing was written
		// and the request may succeed later.
		results[0] = fmt.Errorf("storage: write to %s: %w: %w", b.path, ErrUnavailable, err)
	default:
		// Something failed that may have written half a request, or the
		// commit itself failed: roll everything back and give each request
		// a transaction of its own, so that only the culprit fails.
		for _, r := range batch {
			b.apply([]*writeReq{r})
		}
		return
	}
	for i, r := range batch {
		r.err <- results[i]
	}
}
