package server

import (
	"encoding/json"
	"errors"
	"math"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/jsonx"
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
				return dr.Errorf(dr.CodeBadRequest, "a message is a JSON object")
			}
			return dr.Errorf(dr.CodeBadRequest, "field %s must be %s", te.Field, expectedType(te.Field))
		}
		return dr.Errorf(dr.CodeBadRequest, "message is not valid JSON")
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
	var f opFields
	if !f.scan(data) {
		return false
	}
	var op ot.Op
	// ot's decoder accepts only valid JSON of the op form, so what it
	// accepts encoding/json takes as it is into the json.RawMessage. The
	// decoded op goes along (m.op), so the op handler does not decode it
	// again.
	if f.seen&hasOp != 0 && op.UnmarshalJSON(f.op) != nil {
		return false
	}
	f.store(m, op)
	return true
}

// The fields of the plain op message, as bits of opFields.seen.
const (
	hasType uint8 = 1 << iota
	hasDoc
	hasRev
	hasSeq
	hasOp
	hasRef
)

// opFields is an op message as scanned: the raw values of its fields,
// before the op is decoded.
type opFields struct {
	seen     uint8 // which fields the frame has
	doc      []byte
	rev, seq uint64
	op, ref  []byte
}

// scan reads data as one JSON object of the plain op message, field by
// field; false for anything else.
func (f *opFields) scan(data []byte) bool {
	p := inboundParser{jsonx.Scanner{B: data}}
	p.Space()
	if !p.Eat('{') {
		return false
	}
	for {
		p.Space()
		key, ok := p.String()
		if !ok {
			return false
		}
		p.Space()
		if !p.Eat(':') {
			return false
		}
		p.Space()
		if !f.scanValue(&p, key) {
			return false
		}
		p.Space()
		if p.Eat(',') {
			continue
		}
		if !p.Eat('}') {
			return false
		}
		p.Space()
		return p.I == len(p.B) && f.seen&hasType != 0
	}
}

// scanValue reads the value of field key; false for a field outside the
// plain form, a value in another form, or a key seen before.
func (f *opFields) scanValue(p *inboundParser, key []byte) bool {
	var field uint8
	var ok bool
	switch string(key) {
	case "type":
		field, ok = hasType, p.Lit(`"op"`)
	case "doc":
		field = hasDoc
		f.doc, ok = p.String()
	case "rev":
		field = hasRev
		f.rev, ok = p.Digits(18) // below 1e18, so it fits an int64
		ok = ok && f.rev <= math.MaxInt
	case "seq":
		field = hasSeq
		f.seq, ok = p.Digits(19) // below 1e19, so it fits a uint64
	case "op":
		field = hasOp
		f.op, ok = p.Array()
	case "ref":
		field = hasRef
		f.ref, ok = p.ref()
	default:
		return false // another field, or one encoding/json would match case-insensitively
	}
	// A repeated key is legal JSON (the last wins) but rare enough to
	// leave to encoding/json.
	if !ok || f.seen&field != 0 {
		return false
	}
	f.seen |= field
	return true
}

// store writes the scanned fields into m as encoding/json would (see
// decodeOpFast), op being the decoded op.
func (f *opFields) store(m *Inbound, op ot.Op) {
	m.Type = "op"
	if f.seen&hasDoc != 0 {
		m.Doc = string(f.doc)
	}
	if f.seen&hasRev != 0 && f.seen&hasSeq != 0 && m.Rev == nil && m.Seq == nil {
		// The usual case: one allocation for both numbers.
		nums := &struct {
			rev int
			seq uint64
		}{int(f.rev), f.seq}
		m.Rev, m.Seq = &nums.rev, &nums.seq
	} else {
		if f.seen&hasRev != 0 {
			if m.Rev == nil {
				m.Rev = new(int)
			}
			*m.Rev = int(f.rev)
		}
		if f.seen&hasSeq != 0 {
			if m.Seq == nil {
				m.Seq = new(uint64)
			}
			*m.Seq = f.seq
		}
	}
	if f.seen&hasOp != 0 {
		m.Op, m.op = f.op, op
	}
	if f.seen&hasRef != 0 {
		m.Ref = f.ref
	}
}

// inboundParser is the shared scanner plus the one form of the op message
// it alone reads (ref).
type inboundParser struct {
	jsonx.Scanner
}

// ref returns the bytes of a "ref" value: a plain string (with its quotes)
// or a non-negative integer in plain digits, the forms clients use.
func (p *inboundParser) ref() ([]byte, bool) {
	start := p.I
	if p.I < len(p.B) && p.B[p.I] == '"' {
		if _, ok := p.String(); !ok {
			return nil, false
		}
		return p.B[start:p.I], true
	}
	if _, ok := p.Digits(19); !ok {
		return nil, false
	}
	return p.B[start:p.I], true
}
