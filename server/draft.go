package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// System identity of server-built ops (DESIGN.md "Identities").
const (
	SystemClient    = "_draftroom"
	SystemPrincipal = "system"
)

// maxConflictRetries bounds how often a batch is re-run after
// storage.ErrRevConflict (another node committed first). Two nodes saturating
// one draft through Redis lose a few batches in a row now and then (the
// winner needs one round trip per batch, the loser two: read the ops it
// missed, then commit), so the bound is generous; a batch that still loses
// is refused as unavailable, and the clients resend it.
const maxConflictRetries = 32

// draft is the owner of one loaded draft. Its run goroutine is the only one
// that touches the fields below "owned by run"; everything else reaches it
// through in (requests, answered in arrival order). run never blocks on a
// socket: frames go to each subscriber's bounded queue, and a subscriber
// whose queue is full is disconnected.
type draft struct {
	s    *Server
	id   string
	in   chan any      // *submitReq, *builtReq, *openReq, *closeReq, *presenceReq, *doReq
	idle chan struct{} // cap 1: refs fell to 0
	done chan struct{} // closed when run returns
	refs int           // guarded by s.mu: holders that may send to in
	head atomic.Int64  // rev, for other goroutines: limits.go charges an op by how far behind the head it is

	// owned by run
	info         dr.Draft
	text         *ot.Text
	rev          int
	ring         []ringOp // recent committed ops, consecutive revs ending at rev
	dedupe       map[dedupeKey]seqRev
	subs         map[*Session]*subscriber
	corking      bool                  // see cork
	corked       map[*Session]struct{} // sessions sent frames while corking
	corkedUrgent []*Session            // those of them sent a reply
	observers    []namedObserver
	loadErr      error
	lastSnap     int
	snapBusy     bool
	snapDone     chan int         // rev of a finished background snapshot, or -1
	tentative    int              // while a batch is staged: revs staged beyond rev
	staging      []*staged        // while a BuildFunc runs: the ops staged before it
	batch        []any            // the submissions being committed (drainBatch); reused
	idleTimer    <-chan time.Time // fires IdleGrace after the last holder left; nil when not running
	watching     bool             // subscribed to the store's fan-out (fanout.go)
	stale        bool             // a commit's outcome is unknown, or it lost every retry: the log may hold ops not applied here

	// owned by run, presence.go
	leaving  []*subscriber // departures not announced yet
	dead     []*Session    // sessions a push found ended, reaped after the loop (reap)
	subsGone int           // subscriptions removed since subs was last rebuilt

	remote remoteInbox // from other nodes (fanout.go); safe for concurrent use
	// cursors: for each client's cursor, the connection (of this node or
	// another) whose presence was relayed last, so that a late "left" of
	// a replaced connection is not relayed, and "left" can be said for
	// another node's clients if it dies (presence.go).
	cursors map[cursorKey]cursorSource
}

type ringOp struct {
	op    dr.Op
	frame []byte // the encoded "op" message
}

type dedupeKey struct{ principal, client string }

type seqRev struct {
	seq uint64
	rev int
}

type subscriber struct {
	sess      *Session
	client    string
	principal string // with client, whose presence this is (presence.go)
	by        dr.Author
	role      string // relayed with presence, so that a screen view can follow the facilitator
	hasSel    bool
	sel       [][2]int // at rev
	presence  []byte   // encoded relay frame of the current sel (for "present")
}

// Requests to a draft's owner.
type (
	submitReq struct {
		sess   *Session
		ident  dr.Identity
		client string
		rev    int
		seq    uint64
		op     ot.Op
		ref    json.RawMessage
		at     time.Time // when it was read (Stats.AckLatency); zero: not measured
	}
	builtReq struct {
		by    dr.Identity
		build BuildFunc
		reply chan builtResult // cap 1
	}
	builtResult struct {
		op  dr.Op
		err error
	}
	openReq struct {
		sess      *Session
		client    string
		principal string
		by        dr.Author
		role      string
		rev       *int
		ref       json.RawMessage
		reply     chan error // cap 1
	}
	closeReq struct {
		sess *Session
	}
	presenceReq struct {
		sess *Session
		rev  int
		sel  [][2]int
		ref  json.RawMessage
	}
	doReq struct {
		fn    func(*DraftState) error
		reply chan error // cap 1
	}
)

// Built is what a BuildFunc makes: an op that applies to the draft as it
// stands (DraftState.Text at DraftState.Rev), and the records committed
// atomically with it. The server fills in Draft, Rev and TS of the
// proposals and decisions.
type Built struct {
	Op        ot.Op
	Kind      string // dr.KindPropose, KindResolve, KindImport, provisions.StatusKind(...), provisions.KindRenumber
	Group     string
	Proposals []dr.Proposal
	Decisions []dr.Decision
	// Unguarded: the op skips the Guards (a renumbering, which may change
	// the numbers inside agreed text: numbering is not substance).
	Unguarded bool
}

// Guard is an Observer that may refuse an op before it is staged (the
// locks on agreed provisions). Check runs in the owner goroutine with each
// op of a batch, transformed to the text as staged so far; staged are the
// ops of the batch staged before it (committed as Info().Rev+1, ...), and
// an error refuses the op (it is answered with that error and changes
// nothing). It must be quick.
type Guard interface {
	Observer
	Check(op ot.Op, staged []dr.Op) error
}

// BuildFunc builds a server-side op inside the draft's owner goroutine. It
// may run more than once (after a conflict between nodes), each time against
// the state it will commit on; it must not keep st. An error is returned
// to the submitBuilt caller and nothing is committed.
type BuildFunc func(st *DraftState) (Built, error)

