package jsonx

import "unicode/utf8"

// Scanner reads the few JSON forms that the hand-written fast decoders
// accept: the Go client's for the server's "op" and "ack" messages, and the
// server's for a client's "op" message. Every method reports false for
// anything else, and the caller then leaves the message to encoding/json;
// so a Scanner only ever accepts a subset of what encoding/json reads the
// same way. Results alias B.
type Scanner struct {
	B []byte
	I int // next byte to read
}

// Space skips JSON whitespace.
func (p *Scanner) Space() {
	for p.I < len(p.B) {
		switch p.B[p.I] {
		case ' ', '\t', '\n', '\r':
			p.I++
		default:
			return
		}
	}
}

// Eat reads byte c.
func (p *Scanner) Eat(c byte) bool {
	if p.I < len(p.B) && p.B[p.I] == c {
		p.I++
		return true
	}
	return false
}

// Lit reads the literal bytes s.
func (p *Scanner) Lit(s string) bool {
	if len(p.B)-p.I < len(s) || string(p.B[p.I:p.I+len(s)]) != s {
		return false
	}
	p.I += len(s)
	return true
}

// String reads a string with neither escapes nor control characters, of
// valid UTF-8 (encoding/json would replace invalid bytes), and returns its
// contents.
func (p *Scanner) String() ([]byte, bool) {
	if !p.Eat('"') {
		return nil, false
	}
	return p.StringRest()
}

// StringRest is String after the opening quote.
func (p *Scanner) StringRest() ([]byte, bool) {
	ascii := true
	for j := p.I; j < len(p.B); j++ {
		switch c := p.B[j]; {
		case c == '"':
			s := p.B[p.I:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			p.I = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// Digits reads a non-negative integer in plain JSON digits (no sign, no
// leading zero) of at most max digits (19 at most: it must fit a uint64). A
// fraction or exponent after it is left unread, so that the caller's next
// token check refuses it.
func (p *Scanner) Digits(max int) (uint64, bool) {
	var n uint64
	j := p.I
	for ; j < len(p.B) && p.B[j] >= '0' && p.B[j] <= '9'; j++ {
		if j-p.I >= max {
			return 0, false
		}
		n = n*10 + uint64(p.B[j]-'0')
	}
	if j == p.I || (p.B[p.I] == '0' && j-p.I > 1) {
		return 0, false
	}
	p.I = j
	return n, true
}

// Array returns the bytes of a JSON array, from [ to its matching ],
// finding the end by skipping strings; whether they are valid JSON is left
// to the caller (the decoders hand them to ot's strict op decoder).
func (p *Scanner) Array() ([]byte, bool) {
	if p.I >= len(p.B) || p.B[p.I] != '[' {
		return nil, false
	}
	depth := 0
	for j := p.I; j < len(p.B); j++ {
		switch p.B[j] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				raw := p.B[p.I : j+1]
				p.I = j + 1
				return raw, true
			}
		case '"':
			for j++; j < len(p.B) && p.B[j] != '"'; j++ {
				if p.B[j] == '\\' {
					j++ // the escaped byte cannot end the string
				}
			}
		}
	}
	return nil, false
}
