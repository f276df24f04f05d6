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
	const (
		hasType = 1 << iota
		hasDoc
		hasRev
		hasSeq
		hasOp
		hasRef
	)
	p := inboundParser{jsonx.Scanner{B: data}}
	p.Space()
	if !p.Eat('{') {
		return false
	}
	var (
		seen     uint8
		doc      []byte
		rev, seq uint64
		op, ref  []byte
		decoded  ot.Op
	)
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
		var field uint8
		switch string(key) {
		case "type":
			field, ok = hasType, p.Lit(`"op"`)
		case "doc":
			field = hasDoc
			doc, ok = p.String()
		case "rev":
			field = hasRev
			rev, ok = p.Digits(18) // below 1e18, so it fits an int64
			ok = ok && rev <= math.MaxInt
		case "seq":
			field = hasSeq
			seq, ok = p.Digits(19) // below 1e19, so it fits a uint64
		case "op":
			field = hasOp
			op, ok = p.Array()
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
		p.Space()
		if p.Eat(',') {
			continue
		}
		if p.Eat('}') {
			break
		}
		return false
	}
	p.Space()
	if p.I != len(p.B) || seen&hasType == 0 {
		return false
	}
	if seen&hasOp != 0 {
		// ot's decoder accepts only valid JSON of the op form, so what it
		// accepts encoding/json takes as it is into the json.RawMessage.
		// The decoded op goes along (m.op), so the op handler does not
		// decode it again.
		if decoded.UnmarshalJSON(op) != nil {
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
		m.Op, m.op = op, decoded
	}
	if seen&hasRef != 0 {
		m.Ref = ref
	}
	return true
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