func newDraft(s *Server, id string) *draft {
	return &draft{
		s:        s,
		id:       id,
		in:       make(chan any, 256),
		idle:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		dedupe:   make(map[dedupeKey]seqRev),
		subs:     make(map[*Session]*subscriber),
		snapDone: make(chan int, 1),
		remote:   remoteInbox{signal: make(chan struct{}, 1)},
	}
}

// send queues req for the owner. It fails only when the draft has stopped
// (shutdown) or ctx ends; callers hold a ref, so the draft does not stop
// for lack of users while they send.
func (d *draft) send(ctx context.Context, req any) error {
	select {
	case d.in <- req:
		return nil
	case <-d.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// storeCtx bounds one store call. It does not end at shutdown: a commit in
// flight finishes.
func (d *draft) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d.s.cfg.CommitTimeout)
}

// run is the draft's owner goroutine. It loads the draft, then answers
// requests one at a time, in arrival order, until nobody has held the
// draft for Config.IdleGrace or the server stops. Between requests it
// takes in what other nodes committed, and snapshots finished in the
// background.
func (d *draft) run() {
	defer d.s.draftsWG.Done()
	defer close(d.done)
	defer d.unwatch()
	d.loadOrForget()
	var next any // a request read while a batch was drained: handled next
	for {
		d.reap() // what the previous request's pushes found dead
		req := next
		if req == nil {
			var exit bool
			if req, exit = d.await(); exit {
				return
			}
		}
		next = nil
		if req != nil {
			next = d.handle(req)
		}
	}
}

// loadOrForget loads the draft (loadErr says why it could not). A draft
// that failed to load is forgotten, so that the next open tries again
// (storage may be back); the requests already holding it are answered
// with loadErr.
func (d *draft) loadOrForget() {
	if d.loadErr = d.watch(); d.loadErr == nil {
		d.loadErr = d.load()
	}
	if d.loadErr == nil {
		return
	}
	d.s.mu.Lock()
	if d.s.drafts[d.id] == d {
		delete(d.s.drafts, d.id)
	}
	d.s.mu.Unlock()
	if !errors.Is(d.loadErr, storage.ErrNotFound) {
		d.s.log.Error("load draft", "draft", d.id, "err", d.loadErr)
	}
}

// await waits for the next request and returns it, or returns nil after
// handling one of the owner's other events: the last holder left (the
// idle timer starts), the idle timer fired, other nodes committed, a
// background snapshot ended. exit: the draft has stopped.
func (d *draft) await() (req any, exit bool) {
	select {
	case req = <-d.in:
		return req, false
	case <-d.idle:
		if d.loadErr != nil {
			return nil, d.tryExit()
		}
		d.idleTimer = time.After(d.s.cfg.IdleGrace)
	case <-d.idleTimer:
		d.idleTimer = nil
		return nil, d.tryExit()
	case <-d.remote.signal:
		d.cork()
		d.applyRemote()
		d.uncork()
	case rev := <-d.snapDone:
		d.snapBusy = false
		d.lastSnap = max(d.lastSnap, rev)
	case <-d.s.ctx.Done():
		d.stop()
		return nil, true
	}
	return nil, false
}

// handle answers one request. A submission is committed in one batch with
// those queued behind it (up to Config.BatchMax); the first request of
// another kind read meanwhile is returned, to be handled next.
func (d *draft) handle(req any) (next any) {
	switch r := req.(type) {
	case *submitReq, *builtReq:
		next := d.drainBatch(r)
		d.cork()
		d.commitBatch(d.batch)
		d.uncork()
		clear(d.batch) // let the requests go
		return next
	case *openReq:
		r.reply <- d.open(r)
	case *closeReq:
		return d.closeBatch(r)
	case *presenceReq:
		d.presence(r)
	case *doReq:
		r.reply <- d.do(r.fn)
	}
	return nil
}

// drainBatch makes d.batch first and the submissions queued behind it, up
// to Config.BatchMax, without waiting; next is the first request of
// another kind it read, or nil.
func (d *draft) drainBatch(first any) (next any) {
	d.batch = append(d.batch[:0], first)
	for len(d.batch) < d.s.cfg.BatchMax {
		select {
		case x := <-d.in:
			switch x.(type) {
			case *submitReq, *builtReq:
				d.batch = append(d.batch, x)
			default:
				return x
			}
		default:
			return nil
		}
	}
	return nil
}

// tryExit stops the draft if nobody holds it and nothing is queued.
func (d *draft) tryExit() bool {
	d.s.mu.Lock()
	if d.refs > 0 || len(d.in) > 0 {
		d.s.mu.Unlock()
		return false
	}
	if d.s.drafts[d.id] == d {
		delete(d.s.drafts, d.id)
	}
	d.s.mu.Unlock()
	d.stop()
	return true
}

// stop waits for a background snapshot to finish.
func (d *draft) stop() {
	if d.snapBusy {
		<-d.snapDone
		d.snapBusy = false
	}
}

