package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// walFile is the Bolt store's write-ahead log of commits: a file of
// frames, each
//
//	length uint32 | crc32c(payload) uint32 | payload (one commit, walRecord)
//
// little-endian, appended in commit order. An append is one write and one
// fdatasync, however many commits it carries; the commits are copied into
// the bbolt file later, many per transaction (Bolt.checkpoint), and the log
// is then emptied. A crash can leave a torn last frame: it was never
// synced, so never acknowledged, and reading stops before it.
type walFile struct {
	f      *os.File
	path   string
	size   int64 // bytes of whole frames
	noSync bool
	sync   func(*os.File) error // fdatasync; tests make it fail
	// writeAt is f.WriteAt; tests make it fail (a full disk).
	writeAt func(b []byte, off int64) (int, error)
}

var (
	crcTable = crc32.MakeTable(crc32.Castagnoli)

	errBadWAL = errors.New("storage: bad write-ahead log record")
)

// maxWALFrame bounds one frame when reading, so that a corrupt length
// cannot make the reader allocate gigabytes.
const maxWALFrame = 1 << 30

// openWAL opens (creating) the log at path and scans it (scanWAL). It
// changes nothing: the caller decides what to do with damage (Bolt.openWAL
// cuts a torn tail and refuses to start on anything else).
func openWAL(path string, noSync bool) (*walFile, *walScan, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: open log %s: %w", path, err)
	}
	w := &walFile{f: f, path: path, noSync: noSync, sync: fdatasync, writeAt: f.WriteAt}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("storage: read log %s: %w", path, err)
	}
	scan := scanWAL(path, data)
	w.size = int64(len(data))
	return w, scan, nil
}

// walScan is what a log file holds: intact frames, and damaged stretches
// between or after them.
type walScan struct {
	path   string
	size   int64
	frames []walFrame
	damage []walDamage
}

// walFrame is an intact frame: its checksum holds and it is not empty.
type walFrame struct {
	off     int64
	payload []byte
}

// walDamage is a stretch [off, end) of a log file that is not intact
// frames; end is where the next intact frame starts, or the file's end.
// guess is the commit the stretch's first frame seems to hold (its
// header may be damaged too), nil if nothing can be read.
type walDamage struct {
	off, end int64
	guess    *RevRange
}

// tornTail reports whether the only damage is a stretch that runs to the
// end of the file: an append cut short by a crash (never synced, so never
// acknowledged), which may be cut off. Damage followed by an intact frame
// is not a torn write: it is corruption of synced, acknowledged data.
func (s *walScan) tornTail() (walDamage, bool) {
	if len(s.damage) == 1 && s.damage[0].end == s.size {
		return s.damage[0], true
	}
	return walDamage{}, false
}

// corrupt reports whether the file holds damage followed by intact frames.
func (s *walScan) corrupt() bool {
	_, torn := s.tornTail()
	return len(s.damage) > 0 && !torn
}

// scanWAL splits data into frames. After a bad frame (a checksum that
// fails, a length past the end, an empty payload) it looks for the next
// offset where an intact frame holding a decodable commit starts, so
// that damage in the middle of a file is told apart from a torn tail,
// and the frames after it are found.
func scanWAL(path string, data []byte) *walScan {
	s := &walScan{path: path, size: int64(len(data))}
	off := 0
	for off < len(data) {
		if n, ok := frameAt(data, off); ok {
			s.frames = append(s.frames, walFrame{off: int64(off), payload: data[off+8 : off+8+n]})
			off += 8 + n
			continue
		}
		next := len(data)
		for p := off + 1; p+8 < len(data); p++ {
			if n, ok := frameAt(data, p); ok {
				if _, err := decodeWALRecord(data[p+8 : p+8+n]); err == nil {
					next = p
					break
				}
			}
		}
		s.damage = append(s.damage, walDamage{off: int64(off), end: int64(next), guess: guessWALRecord(data[off:next])})
		off = next
	}
	return s
}

// frameAt returns the payload length of the intact frame at off, if one
// is there.
func frameAt(data []byte, off int) (int, bool) {
	if len(data)-off < 8 {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(data[off:])
	if n == 0 || n > maxWALFrame || int64(n) > int64(len(data)-off-8) {
		return 0, false
	}
	payload := data[off+8 : off+8+int(n)]
	return int(n), crc32.Checksum(payload, crcTable) == binary.LittleEndian.Uint32(data[off+4:])
}

// guessWALRecord reads what it can of the commit a damaged frame starts
// with, or nil.
func guessWALRecord(b []byte) *RevRange {
	if len(b) <= 8 {
		return nil
	}
	r := newRecordReader(b[8:])
	id := r.string("draft id")
	base := r.int("base")
	last := r.int("last rev")
	if r.err != nil || !plausibleDraftID(id) || base < 0 || last <= base {
		return nil
	}
	return &RevRange{Draft: id, From: base + 1, To: last, Probable: true}
}

// plausibleDraftID reports whether id has the protocol's form of a draft
// id (1-128 of A-Z a-z 0-9 _ . -).
func plausibleDraftID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// appendFrame appends one frame holding payload to dst.
func appendWALFrame(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, crcTable))
	return append(dst, payload...)
}

