package storage

// The write-ahead log's life beside the bbolt file: replayed into bbolt
// when the store opens (openWAL), and copied into it by checkpoints while
// the writer logs new commits to the other file.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// walSuffixes name the two files of the write-ahead log, beside the bbolt
// file.
var walSuffixes = [2]string{".wal.0", ".wal.1"}

// openWAL opens the write-ahead log's two files and copies the commits
// they hold into bbolt: those a crash left only in the log. Each draft's
// commits are replayed in revision order (the two files' commits
// interleave); a commit already in bbolt (a file is emptied after its
// checkpoint, but that is not synced) is skipped.
//
// A torn tail (damage running to the end of a file: an append cut short
// by a crash, never synced, so never acknowledged) is cut off, and a log
// line says where, how many bytes and what it seemed to hold. Any other
// damage (a bad frame followed by intact ones, or an intact frame that
// does not decode) is corruption of acknowledged commits: openWAL then
// changes nothing and returns a *WALCorruptError (ErrCorrupt) naming the
// file, the offset and the revisions at stake; `draftroom recover` is the
// way out (RecoverBolt).
func (b *Bolt) openWAL(noSync bool) (err error) {
	var scans [2]*walScan
	for i, suffix := range walSuffixes {
		w, scan, err := openWAL(b.path+suffix, noSync)
		if err != nil {
			b.closeWAL()
			return err
		}
		b.wals[i], scans[i] = w, scan
	}
	defer func() {
		if err != nil {
			b.closeWAL()
		}
	}()
	heads, err := b.fileHeads()
	if err != nil {
		return err
	}
	commits, err := loggedCommits(scans, heads)
	if err != nil {
		return err
	}
	for i, scan := range scans {
		if err := b.cutTornTail(b.wals[i], scan, heads); err != nil {
			return err
		}
	}
	if err := syncDir(filepath.Dir(b.path)); err != nil && !noSync {
		return err
	}
	if err := b.replay(commits); err != nil {
		return err
	}
	for _, w := range b.wals {
		if err := w.reset(); err != nil {
			return err
		}
	}
	return nil
}

// loggedCommits decodes the commits of both log files, or returns a
// *WALCorruptError for damage that is not a torn tail or a frame that
// does not decode.
func loggedCommits(scans [2]*walScan, heads map[string]int) ([]*walCommit, error) {
	var commits []*walCommit
	for _, scan := range scans {
		if scan.corrupt() {
			return nil, newWALCorruptError(scan, scan.damage[0], nil, heads)
		}
		for _, f := range scan.frames {
			c, err := decodeWALRecord(f.payload)
			if err != nil {
				return nil, newWALCorruptError(scan, walDamage{off: f.off, end: f.off + 8 + int64(len(f.payload))}, err, heads)
			}
			commits = append(commits, c)
		}
	}
	return commits, nil
}

// cutTornTail cuts the torn tail scan found in log file w, if any, and
// says so in the log.
func (b *Bolt) cutTornTail(w *walFile, scan *walScan, heads map[string]int) error {
	d, torn := scan.tornTail()
	if !torn {
		return nil
	}
	held := "nothing readable"
	if g := d.guess; g != nil {
		held = fmt.Sprintf("%s (the file's head of %s is %d)", g, g.Draft, heads[g.Draft])
	}
	b.log.Warn("storage: cutting the torn tail of the write-ahead log: an append cut short by a crash, never synced, so never acknowledged",
		"file", scan.path, "offset", d.off, "bytes", d.end-d.off, "held", held)
	if err := w.f.Truncate(d.off); err != nil {
		return fmt.Errorf("storage: cut the torn tail of log %s: %w", scan.path, err)
	}
	w.size = d.off
	return nil
}

// replay copies logged commits into bbolt in one transaction, each
// draft's in revision order (the two files' commits interleave), skipping
// those bbolt holds already.
func (b *Bolt) replay(commits []*walCommit) error {
	if len(commits) == 0 {
		return nil
	}
	sortCommits(commits)
	err := b.db.Update(func(tx *bolt.Tx) error {
		for _, c := range commits {
			if err := replayTx(tx, c.id, c.base, c.enc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: replay log into %s: %w", b.path, err)
	}
	return nil
}

// replayTx is commitTx for a commit of the log that bbolt may already
// hold (checkpointed, but the log was not emptied): that one is skipped.
func replayTx(tx *bolt.Tx, id string, base int, enc *encodedCommit) error {
	_, meta, err := draftMeta(tx, "replay", id)
	if err != nil {
		return err
	}
	if meta.Rev >= enc.lastRev {
		return nil
	}
	return commitTx(tx, id, base, enc)
}

// sortCommits sorts logged commits by draft, each draft's in revision
// order (the two files' commits interleave).
func sortCommits(commits []*walCommit) {
	sort.SliceStable(commits, func(i, j int) bool {
		if commits[i].id != commits[j].id {
			return commits[i].id < commits[j].id
		}
		return commits[i].base < commits[j].base
	})
}

// draftHeads puts every draft's head as tx has it into heads.
func draftHeads(tx *bolt.Tx, heads map[string]int) error {
	drafts := tx.Bucket(bucketDrafts)
	return drafts.ForEachBucket(func(k []byte) error {
		d, err := readMeta(drafts.Bucket(k), string(k))
		heads[string(k)] = d.Rev
		return err
	})
}

// fileHeads returns every draft's head as the bbolt file has it.
func (b *Bolt) fileHeads() (map[string]int, error) {
	heads := map[string]int{}
	err := b.db.View(func(tx *bolt.Tx) error { return draftHeads(tx, heads) })
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", b.path, err)
	}
	return heads, nil
}

func (b *Bolt) closeWAL() error {
	var first error
	for i, w := range b.wals {
		if w != nil {
			if err := w.close(); err != nil && first == nil {
				first = fmt.Errorf("storage: close %s: %w", w.path, err)
			}
			b.wals[i] = nil
		}
	}
	return first
}

// syncDir makes the creation of files in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("storage: sync %s: %w", dir, err)
	}
	return nil
}

