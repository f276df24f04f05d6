package storage

// Commits: encoded in the caller's goroutine, checked against bbolt and
// the commits logged before them (head, dedupe windows), appended to the
// write-ahead log by the writer, and written into bbolt by a checkpoint
// (commitTx).

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/draftroom/draftroom/dr"
)

// logCommits checks each commit against bbolt and the commits logged
// before it, appends those that pass to the log in one write, syncs it
// and answers them all.
func (b *Bolt) logCommits(reqs []*writeReq) {
	lb, err := b.checkBatch(reqs)
	if err == nil && len(lb.logged) > 0 {
		err = b.appendLog(lb.frames)
	}
	if err == nil {
		b.noteLogged(lb)
	}
	for i, r := range reqs {
		if err != nil && lb.results[i] == nil {
			lb.results[i] = fmt.Errorf("storage: commit %s@%d: %w", r.commit.id, r.commit.base, err)
		}
		r.err <- lb.results[i]
	}
}

// logBatch is a batch of commits checked for the log: each one's refusal
// (results), and those that passed, encoded as log frames, with the
// heads and client windows they make.
type logBatch struct {
	results []error
	logged  []*walCommit
	frames  []byte
	heads   map[string]int
	windows map[string]map[string]recentWindow
}

// checkBatch checks each commit of reqs against bbolt and the commits
// logged before it, this batch's included. The error (the store refuses
// writes, or bbolt cannot be read) is every unrefused commit's.
func (b *Bolt) checkBatch(reqs []*writeReq) (logBatch, error) {
	lb := logBatch{results: make([]error, len(reqs))}
	if err := b.refusing(); err != nil {
		return lb, err
	}
	lb.heads = map[string]int{}
	lb.windows = map[string]map[string]recentWindow{}
	var payload []byte
	err := b.db.View(func(tx *bolt.Tx) error {
		for i, r := range reqs {
			c := r.commit
			w, err := b.checkLogged(tx, c, lb.heads, lb.windows)
			if err != nil {
				lb.results[i] = err
				continue
			}
			lb.heads[c.id] = c.enc.lastRev
			if lb.windows[c.id] == nil {
				lb.windows[c.id] = map[string]recentWindow{}
			}
			maps.Copy(lb.windows[c.id], w)
			payload = appendWALRecord(payload[:0], c)
			lb.frames = appendWALFrame(lb.frames, payload)
			lb.logged = append(lb.logged, c)
		}
		return nil
	})
	return lb, err
}

// appendLog appends frames to the current log file in one write and
// syncs it. A failed sync leaves the log unusable: writes are refused
// until a restart (walErr).
func (b *Bolt) appendLog(frames []byte) error {
	err := b.wals[b.cur].write(frames)
	if errors.Is(err, errWALSync) {
		b.walErr = err
		b.setHealth()
	}
	if err == nil {
		b.appends.Add(1)
	}
	return err
}

// noteLogged records a logged batch's commits as pending for the next
// checkpoint, and their heads and windows for the next commits' checks.
func (b *Bolt) noteLogged(lb logBatch) {
	if len(b.pending) == 0 && len(lb.logged) > 0 {
		b.pendingAt = time.Now()
	}
	b.pending = append(b.pending, lb.logged...)
	for _, c := range lb.logged {
		b.pendOps += len(c.enc.ops)
		b.lastGen[c.id] = b.gen
	}
	b.unsettled.Store(int64(len(b.pending) + b.ckCount))
	maps.Copy(b.heads, lb.heads)
	for id, w := range lb.windows {
		if b.windows[id] == nil {
			b.windows[id] = w
		} else {
			maps.Copy(b.windows[id], w)
		}
	}
}

// checkLogged checks c as commitTx would, against bbolt (tx) overlaid with
// the commits logged but not checkpointed (b.heads, b.windows) and those
// of this batch so far (heads, windows). It returns the new windows of the
// clients in c.
func (b *Bolt) checkLogged(tx *bolt.Tx, c *walCommit, heads map[string]int, windows map[string]map[string]recentWindow) (map[string]recentWindow, error) {
	db, err := draftBucket(tx, "commit", c.id)
	if err != nil {
		return nil, err
	}
	head, ok := heads[c.id]
	if !ok {
		head, ok = b.heads[c.id]
	}
	if !ok {
		meta, err := readMeta(db, c.id)
		if err != nil {
			return nil, err
		}
		head = meta.Rev
	}
	window := func(k []byte) recentWindow {
		if w, ok := windows[c.id][string(k)]; ok {
			return w
		}
		if w, ok := b.windows[c.id][string(k)]; ok {
			return w
		}
		return storedWindow(db, k)
	}
	return checkCommitTx(db, c.id, c.base, head, c.enc, window)
}

