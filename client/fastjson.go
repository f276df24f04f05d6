package client

import (
	"encoding/json"
	"fmt"

	"github.com/draftroom/draftroom/internal/jsonx"
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
	p := fastParser{jsonx.Scanner{B: data}}
	if !p.Lit(`{"type":"`) {
		return false
	}
	typ, ok := p.StringRest()
	if !ok || !p.Lit(`,"doc":"`) {
		return false
	}
	doc, ok := p.StringRest()
	if !ok {
		return false
	}
	switch string(typ) {
	case "ack":
		seq, ok1 := p.uint(`,"seq":`)
		rev, ok2 := p.uint(`,"rev":`)
		if !ok1 || !ok2 || !p.Lit("}") || p.I != len(p.B) || rev > maxInt {
			return false
		}
		*m = inMsg{Type: "ack", Doc: strs.get(doc), Seq: seq, Rev: int(rev)}
		return true
	case "op":
		rev, ok := p.uint(`,"rev":`)
		if !ok || rev > maxInt || !p.Lit(`,"op":`) {
			return false
		}
		raw, ok := p.Array()
		if !ok || !p.Lit(`,"client":"`) {
			return false
		}
		client, ok := p.StringRest()
		if !ok {
			return false
		}
		seq, ok := p.uint(`,"seq":`)
		if !ok || !p.Lit(`,"by":{"delegation":"`) {
			return false
		}
		delegation, ok := p.StringRest()
		if !ok || !p.Lit(`,"name":"`) {
			return false
		}
		name, ok := p.StringRest()
		if !ok || !p.Lit("}") {
			return false
		}
		ts, ok := p.uint(`,"ts":`)
		// Optional fields of server-built ops ("kind", "group") are left
		// to encoding/json.
		if !ok || ts > maxInt || !p.Lit("}") || p.I != len(p.B) {
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

// fastParser is the shared scanner with the one form the client reads
// besides: a literal key and its number.
type fastParser struct {
	jsonx.Scanner
}

// uint reads a literal key and a non-negative integer in plain digits
// (no leading zero, at most 19 digits, so it cannot overflow).
func (p *fastParser) uint(key string) (uint64, bool) {
	if !p.Lit(key) {
		return 0, false
	}
	return p.Digits(19)
}
