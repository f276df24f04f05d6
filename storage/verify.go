package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"runtime/debug"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Problem is one thing wrong in a data directory, as VerifyBolt finds it:
// where (the draft, "" for the file as a whole) and what, in words an
// operator can act on.
type Problem struct {
	Draft string
	What  string
}

func (p Problem) String() string {
	if p.Draft == "" {
		return p.What
	}
	return "draft " + p.Draft + ": " + p.What
}

// VerifyReport is what VerifyBolt found: Drafts and Ops counted, the
// commits still in the write-ahead log (they are applied at the next
// open, and are not an error), and every Problem.
type VerifyReport struct {
	Drafts     int
	Ops        int
	LogCommits int
	Problems   []Problem
}

var (
	// ErrDamaged: VerifyBolt found problems (listed in its report).
	ErrDamaged = errors.New("storage: data directory damaged")
	// ErrInUse: another process (a running server) has the file open.
	ErrInUse = errors.New("storage: file in use by another process")
)

// maxVerifyProblems bounds the problems listed per draft, so that a
// draft whose every op is damaged does not print a million lines.
const maxVerifyProblems = 20

// VerifyBolt checks the bbolt file at path, opened read-only (a running
// server holds its lock: VerifyBolt then fails with ErrInUse after a
// second), without changing it. For every draft, it checks that its metadata decodes, its ops are exactly revisions 1..head
// and decode, replaying them from the text of revision 0 succeeds and
// reaches every stored snapshot's text, and its proposals, decisions,
// labels and dedupe records point at revisions that exist; a page so
// damaged that reading it panics or faults is reported, not fatal. When
// all that is sound, it runs bbolt's own page checks. It also reads the
// write-ahead log beside the file. The error wraps ErrDamaged when
// any problem was found.
func VerifyBolt(path string) (VerifyReport, error) {
	var rep VerifyReport
	if _, err := os.Stat(path); err != nil {
		return rep, fmt.Errorf("storage: verify: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return rep, fmt.Errorf("storage: verify %s: %w", path, ErrInUse)
	}
	if err != nil {
		return rep, fmt.Errorf("storage: verify %s: %w", path, err)
	}
	defer db.Close()
	err = readDamaged(&rep, func() error {
		return db.View(func(tx *bolt.Tx) error {
			drafts := tx.Bucket(bucketDrafts)
			if drafts == nil {
				rep.Problems = append(rep.Problems, Problem{What: `no "drafts" bucket: not a draftroom file`})
				return nil
			}
			return drafts.ForEach(func(k, v []byte) error {
				id := string(k)
				db := drafts.Bucket(k)
				if db == nil {
					rep.Problems = append(rep.Problems, Problem{id, "a plain key where a draft bucket belongs"})
					return nil
				}
				rep.Drafts++
				ops, probs := verifyDraft(id, db)
				rep.Ops += ops
				rep.Problems = append(rep.Problems, probs...)
				return nil
			})
		})
	})
	if err != nil {
		return rep, fmt.Errorf("storage: verify %s: %w", path, err)
	}
	if len(rep.Problems) == 0 {
		// bbolt's own page checks (free list, page overlaps), once every
		// reachable page read well: they run in a goroutine of bbolt's,
		// where a page corrupt enough to panic would end the process.
		err = db.View(func(tx *bolt.Tx) error {
			for cerr := range tx.Check() {
				rep.Problems = append(rep.Problems, Problem{What: "bbolt: " + cerr.Error()})
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("storage: verify %s: %w", path, err)
		}
	}
	for _, suffix := range walSuffixes {
		n, prob := verifyLog(path + suffix)
		rep.LogCommits += n
		if prob != "" {
			rep.Problems = append(rep.Problems, Problem{What: prob})
		}
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("%w: %d problems in %s", ErrDamaged, len(rep.Problems), path)
	}
	return rep, nil
}

// readDamaged runs read, which walks a file that may be damaged: bbolt
// trusts its pages, and a corrupt one can make it panic or read outside
// the memory map (a fault, fatal unless turned into a panic). Either is
// recorded as a problem in rep instead of crashing the check.
func readDamaged(rep *VerifyReport, read func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			rep.Problems = append(rep.Problems, Problem{What: fmt.Sprintf("the file is damaged beyond reading its pages (bbolt: %v); restore a backup", r)})
			err = nil
		}
	}()
	return read()
}

// verifyLog reads a write-ahead log file without changing it: the
// commits it holds, or what is wrong with it. A missing file is fine.
func verifyLog(path string) (int, string) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, ""
	}
	if err != nil {
		return 0, fmt.Sprintf("write-ahead log %s: %v", path, err)
	}
	n, off := 0, 0
	for len(data)-off >= 8 {
		size := int(binary.LittleEndian.Uint32(data[off:]))
		if size > maxWALFrame || size > len(data)-off-8 {
			break
		}
		payload := data[off+8 : off+8+size]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[off+4:]) {
			break // a torn or corrupt tail: never acknowledged, cut off at open
		}
		if _, err := decodeWALRecord(payload); err != nil {
			return n, fmt.Sprintf("write-ahead log %s: record %d at byte %d: %v", path, n, off, err)
		}
		n++
		off += 8 + size
	}
	return n, ""
}

