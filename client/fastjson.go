package client

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// decode reads a message from the server into m: with decodeFast when the
// message has the usual shape, else with encoding/json. Either way the
// result is the same (FuzzDecodeFast checks it); an error means the message
// is not JSON (or does not fit inMsg) and ends the connection. strs may be
// nil.
func decode(data []byte, m *inMsg, strs *interner) error {
	if decodeFast(data, m, strs) {
		return nil
	}
	// A variable of its own: handing m to encoding/json would make every
	// caller's message escape to the heap, fast path included.
	var slow inMsg
	if err := json.Unmarshal(data, &slow); err != nil {
		return fmt.Errorf("client: bad message from server: %w", err)
	}
	*m = slow
	return nil
}

// decodeFast decodes the two messages a client receives most ("op" and
// "ack") when they are written exactly as draftroom's server writes them
// (its field order, no extra fields, no escapes in the strings outside the
// op), without encoding/json: a reader following a busy draft spends most
// of its CPU on these. The op array is decoded by ot's strict decoder into
// m.op; an op it refuses sends the whole message to encoding/json, so that
// a broken op is refused exactly as encoding/json and remoteOp would. Any
// other shape — another order, a "ref", an escaped name, another server —
// returns false and leaves m alone; decodeFast never accepts what
// encoding/json would read differently (FuzzDecodeFast checks that).
// Strings are taken from strs (which may be nil), so that the few drafts,
// clients and authors a reader sees are not allocated again per message.
func decodeFast(data []byte, m *inMsg, strs *interner) bool {
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
	switch string(typ) {
	case "ack":
		seq, ok1 := p.uint(`,"seq":`)
		rev, ok2 := p.uint(`,"rev":`)
		if !ok1 || !ok2 || !p.lit("}") || p.i != len(p.b) || rev > maxInt {
			return false
		}
		*m = inMsg{Type: "ack", Doc: strs.get(doc), Seq: seq, Rev: int(rev)}
		return true
	case "op":
		rev, ok := p.uint(`,"rev":`)
		if !ok || rev > maxInt || !p.lit(`,"op":`) {
			return false
		}
		raw, ok := p.array()
		if !ok || !p.lit(`,"client":"`) {
			return false
		}
		client, ok := p.str()
		if !ok {
			return false
		}
		seq, ok := p.uint(`,"seq":`)
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
		ts, ok := p.uint(`,"ts":`)
		// Optional fields of server-built ops ("kind", "group") are left
		// to encoding/json.
		if !ok || ts > maxInt || !p.lit("}") || p.i != len(p.b) {
			return false
		}
		// Last, as it allocates: ot's decoder takes only valid JSON of the
		// op form, and anything it refuses goes to encoding/json.
		var op ot.Op
		if op.UnmarshalJSON(raw) != nil {
			return false
		}
		*m = inMsg{Type: "op", Doc: strs.get(doc), Rev: int(rev), Op: raw, Client: strs.get(client), Seq: seq,
			By: Author{Delegation: strs.get(delegation), Name: strs.get(name)}, TS: int64(ts), op: op, opDecoded: true}
		return true
	}
	return false
}

// interner hands out one string per distinct short value the reader sees
// (draft ids, client ids, delegations, names: a few hundred at most on a
// busy draft), so that decoding a message does not allocate them again. It
// is owned by the reader goroutine. It forgets everything when full, which
// bounds its memory whatever a server sends.
type interner struct {
	m map[string]string
}

const (
	maxInternedLen   = 64   // longer strings are allocated each time
	maxInternedCount = 4096 // then the map starts afresh
)

// get returns b as a string; a nil interner just converts.
func (in *interner) get(b []byte) string {
	if in == nil || len(b) > maxInternedLen {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if in.m == nil || len(in.m) >= maxInternedCount {
		in.m = make(map[string]string)
	}
	s := string(b)
	in.m[s] = s
	return s
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
// characters only (no escapes, no control characters, valid UTF-8). The
// result aliases the message.
func (p *fastParser) str() ([]byte, bool) {
	ascii := true
	for j := p.i; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[p.i:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false // encoding/json would replace the bad bytes
			}
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// uint reads a literal key and a non-negative integer in plain digits
// (no leading zero, at most 19 digits, so it cannot overflow).
func (p *fastParser) uint(key string) (uint64, bool) {
	if !p.lit(key) {
		return 0, false
	}
	var n uint64
	j := p.i
	for ; j < len(p.b) && p.b[j]-'0' <= 9; j++ {
		n = n*10 + uint64(p.b[j]-'0')
	}
	if j == p.i || j-p.i > 19 || (p.b[p.i] == '0' && j-p.i > 1) {
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