// load reads the draft's latest snapshot and the ops after it, and builds
// the observers.
func (d *draft) load() error {
	ctx, cancel := d.storeCtx()
	defer cancel()
	info, err := d.s.store.Draft(ctx, d.id)
	if err != nil {
		return fmt.Errorf("load %s: %w", d.id, err)
	}
	snap, err := d.s.store.Snapshot(ctx, d.id, info.Rev)
	if err != nil {
		return fmt.Errorf("load %s snapshot: %w", d.id, err)
	}
	// Read to the head, not to info.Rev: on a shared store another node may
	// have committed since.
	ops, err := d.s.store.Ops(ctx, d.id, snap.Rev+1, math.MaxInt32)
	if err != nil {
		return fmt.Errorf("load %s ops: %w", d.id, err)
	}
	d.info = info
	d.text = ot.NewText(snap.Text)
	d.rev = snap.Rev
	d.lastSnap = snap.Rev
	head := snap.Rev
	if len(ops) > 0 {
		head = ops[len(ops)-1].Rev
	}
	fresh, err := d.loadObservers(ctx, snap, head)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if op.Rev != d.rev+1 {
			return fmt.Errorf("load %s: op log has rev %d after %d", d.id, op.Rev, d.rev)
		}
		if _, err := d.text.Apply(op.Op); err != nil {
			return fmt.Errorf("load %s: op %d does not apply: %w", d.id, op.Rev, err)
		}
		d.rev = op.Rev
		d.remember(op)
		for _, o := range fresh {
			o.ApplyOp(op, d.text)
		}
	}
	d.info.Rev = d.rev
	d.head.Store(int64(d.rev))
	return nil
}

// remember records a committed op in the ring and the dedupe cache.
func (d *draft) remember(op dr.Op) {
	if op.Principal != SystemPrincipal {
		d.dedupe[dedupeKey{op.Principal, op.Client}] = seqRev{op.Seq, op.Rev}
	}
	d.ring = append(d.ring, ringOp{op: op, frame: encodeOp(d.id, op)})
	if n := d.s.cfg.RecentOps; len(d.ring) > 2*n {
		d.ring = append(make([]ringOp, 0, 2*n+1), d.ring[len(d.ring)-n:]...)
	}
	if op.TS > 0 {
		d.info.Updated = op.TS
	}
}

// opsRange returns committed ops from..to (1 <= from, to <= rev), from the
// ring when it holds them, else from the store.
func (d *draft) opsRange(from, to int) ([]dr.Op, error) {
	if from > to {
		return nil, nil
	}
	if len(d.ring) > 0 && from >= d.ring[0].op.Rev {
		first := d.ring[0].op.Rev
		out := make([]dr.Op, 0, to-from+1)
		for _, r := range d.ring[from-first : to-first+1] {
			out = append(out, r.op)
		}
		return out, nil
	}
	ctx, cancel := d.storeCtx()
	defer cancel()
	ops, err := d.s.store.Ops(ctx, d.id, from, to)
	if err != nil {
		return nil, fmt.Errorf("ops %s %d..%d: %w", d.id, from, to, err)
	}
	if len(ops) != to-from+1 {
		return nil, fmt.Errorf("ops %s %d..%d: store returned %d ops", d.id, from, to, len(ops))
	}
	return ops, nil
}

// staged is one item of a batch after it was looked at: an op applied to
// the text (inverse set), a resend of an op already committed (ackRev), or
// a refusal (err).
type staged struct {
	sub     *submitReq
	built   *builtReq
	op      dr.Op // when applied
	inverse ot.Op
	applied bool
	dupOf   *staged // a resend of an op staged earlier in this batch
	ackRev  int     // a resend of a committed op
	err     error
	extras  Built
}

// commitBatch commits a batch of submissions: it stages them on the text,
// gathers the commit of those that applied, stores it (staging again after a revision conflict
// with another node, or a duplicate), then answers every submission and
// updates derived state. On a store error the text is rolled back and
// nobody is acked.
func (d *draft) commitBatch(batch []any) {
	err := d.loadErr
	if err == nil {
		err = d.resync()
	}
	if err != nil {
		d.refuseAll(batch, err)
		return
	}
	// Submissions found in the store after it reported a duplicate: acked
	// at their stored revision, never applied again.
	var known map[*submitReq]int
	for attempt := 0; ; attempt++ {
		items := d.stage(batch, known)
		var c dr.Commit
		var undo []ot.Op // the inverse of each op of c, for the observers
		for _, it := range items {
			if it.applied {
				c.Ops = append(c.Ops, it.op)
				undo = append(undo, it.inverse)
				c.Proposals = append(c.Proposals, it.extras.Proposals...)
				c.Decisions = append(c.Decisions, it.extras.Decisions...)
			}
		}
		err := d.store(c)
		if err == nil {
			d.answer(items, true)
			d.afterCommit(c.Ops, undo...)
			return
		}
		d.rollback(items)
		if err = d.retry(err, attempt, items, &known); err == nil {
			continue
		}
		d.refuseBatch(items, len(c.Ops), err)
		return
	}
}

// refuseAll answers every request of a batch that could not be staged
// (the draft did not load, or the store could not be read) with err.
func (d *draft) refuseAll(batch []any, err error) {
	for _, x := range batch {
		switch r := x.(type) {
		case *submitReq:
			d.sendError(r.sess, err, r.seq, r.ref)
		case *builtReq:
			r.reply <- builtResult{err: err}
		}
	}
}

// store writes c after the committed head; a commit without ops writes
// nothing.
func (d *draft) store(c dr.Commit) error {
	if len(c.Ops) == 0 {
		return nil
	}
	ctx, cancel := d.storeCtx()
	defer cancel()
	start := time.Now()
	err := d.s.store.Commit(ctx, d.id, d.rev, c)
	d.s.stats.CommitLatency.Observe(time.Since(start))
	return err
}

