package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrCorrupt: a store's files are damaged where acknowledged data lives,
// and opening them would mean dropping it. Nothing was changed; the way
// out is RecoverBolt (`draftroom recover`, docs/RECOVERY.md).
var ErrCorrupt = errors.New("storage: corrupt")

// RevRange is revisions From..To of a draft. Probable marks a range read
// from a damaged frame, whose header may itself be damaged.
type RevRange struct {
	Draft    string
	From, To int
	Probable bool
}

// revs is "revision N" or "revisions N..M".
func (r RevRange) revs() string {
	if r.From == r.To {
		return fmt.Sprintf("revision %d", r.From)
	}
	return fmt.Sprintf("revisions %d..%d", r.From, r.To)
}

func (r RevRange) String() string {
	s := fmt.Sprintf("draft %s revisions %d..%d", r.Draft, r.From, r.To)
	if r.From == r.To {
		s = fmt.Sprintf("draft %s revision %d", r.Draft, r.From)
	}
	if r.Probable {
		s += " (probably: read from a damaged frame)"
	}
	return s
}

// mergeRanges sorts ranges by draft and revision and joins adjacent ones.
func mergeRanges(rs []RevRange) []RevRange {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Draft != rs[j].Draft {
			return rs[i].Draft < rs[j].Draft
		}
		return rs[i].From < rs[j].From
	})
	var out []RevRange
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].Draft == r.Draft && out[n-1].Probable == r.Probable && r.From <= out[n-1].To+1 {
			out[n-1].To = max(out[n-1].To, r.To)
			continue
		}
		out = append(out, r)
	}
	return out
}

func joinRanges(rs []RevRange) string {
	if len(rs) == 0 {
		return "none known"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, "; ")
}

// WALCorruptError is the refusal to open a store whose write-ahead log is
// damaged other than by a torn last append: bytes Offset..End of File are
// not intact frames (or one intact frame does not decode: Cause), and
// Following intact frames come after them. AtStake lists the revisions in
// the damage (as far as they can be read) and after it that the bbolt
// file does not hold. It wraps ErrCorrupt.
type WALCorruptError struct {
	File        string
	Offset, End int64
	Cause       error
	Following   int
	AtStake     []RevRange
}

func (e *WALCorruptError) Error() string {
	what := fmt.Sprintf("bytes %d..%d are not intact frames, and %d intact frames follow them: "+
		"this is not a torn last write but damage to acknowledged commits", e.Offset, e.End, e.Following)
	if e.Cause != nil {
		what = fmt.Sprintf("the frame at bytes %d..%d passes its checksum but does not decode (%v); %d intact frames follow it",
			e.Offset, e.End, e.Cause, e.Following)
	}
	return fmt.Sprintf("storage: the write-ahead log %s is corrupt: %s. Revisions at stake: %s. "+
		"Nothing was changed. Stop here and run `draftroom recover -data <data directory>` "+
		"(docs/RECOVERY.md): it keeps the original files aside and replays what can be replayed",
		e.File, what, joinRanges(e.AtStake))
}

func (e *WALCorruptError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrCorrupt}
	}
	return []error{ErrCorrupt, e.Cause}
}

// newWALCorruptError describes damage d of scan; heads are the bbolt
// file's draft heads (revisions up to them are not at stake).
func newWALCorruptError(scan *walScan, d walDamage, cause error, heads map[string]int) *WALCorruptError {
	e := &WALCorruptError{File: scan.path, Offset: d.off, End: d.end, Cause: cause}
	var stake []RevRange
	if g := d.guess; g != nil && g.To > heads[g.Draft] {
		stake = append(stake, *g)
	}
	for _, f := range scan.frames {
		if f.off < d.end {
			continue
		}
		e.Following++
		if c, err := decodeWALRecord(f.payload); err == nil && c.enc.lastRev > heads[c.id] {
			stake = append(stake, RevRange{Draft: c.id, From: max(c.base, heads[c.id]) + 1, To: c.enc.lastRev})
		}
	}
	e.AtStake = mergeRanges(stake)
	return e
}

// Recovery is what RecoverBolt did.
type Recovery struct {
	// Aside is the directory the original files were copied to, before
	// anything was changed; Kept names them.
	Aside string
	Kept  []string
	// Replayed: commits copied from the log into the bbolt file.
	// Present: commits of the log the file already had.
	Replayed, Present []RevRange
	// Lost says, one line each, what could not be kept: damaged stretches
	// of the log (and what they seemed to hold), and intact commits that
	// could not be replayed (an earlier revision of their draft is lost).
	Lost []string
	// Heads is every draft's head after the recovery.
	Heads map[string]int
}