// storedWindow is the recent record of client key k in bbolt.
func storedWindow(db *bolt.Bucket, k []byte) recentWindow {
	if recent := db.Bucket(bucketRecent); recent != nil {
		return recentWindow(bytes.Clone(recent.Get(k)))
	}
	return nil
}

func clientKey(principal, client string) []byte {
	k := make([]byte, 0, len(principal)+len(client)+4)
	k = appendString(k, principal)
	return appendString(k, client)
}

// oldSeqRev looks a submission up in the seqs bucket of files written
// before recent existed.
func oldSeqRev(db *bolt.Bucket, clientKey []byte, seq uint64) (int, bool) {
	seqs := db.Bucket(bucketSeqs)
	if seqs == nil {
		return 0, false
	}
	v := seqs.Get(binary.BigEndian.AppendUint64(append(make([]byte, 0, len(clientKey)+8), clientKey...), seq))
	if len(v) != 8 {
		return 0, false
	}
	return int(binary.BigEndian.Uint64(v)), true
}

// recentWindow is a recent record: up to recentWindow (seq, rev) pairs,
// 8-byte big-endian each, oldest first.
type recentWindow []byte

// recentSize is how many submissions per client and draft dedupe
// remembers.
const recentSize = 32

// find returns the rev submission seq was committed as, if remembered.
func (w recentWindow) find(seq uint64) (int, bool) {
	for i := len(w) - 16; i >= 0; i -= 16 {
		if binary.BigEndian.Uint64(w[i:]) == seq {
			return int(binary.BigEndian.Uint64(w[i+8:])), true
		}
	}
	return 0, false
}

// add returns a new window with (seq, rev) appended and the oldest
// dropped beyond recentSize; w is not modified (it may be bbolt's memory).
func (w recentWindow) add(seq uint64, rev int) recentWindow {
	if len(w)%16 != 0 {
		w = nil // not a record this code wrote: start afresh
	}
	if len(w) >= recentSize*16 {
		w = w[len(w)-(recentSize-1)*16:]
	}
	out := make(recentWindow, 0, len(w)+16)
	out = append(out, w...)
	out = binary.BigEndian.AppendUint64(out, seq)
	return binary.BigEndian.AppendUint64(out, uint64(rev))
}

// encodedCommit is a Commit with its records already encoded, so that the
// writer only checks and puts.
type encodedCommit struct {
	ops       [][]byte // record of op base+1+i
	clients   [][]byte // recent key of op base+1+i
	seqs      []uint64 // seq of op base+1+i
	snaps     map[int][]byte
	proposals [][2][]byte // key, value
	decisions [][2][]byte
	lastRev   int   // rev of the last op
	lastTS    int64 // its commit time, the draft's Updated
}

// Commit appends c at base: ErrInvalid or ErrDuplicate if CheckCommit
// refuses it, ErrNotFound for an unknown draft, ErrRevConflict if the head is
// not base, ErrDuplicate if an op's submission is already committed. It
// returns nil once all of c is fsync'd; on any error none of it is written.
func (b *Bolt) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	done, err := b.submitCommit(ctx, id, base, c)
	if err != nil {
		return err
	}
	return <-done
}

// submitCommit checks and encodes c in the caller's goroutine, so that the
// writer only checks it against the stored draft and puts bytes, and hands
// it to the writer.
func (b *Bolt) submitCommit(ctx context.Context, id string, base int, c dr.Commit) (<-chan error, error) {
	if err := CheckCommit(id, base, c); err != nil {
		return nil, err
	}
	enc, err := encodeCommit(id, base, c)
	if err != nil {
		return nil, err
	}
	if b.wals[0] == nil {
		return b.submit(ctx, "commit", func(tx *bolt.Tx) error {
			return commitTx(tx, id, base, enc)
		})
	}
	req := &writeReq{commit: &walCommit{id: id, base: base, enc: enc}, err: make(chan error, 1)}
	if err := b.send(ctx, "commit", req); err != nil {
		return nil, err
	}
	return req.err, nil
}

