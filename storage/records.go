package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// errBadRecord: a stored record that does not decode (a damaged file, or a
// newer format). Wrapped with where it was found.
var errBadRecord = errors.New("storage: undecodable record")

// The op log is the hot path of a store (every commit writes records, every
// resume and replay reads hundreds), so op records have a compact binary
// form instead of JSON. The revision is not in the record: it is the key.
//
//	version  byte (opRecordV1)
//	seq      uvarint
//	ts       varint
//	client, principal, by.delegation, by.name, kind, group: uvarint length + bytes
//	n        uvarint, then n components:
//	  flags  byte: compSkip | compInsert | compDelete | compDeleted
//	  then, for each flag set in that order: skip varint, insert string,
//	  delete varint, deleted string
//
// Flags rather than one tag per kind so that any Component, even one the
// ot package would call malformed, round-trips exactly: storage keeps what
// it is given.
const (
	opRecordV1 = 1

	compSkip    = 1 << 0
	compInsert  = 1 << 1
	compDelete  = 1 << 2
	compDeleted = 1 << 3
)

// appendOpRecord appends the record of op (without its Rev) to dst.
func appendOpRecord(dst []byte, op dr.Op) []byte {
	dst = append(dst, opRecordV1)
	dst = binary.AppendUvarint(dst, op.Seq)
	dst = binary.AppendVarint(dst, op.TS)
	for _, s := range [...]string{op.Client, op.Principal, op.By.Delegation, op.By.Name, op.Kind, op.Group} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(op.Op)))
	for _, c := range op.Op {
		var flags byte
		if c.Skip != 0 {
			flags |= compSkip
		}
		if c.Insert != "" {
			flags |= compInsert
		}
		if c.Delete != 0 {
			flags |= compDelete
		}
		if c.Deleted != "" {
			flags |= compDeleted
		}
		dst = append(dst, flags)
		if c.Skip != 0 {
			dst = binary.AppendVarint(dst, int64(c.Skip))
		}
		if c.Insert != "" {
			dst = appendString(dst, c.Insert)
		}
		if c.Delete != 0 {
			dst = binary.AppendVarint(dst, int64(c.Delete))
		}
		if c.Deleted != "" {
			dst = appendString(dst, c.Deleted)
		}
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// recordReader walks a record; the first error sticks, so decoding reads
// straight through and checks once. Strings are cut from one copy of the
// whole record (s), made once: one allocation for all of a record's strings
// instead of one each, and nothing shares memory with the bbolt page, which
// is only valid during its transaction.
type recordReader struct {
	b   []byte
	s   string // string(b)
	off int
	err error
}

func newRecordReader(b []byte) recordReader { return recordReader{b: b, s: string(b)} }

func (r *recordReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", errBadRecord, what)
	}
}

func (r *recordReader) rest() int { return len(r.b) - r.off }

func (r *recordReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.off += n
	return v
}

