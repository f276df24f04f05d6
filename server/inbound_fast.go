package server

import (
	"encoding/json"
	"errors"
	"math"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// decodeInboundJSON is decodeInbound without the fast path: encoding/json
// into m, with errors a person can act on. It is the reference the fast
// path must agree with (FuzzDecodeInbound).
func decodeInboundJSON(data []byte, m *Inbound) error {
	if err := json.Unmarshal(data, m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return Errorf(ErrBadRequest, "a message is a JSON object")
			}
			return Errorf(ErrBadRequest, "field %s must be %s", te.Field, expectedType(te.Field))
		}
		return Errorf(ErrBadRequest, "message is not valid JSON")
	}
	return nil
}

// decodeOpFast decodes data into m when it is a client "op" message in the
// plain form clients write, e.g.
//
//	{"type":"op","doc":"art-17","rev":57,"seq":12,"op":[120,"shall "],"ref":3}
//
// without encoding/json, which is the bulk of decoding cost on a busy
// server. It accepts only: one JSON object, keys among type, doc, rev, seq,
// op and ref written exactly so (no escapes, no other case), each at most
// once and in any order, "type" being "op"; doc a string without escapes or
// control characters and of valid UTF-8; rev and seq non-negative integers
// in plain digits that fit; op an array that ot's strict decoder accepts;
// ref a plain string like doc or a non-negative integer; JSON whitespace
// between tokens. For anything else it returns false and leaves m alone, so
// the caller falls back to encoding/json, and acceptance, value and error
// text stay exactly those of decodeInboundJSON.
//
// On success m holds what encoding/json would have stored (fields absent
// from data are left as they were, Rev and Seq are written through pointers
// already set, as encoding/json does), except that m.Op and m.Ref alias data
// instead of being copies: handle gets a fresh buffer per frame and keeps it
// in m.Raw anyway.
func decodeOpFast(data []byte, m *Inbound) bool {
	const (
		hasType = 1 << iota
		hasDoc
		hasRev
		hasSeq
		hasOp
		hasRef
	)
	p := inboundParser{b: data}
	p.space()
	if !p.eat('{') {
		return false
	}
	var (
		seen     uint8
		doc      []byte
		rev, seq uint64
		op, ref  []byte
	)
	for {
		p.space()
		key, ok := p.plainString()
		if !ok {
			return false
		}
		p.space()
		if !p.eat(':') {
			return false
		}
		p.space()
		var field uint8
		switch string(key) {
		case "type":
			field, ok = hasType, p.lit(`"op"`)
		case "doc":
			field = hasDoc
			doc, ok = p.plainString()
		case "rev":
			field = hasRev
			rev, ok = p.digits(18) // below 1e18, so it fits an int64
			ok = ok && rev <= math.MaxInt
		case "seq":
			field = hasSeq
			seq, ok = p.digits(19) // below 1e19, so it fits a uint64
		case "op":
			field = hasOp
			op, ok = p.array()
		case "ref":
			field = hasRef
			ref, ok = p.ref()
		default:
			return false // another field, or one encoding/json would match case-insensitively
		}
		// A repeated key is legal JSON (the last wins) but rare enough to
		// leave to encoding/json.
		if !ok || seen&field != 0 {
			return false
		}
		seen |= field
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return false
	}
	p.space()
	if p.i != len(p.b) || seen&hasType == 0 {
		return false
	}
	if seen&hasOp != 0 {
		// ot's decoder accepts only valid JSON of the op form, so what it
		// accepts encoding/json takes as it is into the json.RawMessage.
		// The decoded op is dropped: Inbound carries the raw bytes, which
		// the op handler decodes again.
		var o ot.Op
		if o.UnmarshalJSON(op) != nil {
			return false
		}
	}

	m.Type = "op"
	if seen&hasDoc != 0 {
		m.Doc = string(doc)
	}
	if seen&hasRev != 0 && seen&hasSeq != 0 && m.Rev == nil && m.Seq == nil {
		// The usual case: one allocation for both numbers.
		nums := &struct {
			rev int
			seq uint64
		}{int(rev), seq}
		m.Rev, m.Seq = &nums.rev, &nums.seq
	} else {
		if seen&hasRev != 0 {
			if m.Rev == nil {
				m.Rev = new(int)
			}
			*m.Rev = int(rev)
		}
		if seen&hasSeq != 0 {
			if m.Seq == nil {
				m.Seq = new(uint64)
			}
			*m.Seq = seq
		}
	}
	if seen&hasOp != 0 {
		m.Op = op
	}
	if seen&hasRef != 0 {
		m.Ref = ref
	}
	return true
}

// inboundParser reads the few JSON forms decodeOpFast accepts; each method
// reports false for anything else, and then the message goes to
// encoding/json.
type inboundParser struct {
	b []byte
	i int
}

func (p *inboundParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *inboundParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *inboundParser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// plainString reads a string with neither escapes nor control characters,
// of valid UTF-8 (encoding/json would replace invalid bytes), and returns
// its contents, aliasing p.b.
func (p *inboundParser) plainString() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	ascii := true
	for j := p.i; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[p.i:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
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

// digits reads a non-negative integer in plain JSON digits (no sign, no
// leading zero) of at most max digits; a fraction or exponent after it is
// left unread, so the caller's next token check refuses it.
func (p *inboundParser) digits(max int) (uint64, bool) {
	var n uint64
	j := p.i
	for ; j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9'; j++ {
		n = n*10 + uint64(p.b[j]-'0')
		if j-p.i >= max {
			return 0, false
		}
	}
	if j == p.i || (p.b[p.i] == '0' && j-p.i > 1) {
		return 0, false
	}
	p.i = j
	return n, true
}

// array returns the bytes of a JSON array, from [ to its ], finding the end
// by skipping strings; whether they are valid JSON is left to ot's decoder.
func (p *inboundParser) array() ([]byte, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return nil, false
	}
	depth := 0
	for j := p.i; j < len(p.b); j++ {
		switch p.b[j] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				raw := p.b[p.i : j+1]
				p.i = j + 1
				return raw, true
			}
		case '"':
			for j++; j < len(p.b) && p.b[j] != '"'; j++ {
				if p.b[j] == '\\' {
					j++ // the escaped byte cannot end the string
				}
			}
		}
	}
	return nil, false
}

// ref returns the bytes of a "ref" value: a plain string (with its quotes)
// or a non-negative integer in plain digits, the forms clients use.
func (p *inboundParser) ref() ([]byte, bool) {
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '"' {
		if _, ok := p.plainString(); !ok {
			return nil, false
		}
		return p.b[start:p.i], true
	}
	if _, ok := p.digits(19); !ok {
		return nil, false
	}
	return p.b[start:p.i], true
}