// retry decides what follows a failed Commit (attempt counts from 0; the
// text is rolled back): nil when the batch is to be staged again, after
// catching up with the ops another node committed first or finding which
// submissions the store holds already (added to known); else the error
// to answer the batch with.
func (d *draft) retry(err error, attempt int, items []*staged, known *map[*submitReq]int) error {
	if unknownOutcome(err) {
		// The ops may be in the log (only the reply was lost): read it
		// before building on the text again.
		d.stale = true
	}
	switch {
	case errors.Is(err, storage.ErrRevConflict):
		d.s.stats.CommitConflicts.Add(1)
		if attempt >= maxConflictRetries {
			// Not a fault: other nodes kept committing first. Retryable;
			// and the log holds ops not applied here yet.
			d.stale = true
			return fmt.Errorf("%w: draft %s is busy on other nodes (%d attempts): %w", errUnavailable, d.id, attempt+1, err)
		}
		if cerr := d.catchUp(); cerr != nil {
			return cerr
		}
		d.s.stats.CommitRetries.Add(1)
		return nil
	case errors.Is(err, storage.ErrDuplicate) && attempt < maxConflictRetries:
		if *known == nil {
			*known = make(map[*submitReq]int)
		}
		if derr := d.findDuplicates(items, *known); derr != nil {
			return fmt.Errorf("%w (after %w)", derr, err)
		}
		return nil
	}
	return err
}

// refuseBatch answers a batch whose commit of ops ops failed for good with
// err, logged here once: the submissions that were staged get err, the
// others their own answer.
func (d *draft) refuseBatch(items []*staged, ops int, err error) {
	d.s.stats.StoreErrors.Add(1)
	level := slog.LevelError
	if errors.Is(err, errUnavailable) || errors.Is(err, storage.ErrUnavailable) {
		level = slog.LevelWarn // the clients resend; nothing is broken
	}
	d.s.storeErrs.log(d.s.log, time.Now(), level, "commit", "draft", d.id, "base", d.rev, "ops", ops, "err", err)
	for _, it := range items {
		if it.applied || (it.dupOf != nil && it.dupOf.applied) {
			it.err = alreadyLogged{err}
		}
	}
	d.answer(items, false)
}