// encodeCommit encodes the records of c, a commit CheckCommit accepted.
func encodeCommit(id string, base int, c dr.Commit) (*encodedCommit, error) {
	enc := &encodedCommit{
		ops:     make([][]byte, len(c.Ops)),
		clients: make([][]byte, len(c.Ops)),
		seqs:    make([]uint64, len(c.Ops)),
		snaps:   make(map[int][]byte, len(c.Snapshots)),
		lastRev: c.Ops[len(c.Ops)-1].Rev,
		lastTS:  c.Ops[len(c.Ops)-1].TS,
	}
	for i, op := range c.Ops {
		enc.ops[i] = appendOpRecord(nil, op)
		enc.clients[i] = clientKey(op.Principal, op.Client)
		enc.seqs[i] = op.Seq
	}
	for _, s := range c.Snapshots {
		enc.snaps[s.Rev] = appendSnapshotRecord(nil, s)
	}
	for i, p := range c.Proposals {
		data, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("storage: commit %s@%d: proposal: %w", id, base, err)
		}
		enc.proposals = append(enc.proposals, [2][]byte{recordKey(p.Rev, i), data})
	}
	for i, d := range c.Decisions {
		data, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("storage: commit %s@%d: decision: %w", id, base, err)
		}
		enc.decisions = append(enc.decisions, [2][]byte{recordKey(d.Rev, i), data})
	}
	return enc, nil
}

// checkCommitTx checks enc against draft bucket db at head: the head must
// be base, and no op may resend a submission its client's window (as
// window returns it) or the old seqs bucket holds. It returns the clients'
// windows with enc's ops added.
func checkCommitTx(db *bolt.Bucket, id string, base, head int, enc *encodedCommit, window func(k []byte) recentWindow) (map[string]recentWindow, error) {
	if head != base {
		return nil, fmt.Errorf("storage: commit %s@%d (head %d): %w", id, base, head, ErrRevConflict)
	}
	windows := make(map[string]recentWindow, len(enc.clients))
	for i, k := range enc.clients {
		w, ok := windows[string(k)]
		if !ok {
			w = window(k)
		}
		seq := enc.seqs[i]
		rev, dup := w.find(seq)
		if !dup {
			rev, dup = oldSeqRev(db, k, seq)
		}
		if dup {
			return nil, fmt.Errorf("storage: commit %s@%d: op %d resubmits rev %d: %w", id, base, base+1+i, rev, ErrDuplicate)
		}
		windows[string(k)] = w.add(seq, base+1+i)
	}
	return windows, nil
}

// commitTx checks enc against the stored draft, then writes it. It returns
// a refusal only before the first write.
func commitTx(tx *bolt.Tx, id string, base int, enc *encodedCommit) error {
	db, meta, err := draftMeta(tx, "commit", id)
	if err != nil {
		return err
	}
	windows, err := checkCommitTx(db, id, base, meta.Rev, enc, func(k []byte) recentWindow { return storedWindow(db, k) })
	if err != nil {
		return err
	}
	if err := putCommit(db, base, enc, windows); err != nil {
		return err
	}
	meta.Rev, meta.Updated = enc.lastRev, enc.lastTS
	return putJSON(db, keyMeta, meta)
}

// putCommit writes the records of enc, checked at base, and the clients'
// new windows into draft bucket db.
func putCommit(db *bolt.Bucket, base int, enc *encodedCommit, windows map[string]recentWindow) error {
	// The logs only ever grow at the end, so pages may be filled
	// completely.
	ops := db.Bucket(bucketOps)
	ops.FillPercent = 1
	for i, rec := range enc.ops {
		rev := base + 1 + i
		if err := ops.Put(revKey(rev), rec); err != nil {
			return err
		}
	}
	recent := db.Bucket(bucketRecent)
	if recent == nil {
		// A draft from a file written before recent existed.
		var err error
		if recent, err = db.CreateBucket(bucketRecent); err != nil {
			return err
		}
	}
	for k, w := range windows {
		if err := recent.Put([]byte(k), w); err != nil {
			return err
		}
	}
	snaps := db.Bucket(bucketSnaps)
	snaps.FillPercent = 1
	for rev, data := range enc.snaps {
		if err := snaps.Put(revKey(rev), data); err != nil {
			return err
		}
	}
	if err := putRecords(db, bucketProps, enc.proposals); err != nil {
		return err
	}
	return putRecords(db, bucketDecs, enc.decisions)
}

// putRecords puts the (key, value) records kvs into bucket name of db.
func putRecords(db *bolt.Bucket, name []byte, kvs [][2][]byte) error {
	if len(kvs) == 0 {
		return nil
	}
	bucket := db.Bucket(name)
	for _, kv := range kvs {
		if err := bucket.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}
