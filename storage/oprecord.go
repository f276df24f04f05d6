package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

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
func appendOpRecord(dst []byte, op Op) []byte {
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
// straight through and checks once.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", errBadRecord, what)
	}
}

func (r *recordReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
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
	if len(r.b) == 0 {
		r.fail(what)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// string copies the string out: the bytes belong to a bbolt page that is
// only valid during the transaction.
func (r *recordReader) string(what string) string {
	n := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail(what)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// decodeOpRecord decodes the record of op rev. Errors wrap errBadRecord;
// the strings in the result do not share memory with b.
func decodeOpRecord(rev int, b []byte) (Op, error) {
	r := recordReader{b: b}
	if v := r.byte("version"); r.err == nil && v != opRecordV1 {
		return Op{}, fmt.Errorf("%w: op record version %d", errBadRecord, v)
	}
	op := Op{Rev: rev}
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
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail("component count")
	}
	if r.err != nil {
		return Op{}, r.err
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
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return Op{}, r.err
	}
	return op, nil
}