// verifyDraft checks one draft's bucket (see VerifyBolt) and returns its
// op count and problems.
func verifyDraft(id string, db *bolt.Bucket) (int, []Problem) {
	v := &draftCheck{id: id}
	head, ok := v.meta(db)
	if !ok {
		return 0, v.probs
	}
	s0, snaps, ok := v.snapshots(db, head)
	if !ok {
		return 0, v.probs
	}
	count, ok := v.ops(db, head, s0, snaps)
	if !ok {
		return count, v.probs
	}
	verifyRecords(db, bucketProps, "proposal", head, v.add)
	verifyRecords(db, bucketDecs, "decision", head, v.add)
	v.labels(db, head)
	v.recent(db, head)
	return count, v.probs
}

// draftCheck gathers the problems verifyDraft finds in one draft.
type draftCheck struct {
	id    string
	probs []Problem
}

// add records a problem; past maxVerifyProblems it says that more are
// not listed, once, and reports false: stop looking.
func (v *draftCheck) add(format string, args ...any) bool {
	if len(v.probs) == maxVerifyProblems {
		v.probs = append(v.probs, Problem{v.id, "more problems not listed"})
	}
	if len(v.probs) <= maxVerifyProblems {
		v.probs = append(v.probs, Problem{v.id, fmt.Sprintf(format, args...)})
	}
	return len(v.probs) <= maxVerifyProblems
}

// meta checks the metadata record and the buckets every draft has, and
// returns the head; false when nothing more can be checked.
func (v *draftCheck) meta(db *bolt.Bucket) (head int, ok bool) {
	var meta dr.Draft
	if err := json.Unmarshal(db.Get(keyMeta), &meta); err != nil {
		v.add("metadata does not decode: %v", err)
		return 0, false
	}
	if meta.ID != v.id {
		v.add("metadata names draft %q", meta.ID)
	}
	for _, name := range [][]byte{bucketOps, bucketSnaps} {
		if db.Bucket(name) == nil {
			v.add("no %s bucket", name)
			return 0, false
		}
	}
	return meta.Rev, true
}

// snapshots checks the snapshots and returns snapshot 0 and the records
// of the others that decode, by revision (up to head); false when there
// is no snapshot 0 to replay the ops from.
func (v *draftCheck) snapshots(db *bolt.Bucket, head int) (dr.Snapshot, map[int][]byte, bool) {
	snaps := map[int][]byte{}
	db.Bucket(bucketSnaps).ForEach(func(k, val []byte) error {
		if len(k) != 8 {
			v.add("snapshot key %x is not a revision", k)
			return nil
		}
		snaps[int(binary.BigEndian.Uint64(k))] = val
		return nil
	})
	snap0, ok := snaps[0]
	if !ok {
		v.add("no snapshot of revision 0 (the text it was created with): its ops cannot be replayed")
		return dr.Snapshot{}, nil, false
	}
	s0, err := decodeSnapshotRecord(0, snap0)
	if err != nil {
		v.add("snapshot 0 does not decode: %v", err)
		return dr.Snapshot{}, nil, false
	}
	for rev, val := range snaps {
		if rev > head {
			v.add("snapshot at revision %d, past the head %d", rev, head)
		}
		if rev < 0 || rev > head {
			delete(snaps, rev)
			continue
		}
		if rev != 0 {
			if _, err := decodeSnapshotRecord(rev, val); err != nil {
				v.add("snapshot %d does not decode: %v", rev, err)
				delete(snaps, rev)
			}
		}
	}
	return s0, snaps, true
}