// varint reads a zigzag-encoded varint, as binary.Varint does: a uvarint
// whose low bit is the sign.
func (r *recordReader) varint(what string) int64 {
	ux := r.uvarint(what)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// int reads a varint that must fit an int.
func (r *recordReader) int(what string) int {
	v := r.varint(what)
	if int64(int(v)) != v {
		r.fail(what)
		return 0
	}
	return int(v)
}

func (r *recordReader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.rest() == 0 {
		r.fail(what)
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *recordReader) string(what string) string {
	n := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if n > uint64(r.rest()) {
		r.fail(what)
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// bytes reads a length-prefixed byte string into a new slice.
func (r *recordReader) bytes(what string) []byte {
	s := r.string(what)
	if r.err != nil {
		return nil
	}
	return []byte(s)
}

// end fails unless the whole record was read.
func (r *recordReader) end() error {
	if r.err == nil && r.rest() != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

// isSubmission reports whether op record b is the submission (principal,
// client, seq), reading only its head: the dedupe search walks many
// records and decodes none of them in full.
func isSubmission(b []byte, principal, client string, seq uint64) bool {
	if len(b) == 0 || b[0] != opRecordV1 {
		return false
	}
	b = b[1:]
	s, n := binary.Uvarint(b)
	if n <= 0 || s != seq {
		return false
	}
	b = b[n:]
	if _, n = binary.Varint(b); n <= 0 { // ts
		return false
	}
	b = b[n:]
	for _, want := range [...]string{client, principal} {
		l, n := binary.Uvarint(b)
		if n <= 0 || l != uint64(len(want)) || uint64(len(b)-n) < l || string(b[n:n+int(l)]) != want {
			return false
		}
		b = b[n+int(l):]
	}
	return true
}

// decodeOpRecord decodes the record of op rev. Errors wrap errBadRecord;
// the strings in the result do not share memory with b.
func decodeOpRecord(rev int, b []byte) (dr.Op, error) {
	r := newRecordReader(b)
	if v := r.byte("version"); r.err == nil && v != opRecordV1 {
		return dr.Op{}, fmt.Errorf("%w: op record version %d", errBadRecord, v)
	}
	op := dr.Op{Rev: rev}
	op.Seq = r.uvarint("seq")
	op.TS = r.varint("ts")
	op.Client = r.string("client")
	op.Principal = r.string("principal")
	op.By.Delegation = r.string("delegation")
	op.By.Name = r.string("name")
	op.Kind = r.string("kind")
	op.Group = r.string("group")
	n := r.uvarint("component count")
	// Every component takes at least its flags byte: a count beyond what is
	// left is damage, and must not become a huge allocation.
	if r.err == nil && n > uint64(r.rest()) {
		r.fail("component count")
	}
	if r.err != nil {
		return dr.Op{}, r.err
	}
	op.Op = make(ot.Op, n)
	for i := range op.Op {
		c := &op.Op[i]
		flags := r.byte("component flags")
		if flags&^(compSkip|compInsert|compDelete|compDeleted) != 0 {
			r.fail("component flags")
		}
		if flags&compSkip != 0 {
			c.Skip = r.int("skip")
		}
		if flags&compInsert != 0 {
			c.Insert = r.string("insert")
		}
		if flags&compDelete != 0 {
			c.Delete = r.int("delete")
		}
		if flags&compDeleted != 0 {
			c.Deleted = r.string("deleted")
		}
	}
	if err := r.end(); err != nil {
		return dr.Op{}, err
	}
	return op, nil
}

// Snapshot records: the text is most of a snapshot (tens of kB), and JSON
// would escape and validate all of it, and compact the Meta sections;
// this form copies it and keeps Meta byte for byte. The revision is the key.
//
//	version byte (snapshotRecordV1)
//	text    uvarint length + bytes
//	n       uvarint, then n sections sorted by name: name, value (uvarint length + bytes each)
const snapshotRecordV1 = 1

// appendSnapshotRecord appends the record of s (without its Rev) to dst.
func appendSnapshotRecord(dst []byte, s dr.Snapshot) []byte {
	dst = append(dst, snapshotRecordV1)
	dst = appendString(dst, s.Text)
	dst = binary.AppendUvarint(dst, uint64(len(s.Meta)))
	names := make([]string, 0, len(s.Meta))
	for name := range s.Meta {
		names = append(names, name)
	}
	slices.Sort(names) // the same snapshot always makes the same bytes
	for _, name := range names {
		dst = appendString(dst, name)
		dst = binary.AppendUvarint(dst, uint64(len(s.Meta[name])))
		dst = append(dst, s.Meta[name]...)
	}
	return dst
}

// decodeSnapshotRecord decodes the record of snapshot rev. Errors wrap
// errBadRecord; the result shares no memory with b. Meta is nil when the
// snapshot has no sections.
func decodeSnapshotRecord(rev int, b []byte) (dr.Snapshot, error) {
	r := newRecordReader(b)
	if v := r.byte("version"); r.err == nil && v != snapshotRecordV1 {
		return dr.Snapshot{}, fmt.Errorf("%w: snapshot record version %d", errBadRecord, v)
	}
	s := dr.Snapshot{Rev: rev, Text: r.string("text")}
	n := r.uvarint("section count")
	if r.err == nil && n > uint64(r.rest()) { // each section takes 2 bytes or more
		r.fail("section count")
	}
	if r.err == nil && n > 0 {
		s.Meta = make(map[string]json.RawMessage, n)
		for range n {
			name := r.string("section name")
			s.Meta[name] = r.bytes("section")
		}
	}
	if err := r.end(); err != nil {
		return dr.Snapshot{}, err
	}
	return s, nil
}
