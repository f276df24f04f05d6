package client

import (
	"strconv"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// DefaultMaxOpBytes is the largest op message the client sends when the
// server does not say its frame limit: a quarter of the server's default
// (1 MiB), so that a server configured a little lower still takes it.
const DefaultMaxOpBytes = 256 << 10

// minOpBytes is the smallest budget splitOp works with: room for the
// message's other fields and at least one code point of any size.
const minOpBytes = 1 << 10

// opMsgOverhead bounds the bytes of an op message besides its op:
// {"type":"op","doc":<128 chars>,"rev":<20 digits>,"seq":<20 digits>,"op":}.
const opMsgOverhead = 256

// jsonRuneLen is how many bytes encoding/json writes for r inside a string
// (HTML escaping on, as json.Marshal does): an upper bound, so "\b" and
// "\f" count as their six-byte escapes.
func jsonRuneLen(r rune, size int) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029':
		return 6
	case r == utf8.RuneError && size == 1:
		return 6 // invalid byte, written as \ufffd
	}
	return size
}

// jsonPrefix returns the longest prefix of s (whole code points, at least
// one) whose JSON string form fits in room bytes besides its quotes, with
// its length in code points and encoded bytes. A first code point that does
// not fit is taken anyway when takeOne is set.
func jsonPrefix(s string, room int, takeOne bool) (prefix string, runes, bytes int) {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		n := jsonRuneLen(r, size)
		if bytes+n > room && !(takeOne && i == 0) {
			break
		}
		bytes += n
		runes++
		i += size
	}
	return s[:i], runes, bytes + 2
}

// fitsQuickly reports, without scanning the text, whether op surely
// encodes within budget bytes (every byte of text at most six bytes).
func fitsQuickly(op ot.Op, budget int) bool {
	n := 2
	for _, c := range op {
		n += 6*(len(c.Insert)+len(c.Deleted)) + 28
	}
	return n <= budget
}

// splitOp cuts op into ops that, applied one after the other, do what op
// does, each encoding (as an op message) within maxBytes. Ops that already
// fit come back as they are. The deletes go first and the inserts after,
// so the draft never grows beyond the longer of its lengths before and
// after op (a replace of the whole text does not double it on the way,
// which the server's maximum draft length would refuse).
func splitOp(op ot.Op, maxBytes int) []ot.Op {
	budget := max(maxBytes, minOpBytes) - opMsgOverhead
	if fitsQuickly(op, budget) || opJSONLen(op) <= budget {
		return []ot.Op{op}
	}
	var deletes, inserts ot.Op
	for _, c := range op {
		switch {
		case c.Skip > 0:
			deletes = append(deletes, c)
			inserts = append(inserts, c)
		case c.Insert != "":
			inserts = append(inserts, c)
		default:
			deletes = append(deletes, c)
		}
	}
	pieces := chunk(ot.Normalize(deletes), budget, nil)
	return chunk(ot.Normalize(inserts), budget, pieces)
}

// opJSONLen is the length of op's JSON form (an upper bound, as jsonRuneLen).
func opJSONLen(op ot.Op) int {
	n := 1
	for _, c := range op {
		n++
		switch {
		case c.Skip > 0:
			n += len(strconv.Itoa(c.Skip))
		case c.Insert != "":
			_, _, b := jsonPrefix(c.Insert, int(^uint(0)>>1), true)
			n += b
		case c.Deleted != "":
			_, _, b := jsonPrefix(c.Deleted, int(^uint(0)>>1), true)
			n += b + 6
		default:
			n += len(strconv.Itoa(c.Delete)) + 6
		}
	}
	return n
}

// chunk appends to pieces the ops, each within budget bytes, that do op
// one after the other. Each piece starts with a skip to where the one
// before stopped: the text before that point is already op's output, the
// text after it still op's input.
func chunk(op ot.Op, budget int, pieces []ot.Op) []ot.Op {
	var cur ot.Op
	pos, start, size := 0, 0, 0 // pos: in the text between pieces
	flush := func() {
		if len(cur) > 0 {
			piece := ot.Op{}
			if start > 0 {
				piece = append(piece, ot.Skip(start))
			}
			pieces = append(pieces, ot.Normalize(append(piece, cur...)))
		}
		cur, start, size = nil, pos, len(strconv.Itoa(pos))+3
	}
	flush()
	for _, c := range op {
		switch {
		case c.Skip > 0:
			if len(cur) == 0 {
				pos += c.Skip
				start, size = pos, len(strconv.Itoa(pos))+3
				continue
			}
			cur = append(cur, c)
			pos += c.Skip
			size += len(strconv.Itoa(c.Skip)) + 1
		case c.Insert != "" || c.Deleted != "":
			s := c.Insert + c.Deleted
			extra := 1
			if c.Deleted != "" {
				extra = 7 // {"d":…},
			}
			for s != "" {
				part, runes, bytes := jsonPrefix(s, budget-size-extra-2, len(cur) == 0)
				if part == "" {
					flush()
					continue
				}
				if c.Insert != "" {
					cur = append(cur, ot.Insert(part))
					pos += runes
				} else {
					cur = append(cur, ot.DeleteText(part))
				}
				size += bytes + extra
				s = s[len(part):]
				if s != "" {
					flush()
				}
			}
		default: // {"d":N}
			if size+24 > budget {
				flush()
			}
			cur = append(cur, c)
			size += len(strconv.Itoa(c.Delete)) + 7
		}
	}
	flush()
	return pieces
}