// write appends frames (whole frames, see appendWALFrame) and syncs them.
// If the write fails, the log is cut back to where it was, so a later
// append does not follow half a frame. An error from the sync leaves the
// log's state on disk unknown: the caller must stop using it (errWALSync).
func (w *walFile) write(frames []byte) error {
	if _, err := w.writeAt(frames, w.size); err != nil {
		if terr := w.f.Truncate(w.size); terr != nil {
			return fmt.Errorf("%w: append to log %s: %w (and cutting it back: %v) (%w)", errWALSync, w.path, err, terr, ErrUnavailable)
		}
		return fmt.Errorf("storage: append to log %s: %w: %w", w.path, ErrUnavailable, err)
	}
	if !w.noSync {
		if err := w.sync(w.f); err != nil {
			return fmt.Errorf("%w: sync log %s: %w (%w)", errWALSync, w.path, err, ErrUnavailable)
		}
	}
	w.size += int64(len(frames))
	return nil
}

// errWALSync marks a log whose state on disk is unknown after a failed
// sync: after fsync fails, the kernel may have dropped the dirty pages, so
// retrying could report success for data that is not on disk.
var errWALSync = errors.New("storage: write-ahead log failed")

// reset empties the log once its commits are in the bbolt file. It need
// not be synced: replaying commits already in the file is skipped.
func (w *walFile) reset() error {
	if err := w.f.Truncate(0); err != nil {
		return fmt.Errorf("storage: empty log %s: %w", w.path, err)
	}
	w.size = 0
	return nil
}

func (w *walFile) close() error { return w.f.Close() }

// walCommit is a commit as the writer handles it: checked and encoded by
// the caller (submitCommit), logged, then copied into bbolt.
type walCommit struct {
	id   string
	base int
	enc  *encodedCommit
}

// appendWALRecord encodes c as a log payload:
//
//	id, base, last rev, last ts,
//	n ops × (op record, client key, seq),
//	n snapshots × (rev, record), n proposals × (key, value),
//	n decisions × (key, value)
//
// with uvarint lengths and counts, varint numbers.
func appendWALRecord(dst []byte, c *walCommit) []byte {
	e := c.enc
	dst = appendString(dst, c.id)
	dst = binary.AppendVarint(dst, int64(c.base))
	dst = binary.AppendVarint(dst, int64(e.lastRev))
	dst = binary.AppendVarint(dst, e.lastTS)
	dst = binary.AppendUvarint(dst, uint64(len(e.ops)))
	for i := range e.ops {
		dst = appendBytes(dst, e.ops[i])
		dst = appendBytes(dst, e.clients[i])
		dst = binary.AppendUvarint(dst, e.seqs[i])
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.snaps)))
	for rev, data := range e.snaps {
		dst = binary.AppendVarint(dst, int64(rev))
		dst = appendBytes(dst, data)
	}
	for _, kvs := range [][][2][]byte{e.proposals, e.decisions} {
		dst = binary.AppendUvarint(dst, uint64(len(kvs)))
		for _, kv := range kvs {
			dst = appendBytes(dst, kv[0])
			dst = appendBytes(dst, kv[1])
		}
	}
	return dst
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decodeWALRecord decodes a payload appendWALRecord wrote. Errors wrap
// errBadWAL.
func decodeWALRecord(b []byte) (*walCommit, error) {
	r := newRecordReader(b)
	c := &walCommit{enc: &encodedCommit{snaps: map[int][]byte{}}}
	e := c.enc
	c.id = r.string("draft id")
	c.base = r.int("base")
	e.lastRev = r.int("last rev")
	e.lastTS = r.varint("last ts")
	n := r.count("ops")
	for range n {
		e.ops = append(e.ops, r.bytes("op record"))
		e.clients = append(e.clients, r.bytes("client key"))
		e.seqs = append(e.seqs, r.uvarint("seq"))
	}
	n = r.count("snapshots")
	for range n {
		rev := r.int("snapshot rev")
		e.snaps[rev] = r.bytes("snapshot")
	}
	for _, kvs := range []*[][2][]byte{&e.proposals, &e.decisions} {
		n = r.count("records")
		for range n {
			*kvs = append(*kvs, [2][]byte{r.bytes("key"), r.bytes("value")})
		}
	}
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadWAL, err)
	}
	if len(e.ops) == 0 || e.lastRev != c.base+len(e.ops) {
		return nil, fmt.Errorf("%w: %d ops from %d end at %d", errBadWAL, len(e.ops), c.base, e.lastRev)
	}
	return c, nil
}

// count reads a count of items that each take at least one byte, so that a
// corrupt count cannot run the loop past the record.
func (r *recordReader) count(what string) int {
	n := r.uvarint(what)
	if n > uint64(r.rest()) {
		r.fail(what)
		return 0
	}
	return int(n)
}