// ckResult is the outcome of a checkpoint goroutine.
type ckResult struct {
	gen     uint64
	commits []*walCommit
	err     error
}

// startCheckpoint hands the pending commits to a checkpoint goroutine,
// which copies them into bbolt in one transaction and then empties their
// log file, and switches appends to the other file (emptied by the
// previous checkpoint). Only one runs at a time; the writer goes on
// logging commits meanwhile, checking them against b.heads and b.windows,
// which still hold the commits being copied.
//
// After a failure (ckErr) it is a retry instead: every commit still only
// in the log (stuck, then pending, in log order) is copied in one
// transaction and both files are emptied; no commit is logged meanwhile,
// since commits are refused until a retry succeeds.
func (b *Bolt) startCheckpoint() {
	if b.ckBusy {
		return
	}
	retry := b.ckErr != nil
	commits, files := b.pending, []*walFile{b.wals[b.cur]}
	if retry {
		commits, files = slices.Concat(b.stuck, b.pending), b.wals[:]
	}
	if len(commits) == 0 {
		return
	}
	if !retry {
		b.cur = 1 - b.cur
	}
	gen := b.gen
	b.pending, b.pendOps = nil, 0
	b.gen++
	b.ckBusy, b.ckCount = true, len(commits)
	go func() {
		start := time.Now()
		err := b.copyLogged(commits, files, retry)
		b.ckTime.Observe(time.Since(start))
		b.ckDone <- ckResult{gen: gen, commits: commits, err: err}
	}()
}

// copyLogged is a checkpoint's work, off the writer goroutine: it copies
// commits into bbolt in one transaction, then empties their log files. A
// retry replays (skipping what bbolt holds): the failure may have come
// after the transaction, while emptying a file.
func (b *Bolt) copyLogged(commits []*walCommit, files []*walFile, retry bool) error {
	var err error
	if fault := b.ckFault.Load(); fault != nil {
		err = *fault
	} else {
		apply := commitTx
		if retry {
			apply = replayTx
		}
		err = b.db.Update(func(tx *bolt.Tx) error {
			for _, c := range commits {
				if err := apply(tx, c.id, c.base, c.enc); err != nil {
					return fmt.Errorf("commit %s@%d: %w", c.id, c.base, err)
				}
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("storage: checkpoint of the log into %s: %w", b.path, err)
	}
	// Not synced: if a crash undoes it, replay skips what bbolt has.
	for _, w := range files {
		if err := w.reset(); err != nil {
			return err
		}
	}
	return nil
}

// endCheckpoint takes a checkpoint goroutine's outcome. After a failure
// the commits it held are in the log only (durable, replayed on the next
// open, and laid over bbolt for readers), and no log file is emptied:
// new commits are refused, as unavailable, rather than appended to a log
// that may fill up or be replayed out of step with bbolt, and the
// checkpoint is retried with backoff (CheckpointRetry) until it succeeds.
func (b *Bolt) endCheckpoint(res ckResult) {
	b.ckBusy, b.ckCount = false, 0
	if res.err != nil {
		b.ckErr, b.stuck = res.err, res.commits
		b.ckFails++
		wait := b.ckBackoff[0] << min(b.ckFails-1, 16)
		b.ckRetryAt = time.Now().Add(min(wait, b.ckBackoff[1]))
		b.unsettled.Store(int64(len(b.stuck) + len(b.pending)))
		b.setHealth()
		return
	}
	b.ckErr, b.stuck, b.ckFails = nil, nil, 0
	b.unsettled.Store(int64(len(b.pending)))
	b.setHealth()
	b.txs.Add(1)
	for id, g := range b.lastGen {
		if g <= res.gen {
			delete(b.lastGen, id)
			delete(b.heads, id)
			delete(b.windows, id)
		}
	}
}

// checkpoint copies every logged commit into bbolt and waits until it is
// there: before a write that is not a commit, for a reader, and at close.
// While checkpoints fail it returns the failure at once (the retries run
// on their own schedule).
func (b *Bolt) checkpoint() error {
	for {
		switch {
		case b.ckBusy:
			b.endCheckpoint(<-b.ckDone)
		case b.ckErr != nil:
			return b.refusing()
		case len(b.pending) == 0:
			return nil
		default:
			b.startCheckpoint()
		}
	}
}
