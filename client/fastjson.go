package client

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// decodeFast decodes the two messages a client receives most ("op" and
// "ack") when they are written exactly as draftroom's server writes them
// (its field order, no extra fields, no escapes in strings), without
// encoding/json, whose two passes per message dominate a reader's CPU when
// it follows a busy draft. Anything else — another order, a "ref", an
// escaped name, another server — returns false and is decoded by
// encoding/json; decodeFast never accepts what encoding/json would read
// differently (FuzzDecodeFast checks that).
func decodeFast(data []byte, m *inMsg) bool {
	p := fastParser{b: data}
	if !p.lit(`{"type":"`) {
		return false
	}
	typ, ok := p.str()
	if !ok || !p.lit(`,"doc":"`) {
		return false
	}
	doc, ok := p.str()
	if !ok {
		return false
	}
	switch typ {
	case "ack":
		seq, ok1 := p.field(`,"seq":`)
		rev, ok2 := p.field(`,"rev":`)
		if !ok1 || !ok2 || !p.lit("}") || p.i != len(p.b) || rev > maxInt {
			return false
		}
		*m = inMsg{Type: "ack", Doc: doc, Seq: seq, Rev: int(rev)}
		return true
	case "op":
		rev, ok := p.field(`,"rev":`)
		if !ok || rev > maxInt || !p.lit(`,"op":`) {
			return false
		}
		op, ok := p.array()
		if !ok || !p.lit(`,"client":"`) {
			return false
		}
		client, ok := p.str()
		if !ok {
			return false
		}
		seq, ok := p.field(`,"seq":`)
		if !ok || !p.lit(`,"by":{"delegation":"`) {
			return false
		}
		delegation, ok := p.str()
		if !ok || !p.lit(`,"name":"`) {
			return false
		}
		name, ok := p.str()
		if !ok || !p.lit("}") {
			return false
		}
		ts, ok := p.field(`,"ts":`)
		if !ok || ts > maxInt {
			return false
		}
		*m = inMsg{Type: "op", Doc: doc, Rev: int(rev), Op: op, Client: client, Seq: seq,
			By: Author{Delegation: delegation, Name: name}, TS: int64(ts)}
		// Optional fields of server-built ops are left to encoding/json.
		return p.lit("}") && p.i == len(p.b)
	}
	return false
}

const maxInt = 1<<53 - 1 // beyond, JSON numbers are not exact anyway

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// str reads the rest of a string whose opening quote was read: plain
// characters only (no escapes, no control characters).
func (p *fastParser) str() (string, bool) {
	end := bytes.IndexByte(p.b[p.i:], '"')
	if end < 0 {
		return "", false
	}
	s := p.b[p.i : p.i+end]
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(s) {
		return "", false // encoding/json would replace the bad bytes
	}
	p.i += end + 1
	return string(s), true
}

// field reads a literal key and a non-negative integer.
func (p *fastParser) field(key string) (uint64, bool) {
	if !p.lit(key) {
		return 0, false
	}
	j := p.i
	for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	if j == p.i || j-p.i > 19 || (p.b[p.i] == '0' && j-p.i > 1) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[p.i:j]), 10, 64)
	if err != nil {
		return 0, false
	}
	p.i = j
	return n, true
}

// array returns the raw bytes of a JSON array (left to ot's own decoder),
// finding its end by skipping strings.
func (p *fastParser) array() ([]byte, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return nil, false
	}
	depth := 0
	for j := p.i; j < len(p.b); j++ {
		switch p.b[j] {
		case '"':
			for j++; j < len(p.b) && p.b[j] != '"'; j++ {
				if p.b[j] == '\\' {
					j++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				raw := p.b[p.i : j+1]
				p.i = j + 1
				return raw, true
			}
		}
	}
	return nil, false
}