// ops checks the ops: consecutive revisions 1..head that decode, and
// replayed from snapshot 0 (while no gap or bad op stops the replay), the
// text of each stored snapshot. It returns how many ops there are; false
// when too many problems stopped it.
func (v *draftCheck) ops(db *bolt.Bucket, head int, s0 dr.Snapshot, snaps map[int][]byte) (count int, ok bool) {
	text := ot.NewText(s0.Text)
	replayable := true
	want := 1
	c := db.Bucket(bucketOps).Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if len(k) != 8 {
			v.add("op key %x is not a revision", k)
			continue
		}
		rev := int(binary.BigEndian.Uint64(k))
		count++
		if rev > head {
			v.add("op %d is past the head %d in the metadata", rev, head)
			continue
		}
		if rev != want {
			v.add("ops %d..%d are missing", want, rev-1)
			replayable = false
		}
		want = rev + 1
		op, err := decodeOpRecord(rev, val)
		if err != nil {
			v.add("op %d does not decode: %v", rev, err)
			replayable = false
			continue
		}
		if !replayable {
			continue
		}
		if _, err := text.Apply(op.Op); err != nil {
			if !v.add("op %d does not apply to the text of revision %d: %v", rev, rev-1, err) {
				return count, false
			}
			replayable = false
			continue
		}
		if sv, ok := snaps[rev]; ok {
			s, _ := decodeSnapshotRecord(rev, sv)
			if s.Text != text.String() {
				v.add("snapshot %d does not match the text its ops replay to (%d code points stored, %d replayed)", rev, utf8.RuneCountInString(s.Text), text.Len())
			}
		}
	}
	if want <= head {
		v.add("ops %d..%d are missing (the metadata says the head is %d)", want, head, head)
	}
	return count, true
}

// labels checks that every label decodes and names a revision up to head.
func (v *draftCheck) labels(db *bolt.Bucket, head int) {
	labels := db.Bucket(bucketLabel)
	if labels == nil {
		return
	}
	labels.ForEach(func(k, val []byte) error {
		var l dr.Label
		if err := json.Unmarshal(val, &l); err != nil {
			v.add("label %q does not decode: %v", k, err)
		} else if l.Rev < 0 || l.Rev > head {
			v.add("label %q names revision %d, past the head %d", k, l.Rev, head)
		}
		return nil
	})
}

// recent checks that every dedupe record is whole (seq, rev) pairs whose
// revisions are in 1..head.
func (v *draftCheck) recent(db *bolt.Bucket, head int) {
	recent := db.Bucket(bucketRecent)
	if recent == nil {
		return
	}
	recent.ForEach(func(k, val []byte) error {
		w := recentWindow(val)
		if len(w)%16 != 0 {
			v.add("dedupe record %x is %d bytes, not whole (seq, rev) pairs", k, len(w))
			return nil
		}
		for i := 0; i < len(w); i += 16 {
			if rev := int(binary.BigEndian.Uint64(w[i+8:])); rev < 1 || rev > head {
				v.add("dedupe record %x points at revision %d, outside 1..%d", k, rev, head)
			}
		}
		return nil
	})
}

// verifyRecords checks that the records of bucket name (keyed rev idx)
// decode and point at revisions 1..head.
func verifyRecords(db *bolt.Bucket, name []byte, what string, head int, add func(string, ...any) bool) {
	b := db.Bucket(name)
	if b == nil {
		return
	}
	b.ForEach(func(k, v []byte) error {
		if len(k) != 12 {
			add("%s key %x is not a revision and index", what, k)
			return nil
		}
		rev := int(binary.BigEndian.Uint64(k))
		var rec struct {
			Rev int `json:"rev"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			add("%s at revision %d does not decode: %v", what, rev, err)
			return nil
		}
		if rev < 1 || rev > head || rec.Rev != rev {
			add("%s at revision %d (recorded as %d) does not point at a committed op (1..%d)", what, rev, rec.Rev, head)
		}
		return nil
	})
}