// unknownOutcome reports whether a failed Commit may have landed anyway:
// the store was unreachable or the call timed out, perhaps after the write.
func unknownOutcome(err error) bool {
	return errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// resync reads the ops committed after rev when a commit's outcome was
// unknown, so that nothing is built on a text that may lack them.
func (d *draft) resync() error {
	if !d.stale {
		return nil
	}
	if err := d.catchUp(); err != nil {
		return err
	}
	d.stale = false
	return nil
}

// findDuplicates handles storage.ErrDuplicate from Commit: some submission
// of the batch was committed already (an earlier commit whose outcome was
// unknown, or another node). It catches up with the log, then looks each
// submission up in the store and records the found ones in known, so that
// the batch is staged again without them and they are acked at their
// stored revision. It fails when the store knows none of them.
func (d *draft) findDuplicates(items []*staged, known map[*submitReq]int) error {
	if err := d.catchUp(); err != nil {
		return err
	}
	found := 0
	for _, it := range items {
		if !it.applied || it.sub == nil {
			continue
		}
		r := it.sub
		ctx, cancel := d.storeCtx()
		rev, err := d.s.store.SeqRev(ctx, d.id, r.ident.Principal, r.client, r.seq, r.rev)
		cancel()
		switch {
		case err == nil:
			known[r] = rev
			found++
		case !errors.Is(err, storage.ErrNotFound):
			return fmt.Errorf("dedupe %s: %w", d.id, err)
		}
	}
	if found == 0 {
		return fmt.Errorf("dedupe %s: the store reports a duplicate it does not hold", d.id)
	}
	return nil
}

// stage applies the batch's submissions to the text in order, without
// committing them, and returns what became of each. A submission in known
// is a resend of an op committed at that revision.
func (d *draft) stage(batch []any, known map[*submitReq]int) []*staged {
	items := make([]*staged, 0, len(batch))
	// pending is each client's last submission staged; kept apart from b,
	// whose ops leak to the guards and BuildFuncs, so that it stays on the
	// stack.
	pending := make(map[dedupeKey]*staged)
	b := batchStage{now: d.s.cfg.Now().UnixMilli()}
	d.tentative = 0
	for _, x := range batch {
		var it *staged
		switch r := x.(type) {
		case *submitReq:
			it = d.stageSubmission(&b, pending, r, known[r])
		case *builtReq:
			it = d.stageBuilt(&b, r)
		}
		items = append(items, it)
		if it.applied {
			b.applied = append(b.applied, it)
			b.appliedOps = append(b.appliedOps, it.op)
			d.tentative = len(b.applied)
		}
	}
	d.tentative = 0
	return items
}

// batchStage is what staging a batch has done so far.
type batchStage struct {
	applied    []*staged // the items applied to the text, in order
	appliedOps []dr.Op   // their ops, for the guards
	now        int64     // the ops' timestamp (Unix ms)
}

// nextRev is the revision the next op staged will commit as.
func (d *draft) nextRev(b *batchStage) int { return d.rev + len(b.applied) + 1 }

// stageSubmission stages a client's op unless it is a resend (knownRev:
// the revision the store holds it at, or 0) or refused: transformed to the
// staged text, checked by the guards, applied. pending holds each client's
// last submission staged in the batch.
func (d *draft) stageSubmission(b *batchStage, pending map[dedupeKey]*staged, r *submitReq, knownRev int) *staged {
	it := &staged{sub: r, ackRev: knownRev}
	if knownRev > 0 {
		return it
	}
	key := dedupeKey{r.ident.Principal, r.client}
	if !d.isNew(pending, key, it) {
		return it
	}
	if it.err = d.archivedFor(r.ident); it.err != nil {
		return it
	}
	op, err := d.transform(r.op, r.rev, b.applied)
	if err == nil {
		err = d.guard(op, b.appliedOps)
	}
	if err == nil {
		err = d.applyStaged(it, op)
	}
	if err != nil {
		it.err = err
		return it
	}
	it.op = dr.Op{
		Rev: d.nextRev(b), Op: op, Client: r.client, Seq: r.seq,
		Principal: r.ident.Principal, By: r.ident.Author, TS: b.now,
	}
	pending[key] = it
	return it
}

// isNew reports whether submission it (of client key) is new, to be
// staged. Otherwise it is marked as what it is: a resend of a submission
// staged earlier in the batch (dupOf, found in pending) or of a committed
// one (ackRev), or a refusal (err: its seq went backwards).
func (d *draft) isNew(pending map[dedupeKey]*staged, key dedupeKey, it *staged) bool {
	r := it.sub
	p := pending[key]
	switch {
	case p == nil:
		it.ackRev, it.err = d.committedSeq(key, r.seq, r.rev)
		return it.ackRev == 0 && it.err == nil
	case r.seq == p.sub.seq:
		it.dupOf = p
		return false
	case r.seq < p.sub.seq:
		it.ackRev, it.err = d.committedSeq(key, r.seq, r.rev)
		if it.ackRev == 0 && it.err == nil {
			// Not committed, and after a greater seq: refused, as it is
			// when the greater one was committed in an earlier batch.
			it.err = dr.Errorf(dr.CodeBadRequest, "seq %d is not greater than %d, the seq of client %s's op before it", r.seq, p.sub.seq, key.client)
		}
		return false
	}
	return true // after the client's op staged in this batch
}

// stageBuilt stages a server-side op: built on the staged text, checked
// by the guards (unless Unguarded), applied; its records are stamped with
// the revision it will commit as.
func (d *draft) stageBuilt(b *batchStage, r *builtReq) *staged {
	it := &staged{built: r}
	if it.err = d.archivedFor(r.by); it.err != nil {
		return it
	}
	built, err := d.build(r, b.applied)
	if err == nil && !built.Unguarded {
		err = d.guard(built.Op, b.appliedOps)
	}
	if err == nil {
		err = d.applyStaged(it, built.Op)
	}
	if err != nil {
		it.err = err
		return it
	}
	rev := d.nextRev(b)
	it.op = dr.Op{
		Rev: rev, Op: built.Op, Client: SystemClient, Seq: uint64(rev),
		Principal: SystemPrincipal, By: r.by.Author, TS: b.now,
		Kind: built.Kind, Group: built.Group,
	}
	for i := range built.Proposals {
		built.Proposals[i].Draft, built.Proposals[i].Rev, built.Proposals[i].TS = d.id, rev, b.now
	}
	for i := range built.Decisions {
		built.Decisions[i].Draft, built.Decisions[i].Rev, built.Decisions[i].TS = d.id, rev, b.now
	}
	it.extras = built
	return it
}

// build runs r's BuildFunc on the text as staged (after the ops of
// staged) and returns what it built, its op normalised and checked.
func (d *draft) build(r *builtReq, staged []*staged) (Built, error) {
	d.staging = staged
	b, err := r.build(&DraftState{d: d})
	d.staging = nil
	if err != nil {
		return Built{}, err
	}
	b.Op = ot.Normalize(b.Op)
	if err := b.Op.Check(); err != nil {
		return Built{}, fmt.Errorf("built op: %w", err)
	}
	return b, nil
}

// guard asks the draft's Guards whether op may be staged after staged.
func (d *draft) guard(op ot.Op, staged []dr.Op) error {
	for _, o := range d.observers {
		if g, ok := o.obs.(Guard); ok {
			if err := g.Check(op, staged); err != nil {
				return err
			}
		}
	}
	return nil
}

// committedSeq answers whether submission (key, seq), made on revision
// rev, was committed: its rev, or 0 for a new submission, or an error for
// a seq that went backwards. Exact however old the submission: its
// committed copy lies in rev+1..d.rev (the ops it is transformed over),
// searched in the ring when it holds them, else by the store (SeqRev's
// after), so that dedupe costs no storage beyond the ops themselves.
func (d *draft) committedSeq(key dedupeKey, seq uint64, rev int) (int, error) {
	last, cached := d.dedupe[key]
	if cached && seq == last.seq {
		return last.rev, nil
	}
	if cached && seq > last.seq {
		return 0, nil
	}
	after := min(max(rev, 0), d.rev)
	if len(d.ring) > 0 && after+1 >= d.ring[0].op.Rev {
		for _, r := range d.ring[after+1-d.ring[0].op.Rev:] {
			if r.op.Seq == seq && r.op.Client == key.client && r.op.Principal == key.principal {
				return r.op.Rev, nil
			}
		}
		after = d.rev // searched: the store need only look in its index
	}
	ctx, cancel := d.storeCtx()
	defer cancel()
	found, err := d.s.store.SeqRev(ctx, d.id, key.principal, key.client, seq, after)
	switch {
	case err == nil:
		return found, nil
	case errors.Is(err, storage.ErrNotFound) && !cached:
		return 0, nil
	case errors.Is(err, storage.ErrNotFound):
		return 0, dr.Errorf(dr.CodeBadRequest, "seq %d is not greater than %d, the last committed seq of client %s, and was not committed after revision %d", seq, last.seq, key.client, rev)
	}
	return 0, fmt.Errorf("dedupe %s: %w", d.id, err)
}

// transform brings op from base rev up to the staged state: against the
// committed ops rev+1..d.rev, then the ops staged before it in this batch,
// with op on side Left (the contract's rule).
func (d *draft) transform(op ot.Op, rev int, staged []*staged) (ot.Op, error) {
	if rev > d.rev {
		return nil, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of the draft (at %d)", rev, d.rev)
	}
	if rev < 0 {
		return nil, dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
	}
	if err := op.Check(); err != nil {
		return nil, err
	}
	var err error
	if len(d.ring) > 0 && rev+1 >= d.ring[0].op.Rev {
		// The usual case: recent ops, transformed in place in the ring.
		for _, r := range d.ring[rev+1-d.ring[0].op.Rev:] {
			if op, err = ot.Transform(op, r.op.Op, ot.Left); err != nil {
				return nil, err
			}
		}
	} else {
		since, err := d.opsRange(rev+1, d.rev)
		if err != nil {
			return nil, err
		}
		for _, c := range since {
			if op, err = ot.Transform(op, c.Op, ot.Left); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range staged {
		if op, err = ot.Transform(op, s.op.Op, ot.Left); err != nil {
			return nil, err
		}
	}
	if rev == d.rev && len(staged) == 0 {
		// Nothing to transform over: the op is stored as sent, so normalise
		// it here. ot.Transform already returns normal form, so a
		// transformed op needs no second pass (one allocation per op).
		return ot.Normalize(op), nil
	}
	return op, nil
}

// applyStaged applies op to the text, keeping the inverse for rollback.
func (d *draft) applyStaged(it *staged, op ot.Op) error {
	if grow := op.TargetLen() - op.BaseLen(); grow > 0 && d.text.Len()+grow > d.s.cfg.MaxDraftLen {
		return dr.Errorf(dr.CodeTooLarge, "the draft would exceed %d characters", d.s.cfg.MaxDraftLen)
	}
	inv, err := d.text.Apply(op)
	if err != nil {
		return err
	}
	it.inverse, it.applied = inv, true
	return nil
}

// rollback undoes the staged ops, newest first.
func (d *draft) rollback(items []*staged) {
	for i := len(items) - 1; i >= 0; i-- {
		if !items[i].applied {
			continue
		}
		if _, err := d.text.Apply(items[i].inverse); err != nil {
			// Cannot happen with a correct Text; if it does, the in-memory
			// text is no longer trustworthy: reload it from the store.
			d.s.log.Error("rollback", "draft", d.id, "err", err)
			if lerr := d.reloadText(); lerr != nil {
				d.loadErr = lerr
			}
			return
		}
	}
}

func (d *draft) reloadText() error {
	d.ring, d.observers = nil, nil
	d.dedupe = make(map[dedupeKey]seqRev)
	return d.load()
}

// catchUp loads the ops another node committed after rev, applies and
// broadcasts them.
func (d *draft) catchUp() error {
	ctx, cancel := d.storeCtx()
	ops, err := d.s.store.Ops(ctx, d.id, d.rev+1, math.MaxInt32)
	cancel()
	if err != nil {
		return fmt.Errorf("catch up %s: %w", d.id, err)
	}
	for i, op := range ops {
		if op.Rev != d.rev+1 {
			return fmt.Errorf("catch up %s: rev %d after %d", d.id, op.Rev, d.rev)
		}
		if _, err := d.text.Apply(op.Op); err != nil {
			return fmt.Errorf("catch up %s: op %d: %w", d.id, op.Rev, err)
		}
		frame := d.record(op)
		d.head.Store(int64(d.rev))
		d.fanOut(frame, nil)
		d.afterCommit(ops[i : i+1])
	}
	return nil
}

// answer sends acks, errors and broadcasts for a batch, in order, and
// records committed ops.
func (d *draft) answer(items []*staged, committed bool) {
	var t answerTally
	for _, it := range items {
		switch {
		case it.sub != nil:
			d.answerSubmission(it, committed, &t)
		case it.built != nil:
			d.answerBuilt(it, committed, &t)
		}
	}
	d.info.Rev = d.rev
	d.head.Store(int64(d.rev))
	if t.ops > 0 {
		d.s.stats.OpsCommitted.Add(t.ops)
	}
	if t.frames > 0 {
		d.s.stats.FanoutFrames.Add(t.frames)
	}
}

// answerTally counts what answering a batch did, for the stats.
type answerTally struct {
	now    time.Time // read once, at the first ack measured
	ops    uint64    // committed
	frames uint64    // fanned out
}

// answerSubmission answers a client's submission: its error, or its ack
// (the op is recorded and fanned out to the other subscribers).
func (d *draft) answerSubmission(it *staged, committed bool, t *answerTally) {
	r := it.sub
	switch {
	case it.err != nil:
		code, _, _ := protocolError(it.err)
		d.s.stats.refuse(code)
		d.sendError(r.sess, it.err, r.seq, r.ref)
	case it.dupOf != nil && it.dupOf.err != nil:
		d.sendError(r.sess, it.dupOf.err, r.seq, r.ref)
	case it.dupOf != nil:
		d.sendTo(r.sess, encodeAck(d.id, r.seq, it.dupOf.op.Rev, r.ref))
	case it.ackRev > 0:
		d.sendTo(r.sess, encodeAck(d.id, r.seq, it.ackRev, r.ref))
	case it.applied && committed:
		frame := d.record(it.op)
		d.sendTo(r.sess, encodeAck(d.id, r.seq, it.op.Rev, r.ref))
		if !r.at.IsZero() {
			if t.now.IsZero() {
				t.now = time.Now()
			}
			d.s.stats.AckLatency.Observe(t.now.Sub(r.at))
		}
		t.ops++
		t.frames += d.fanOut(frame, r.sess)
	}
}

// answerBuilt answers a server-side op's caller: its error, or the
// committed op (recorded and fanned out to every subscriber).
func (d *draft) answerBuilt(it *staged, committed bool, t *answerTally) {
	if it.err != nil {
		it.built.reply <- builtResult{err: it.err}
		return
	}
	if committed && it.applied {
		frame := d.record(it.op)
		t.ops++
		t.frames += d.fanOut(frame, nil)
		it.built.reply <- builtResult{op: it.op}
	}
}

// record makes a committed op the draft's head and returns its encoded
// "op" message.
func (d *draft) record(op dr.Op) (frame []byte) {
	d.rev = op.Rev
	d.remember(op)
	return d.ring[len(d.ring)-1].frame
}

// fanOut pushes frame to every subscriber but except (which was acked
// instead; nil for none) and returns how many it pushed to.
func (d *draft) fanOut(frame []byte, except *Session) (frames uint64) {
	for sess, sub := range d.subs {
		if sess != except {
			d.push(sub, frame)
			frames++
		}
	}
	return frames
}

// afterCommit updates derived state (observers, presence) and writes a
// snapshot when one is due. The owner's text is as the last of ops left
// it; with more than one op, undo holds the inverse of each (undo[i] takes
// the text after ops[i] back to before it), so that each observer sees the
// text as each op left it.
func (d *draft) afterCommit(ops []dr.Op, undo ...ot.Op) {
	if len(ops) == 0 {
		return
	}
	if err := d.observe(ops, undo); err != nil {
		// Cannot happen with a correct Text; if it does, the in-memory text
		// is no longer trustworthy: reload it (and the observers) from the
		// store.
		d.s.log.Error("observers", "draft", d.id, "err", err)
		if lerr := d.reloadText(); lerr != nil {
			d.loadErr = lerr
		}
	}
	for _, op := range ops {
		for _, sub := range d.subs {
			if sub.hasSel {
				for i := range sub.sel {
					sub.sel[i] = ot.TransformSelection(sub.sel[i], op.Op)
				}
			}
		}
	}
	for _, sub := range d.subs {
		if sub.hasSel {
			sub.presence = nil // re-encoded at the new rev when needed
		}
	}
	if d.rev-d.lastSnap >= d.s.cfg.SnapshotEvery && !d.snapBusy {
		d.snapshot()
	}
}

// observe feeds ops to the observers, each with the owner's text as that op
// left it: the text is taken back to after ops[0] with undo, then forward
// again op by op (a batch of one op costs nothing more).
func (d *draft) observe(ops []dr.Op, undo []ot.Op) error {
	if len(d.observers) == 0 {
		return nil
	}
	if len(ops) > 1 && len(undo) != len(ops) {
		return fmt.Errorf("observe %d ops with %d inverses", len(ops), len(undo))
	}
	for i := len(ops) - 1; i > 0; i-- {
		if _, err := d.text.Apply(undo[i]); err != nil {
			return fmt.Errorf("undo op %d: %w", ops[i].Rev, err)
		}
	}
	for i, op := range ops {
		if i > 0 {
			if _, err := d.text.Apply(op.Op); err != nil {
				return fmt.Errorf("redo op %d: %w", op.Rev, err)
			}
		}
		for _, o := range d.observers {
			o.obs.ApplyOp(op, d.text)
		}
	}
	return nil
}

// snapshot writes the text and the observers' sections at the current rev,
// in the background (off the ack path).
func (d *draft) snapshot() {
	snap := dr.Snapshot{Rev: d.rev, Text: d.text.String()}
	for _, o := range d.observers {
		name, data := o.obs.Meta()
		if data != nil {
			if snap.Meta == nil {
				snap.Meta = make(map[string]json.RawMessage)
			}
			snap.Meta[name] = data
		}
	}
	d.snapBusy = true
	go func() {
		ctx, cancel := d.storeCtx()
		defer cancel()
		if err := d.s.store.PutSnapshot(ctx, d.id, snap); err != nil {
			d.s.log.Warn("snapshot", "draft", d.id, "rev", snap.Rev, "err", err)
			d.snapDone <- -1
			return
		}
		d.snapDone <- snap.Rev
	}()
}

// open subscribes a session: a snapshot, or the ops after rev then
// "opened"; both carry the others' presence.
func (d *draft) open(r *openReq) error {
	if d.loadErr != nil {
		return d.loadErr
	}
	if err := d.resync(); err != nil {
		d.s.log.Debug("resync", "draft", d.id, "err", err)
	}
	if r.rev != nil {
		if *r.rev > d.rev {
			return dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", *r.rev, d.id, d.rev)
		}
		if *r.rev < 0 {
			return dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
		}
	}
	present := make([]json.RawMessage, 0, len(d.subs))
	for sess, sub := range d.subs {
		if sess != r.sess && sub.hasSel {
			present = append(present, d.presenceEntry(sub))
		}
	}
	sub := &subscriber{sess: r.sess, client: r.client, principal: r.principal, by: r.by, role: r.role}
	if r.rev == nil {
		d.subs[r.sess] = sub
		d.sendTo(r.sess, encode(snapshotMsg{Type: "snapshot", Doc: d.id, Rev: d.rev, Text: d.text.String(), Present: present, Ref: r.ref}))
		return nil
	}
	from := *r.rev + 1
	if len(d.ring) > 0 && from >= d.ring[0].op.Rev {
		first := d.ring[0].op.Rev
		for _, ro := range d.ring[from-first:] {
			d.sendTo(r.sess, ro.frame)
		}
	} else if from <= d.rev {
		ops, err := d.opsRange(from, d.rev)
		if err != nil {
			return err
		}
		for _, op := range ops {
			d.sendTo(r.sess, encodeOp(d.id, op))
		}
	}
	d.subs[r.sess] = sub
	d.sendTo(r.sess, encode(openedMsg{Type: "opened", Doc: d.id, Rev: d.rev, Present: present, Ref: r.ref}))
	return nil
}

func (d *draft) do(fn func(*DraftState) error) error {
	if d.loadErr != nil {
		return d.loadErr
	}
	if err := d.resync(); err != nil {
		// Serve what is known; the store is unreachable anyway.
		d.s.log.Debug("resync", "draft", d.id, "err", err)
	}
	return fn(&DraftState{d: d})
}

// push queues a frame for a subscriber; a full queue disconnects it.
// Frames of other clients (ops, presence) are not urgent: see
// Session.queueQuiet.
func (d *draft) push(sub *subscriber, frame []byte) {
	d.queueFrame(sub.sess, frame, false)
}

// sendTo queues a reply for a session (which may have no subscription);
// a full queue disconnects it.
func (d *draft) sendTo(sess *Session, frame []byte) {
	d.queueFrame(sess, frame, true)
}

// queueFrame queues a frame. While the draft is corked, the session's
// write pump is woken only at uncork.
func (d *draft) queueFrame(sess *Session, frame []byte, urgent bool) {
	if sess == nil {
		return
	}
	if !sess.queueQuiet(frame, urgent) {
		d.dead = append(d.dead, sess) // not now: the caller may be ranging over subs
		return
	}
	if urgent && d.corking {
		d.corkedUrgent = append(d.corkedUrgent, sess)
	}
	d.wake(sess)
}

// wake wakes a session's write pump for what was queued, or at uncork.
func (d *draft) wake(sess *Session) {
	if d.corking {
		d.corked[sess] = struct{}{}
	} else {
		sess.send.signal()
	}
}

// cork holds back the write pumps' wake-ups until uncork, so that every
// frame a batch of commits produces for one session (its acks and the
// others' ops) goes out in one write instead of one write per frame: with
// many subscribers, fan-out cost is mostly system calls.
func (d *draft) cork() {
	if d.corked == nil {
		d.corked = make(map[*Session]struct{})
	}
	d.corking = true
}

// uncork wakes the write pump of every session that was sent frames while
// corked: first those with a reply (an ack), whose clients wait for it,
// then the others, so that an ack does not queue behind a fan-out to
// hundreds of readers.
func (d *draft) uncork() {
	d.reap() // while corked: the "left" frames join the others' wake-up
	for i, sess := range d.corkedUrgent {
		sess.send.signal()
		d.corkedUrgent[i] = nil
	}
	d.corkedUrgent = d.corkedUrgent[:0]
	for sess := range d.corked {
		sess.send.signal()
	}
	clear(d.corked)
	d.corking = false
}

// sendError answers a request of sess about this draft with err (seq: an
// op's, or 0).
func (d *draft) sendError(sess *Session, err error, seq uint64, ref json.RawMessage) {
	if sess == nil {
		return
	}
	to := replyTo{doc: d.id, ref: ref}
	if seq > 0 {
		to.seq = &seq
	}
	d.sendTo(sess, d.s.errorFrame(err, to, "draft", "draft", d.id))
}

// DraftState is read access to a loaded draft for features, valid only
// inside the function it is passed to (which runs in the draft's owner
// goroutine; it must be quick and must not keep st).
type DraftState struct{ d *draft }

// ID is the draft's id.
func (st *DraftState) ID() string { return st.d.id }

// Info is the draft's metadata (Rev is the committed head).
func (st *DraftState) Info() dr.Draft { return st.d.info }

// Rev is the revision Text is at: the committed head, or, inside a
// BuildFunc, the head plus the ops staged before it (the built op commits
// as Rev+1).
func (st *DraftState) Rev() int { return st.d.rev + st.d.tentative }

// Text is the draft's text at Rev. Read it; never modify it.
func (st *DraftState) Text() *ot.Text { return st.d.text }

// Observer returns the draft's observer registered under name, or nil.
func (st *DraftState) Observer(name string) Observer {
	for _, o := range st.d.observers {
		if o.name == name {
			return o.obs
		}
	}
	return nil
}

// Staged returns, inside a BuildFunc, the ops staged before it in its
// batch (revisions Info().Rev+1..Rev(), not committed yet), so a feature
// that keeps derived state at the committed head can bring it up to Rev.
// Outside a BuildFunc it returns nil.
func (st *DraftState) Staged() []dr.Op {
	if len(st.d.staging) == 0 {
		return nil
	}
	out := make([]dr.Op, len(st.d.staging))
	for i, it := range st.d.staging {
		out[i] = it.op
	}
	return out
}

// Ops returns committed ops from..to (clipped to the head), from memory
// when recent.
func (st *DraftState) Ops(from, to int) ([]dr.Op, error) {
	from = max(from, 1)
	to = min(to, st.d.rev)
	return st.d.opsRange(from, to)
}

// Subscribers is the number of sessions subscribed to the draft.
func (st *DraftState) Subscribers() int { return len(st.d.subs) }