// RecoverBolt makes the store at path (a bbolt file and its write-ahead
// log) openable again after OpenBolt refused it with ErrCorrupt. It
// first copies the three files into a new directory beside them
// (recovered-<UTC time>), then replays every intact commit of the log
// that continues its draft's history, in revision order, empties the log,
// and reports what it kept and what it could not. The server must be
// stopped: RecoverBolt takes the file's lock and gives up after a second.
func RecoverBolt(path string, now time.Time) (*Recovery, error) {
	db, err := openForRecovery(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	rec := &Recovery{Aside: filepath.Join(filepath.Dir(path), "recovered-"+now.UTC().Format("20060102T150405Z"))}
	if err := os.Mkdir(rec.Aside, 0o700); err != nil {
		return nil, fmt.Errorf("storage: recover %s: %w", path, err)
	}
	if err := rec.keepAside(path); err != nil {
		return rec, err
	}
	commits, where, err := rec.readLog(path)
	if err != nil {
		return rec, err
	}
	sortCommits(commits)
	orphans, err := rec.replay(db, commits, where)
	if err != nil {
		return rec, fmt.Errorf("storage: recover %s: replay (nothing was changed; the originals are in %s): %w", path, rec.Aside, err)
	}
	rec.Replayed, rec.Present = mergeRanges(rec.Replayed), mergeRanges(rec.Present)
	for _, r := range mergeRanges(orphans) {
		head := rec.Heads[r.Draft]
		rec.Lost = append(rec.Lost, fmt.Sprintf("%s: intact in the log but not replayed: %s before them is lost",
			r, RevRange{Draft: r.Draft, From: head + 1, To: r.From - 1}.revs()))
	}
	for _, suffix := range walSuffixes {
		if err := emptyFile(path + suffix); err != nil {
			return rec, fmt.Errorf("storage: recover %s: the commits are replayed, but emptying the log failed (run recover again): %w", path, err)
		}
	}
	return rec, nil
}

// openForRecovery opens the bbolt file at path, which must exist and not
// be in use.
func openForRecovery(path string) (*bolt.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("storage: recover %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("storage: recover %s: the file is in use: stop the server first", path)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: recover %s: %w", path, err)
	}
	return db, nil
}

// keepAside copies the bbolt file and the log files there are into
// rec.Aside, and lists the copies in rec.Kept.
func (rec *Recovery) keepAside(path string) error {
	for _, suffix := range []string{"", walSuffixes[0], walSuffixes[1]} {
		src := path + suffix
		dst := filepath.Join(rec.Aside, filepath.Base(src))
		switch err := copyFile(src, dst); {
		case errors.Is(err, os.ErrNotExist) && suffix != "":
		case err != nil:
			return fmt.Errorf("storage: recover %s: keep %s aside: %w", path, src, err)
		default:
			rec.Kept = append(rec.Kept, dst)
		}
	}
	return syncDir(rec.Aside)
}

// readLog returns the commits of both log files that decode, with where
// each was found, and lists in rec.Lost the damage and the frames that do
// not decode.
func (rec *Recovery) readLog(path string) ([]*walCommit, map[*walCommit]string, error) {
	var commits []*walCommit
	where := map[*walCommit]string{}
	for _, suffix := range walSuffixes {
		data, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("storage: recover %s: %w", path, err)
		}
		scan := scanWAL(path+suffix, data)
		for _, d := range scan.damage {
			line := fmt.Sprintf("%s bytes %d..%d: damaged", filepath.Base(scan.path), d.off, d.end)
			if d.guess != nil {
				line += "; it seemed to hold " + d.guess.String()
			}
			rec.Lost = append(rec.Lost, line)
		}
		for _, f := range scan.frames {
			c, err := decodeWALRecord(f.payload)
			if err != nil {
				rec.Lost = append(rec.Lost, fmt.Sprintf("%s bytes %d..%d: a frame that does not decode (%v)", filepath.Base(scan.path), f.off, f.off+8+int64(len(f.payload)), err))
				continue
			}
			commits = append(commits, c)
			where[c] = fmt.Sprintf("%s byte %d", filepath.Base(scan.path), f.off)
		}
	}
	return commits, where, nil
}

// replay writes into db, in one transaction, the commits (in revision
// order) that follow their draft's head, and sorts each commit into
// rec.Replayed, rec.Present (already in the file) or rec.Lost; it returns
// the intact commits that a lost one separates from the head (orphans),
// and fills rec.Heads. On an error nothing is written.
func (rec *Recovery) replay(db *bolt.DB, commits []*walCommit, where map[*walCommit]string) (orphans []RevRange, err error) {
	rec.Heads = map[string]int{}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, c := range commits {
			r := RevRange{Draft: c.id, From: c.base + 1, To: c.enc.lastRev}
			db, err := draftBucket(tx, "recover", c.id)
			if err != nil {
				rec.Lost = append(rec.Lost, fmt.Sprintf("%s (%s): not replayed: the draft does not exist", r, where[c]))
				continue
			}
			meta, err := readMeta(db, c.id)
			if err != nil {
				return err
			}
			switch {
			case c.enc.lastRev <= meta.Rev:
				rec.Present = append(rec.Present, r)
				continue
			case c.base > meta.Rev:
				orphans = append(orphans, r)
				continue
			}
			err = commitTx(tx, c.id, c.base, c.enc)
			switch {
			case rejected(err):
				rec.Lost = append(rec.Lost, fmt.Sprintf("%s (%s): not replayed: %v", r, where[c], err))
			case err != nil:
				return err
			default:
				rec.Replayed = append(rec.Replayed, r)
			}
		}
		return draftHeads(tx, rec.Heads)
	})
	return orphans, err
}

// copyFile copies src to a new file dst and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// emptyFile truncates the file at path, if there is one, and syncs it.
func emptyFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
