package ot

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/draftroom/draftroom/internal/jsonx"
)

// MarshalJSON encodes op in the ot-text-unicode wire form: a JSON array of
// N (skip), "s" (insert), {"d":N} and {"d":"s"} (delete). Components are
// written as they are (call Normalize first for the normal form); a nil op
// encodes as []. An op that fails Check is not encoded: the error wraps
// ErrMalformed or ErrInvalidUTF8.
func (op Op) MarshalJSON() ([]byte, error) {
	if err := op.Check(); err != nil {
		return nil, err
	}
	size := 2
	for _, c := range op {
		size += len(c.Insert) + len(c.Deleted) + 12
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '[')
	for i, c := range op {
		if i > 0 {
			buf = append(buf, ',')
		}
		switch c.kind() {
		case kindSkip:
			buf = strconv.AppendInt(buf, int64(c.Skip), 10)
		case kindInsert:
			buf = jsonx.AppendString(buf, c.Insert)
		case kindDelete:
			buf = append(buf, `{"d":`...)
			if c.Deleted != "" {
				buf = jsonx.AppendString(buf, c.Deleted)
			} else {
				buf = strconv.AppendInt(buf, int64(c.Delete), 10)
			}
			buf = append(buf, '}')
		}
	}
	return append(buf, ']'), nil
}

// UnmarshalJSON decodes the ot-text-unicode wire form strictly. Anything
// that is not a JSON array of the four component forms fails with an error
// wrapping ErrMalformed: null, a skip that is not a positive integer written
// in plain digits (0, -1, 1.5, 1e3), {"d":N} with N not a positive integer,
// {"d":""}, any other object ({}, {"i":"x"}, {"d":1,"x":2}), booleans,
// nested arrays, counts above MaxLen. A string holding invalid UTF-8 or a
// lone surrogate escape fails with ErrInvalidUTF8. An empty insert "" is a
// no-op and is dropped (PROTOCOL.md: the server drops empty inserts). On
// error *op is left unchanged.
func (op *Op) UnmarshalJSON(data []byte) error {
	p := jsonParser{data: data}
	p.space()
	if !p.eat('[') {
		return p.fail("an op must be a JSON array")
	}
	// One allocation for the usual op: commas bound the components (strings
	// may hold more commas, hence the cap on the guess).
	out := make(Op, 0, min(bytes.Count(data, []byte{','})+1, 64))
	p.space()
	if !p.eat(']') {
		for {
			p.space()
			c, err := p.component()
			if err != nil {
				return err
			}
			if c.kind() != kindEmpty {
				out = append(out, c)
			}
			p.space()
			if p.eat(',') {
				continue
			}
			if p.eat(']') {
				break
			}
			return p.fail("expected , or ] after a component")
		}
	}
	p.space()
	if p.i != len(p.data) {
		return p.fail("data after the op")
	}
	*op = out
	return nil
}

type jsonParser struct {
	data []byte
	i    int
}

func (p *jsonParser) fail(msg string) error {
	return fmt.Errorf("op JSON at byte %d: %s: %w", p.i, msg, ErrMalformed)
}

func (p *jsonParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) eat(b byte) bool {
	if p.i < len(p.data) && p.data[p.i] == b {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) component() (Component, error) {
	if p.i >= len(p.data) {
		return Component{}, p.fail("unexpected end")
	}
	switch b := p.data[p.i]; {
	case b >= '0' && b <= '9':
		n, err := p.count("a skip")
		return Component{Skip: n}, err
	case b == '"':
		s, err := p.str()
		return Component{Insert: s}, err
	case b == '{':
		return p.delete()
	case b == '-':
		return Component{}, p.fail("a skip must be a positive integer")
	case b == 'n':
		return Component{}, p.fail("null is not a component")
	case b == 't' || b == 'f':
		return Component{}, p.fail("a boolean is not a component")
	case b == '[':
		return Component{}, p.fail("a nested array is not a component")
	}
	return Component{}, p.fail("not a component")
}

// count parses a positive integer in plain digits, at most MaxLen.
func (p *jsonParser) count(what string) (int, error) {
	start := p.i
	n := 0
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		if n > MaxLen/10 {
			return 0, p.fail(what + " is too large")
		}
		n = n*10 + int(p.data[p.i]-'0')
		p.i++
	}
	if p.i < len(p.data) {
		switch p.data[p.i] {
		case '.', 'e', 'E':
			return 0, p.fail(what + " must be a positive integer")
		}
	}
	switch {
	case p.i == start:
		return 0, p.fail(what + " must be a positive integer")
	case p.data[start] == '0' && p.i-start > 1:
		return 0, p.fail("a number must not have a leading zero")
	case n == 0:
		return 0, p.fail(what + " must be a positive integer")
	case n > MaxLen:
		return 0, p.fail(what + " is too large")
	}
	return n, nil
}

// delete parses {"d":N} or {"d":"s"}, nothing else.
func (p *jsonParser) delete() (Component, error) {
	p.i++ // {
	p.space()
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return Component{}, p.fail(`the only object component is {"d":...}`)
	}
	key, err := p.str()
	if err != nil {
		return Component{}, err
	}
	if key != "d" {
		return Component{}, p.fail(`the only object component is {"d":...}`)
	}
	p.space()
	if !p.eat(':') {
		return Component{}, p.fail("expected :")
	}
	p.space()
	var c Component
	switch {
	case p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9':
		n, err := p.count("a delete")
		if err != nil {
			return Component{}, err
		}
		c = Component{Delete: n}
	case p.i < len(p.data) && p.data[p.i] == '"':
		s, err := p.str()
		if err != nil {
			return Component{}, err
		}
		if s == "" {
			return Component{}, p.fail(`{"d":""} deletes nothing`)
		}
		c = DeleteText(s)
	default:
		return Component{}, p.fail("a delete must be a positive integer or a non-empty string")
	}
	p.space()
	if !p.eat('}') {
		return Component{}, p.fail(`the only object component is {"d":...}, with no other key`)
	}
	return c, nil
}

// str parses a JSON string starting at its opening quote. Raw bytes must be
// valid UTF-8 and \u escapes must not leave a surrogate unpaired (JSON
// itself allows both; a draft cannot hold them).
func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.data) {
		b := p.data[p.i]
		if b == '"' {
			raw := p.data[start:p.i]
			p.i++
			if !utf8.Valid(raw) {
				return "", fmt.Errorf("op JSON at byte %d: %w", start, ErrInvalidUTF8)
			}
			return string(raw), nil
		}
		if b == '\\' {
			break
		}
		if b < 0x20 {
			return "", p.fail("control character in a string")
		}
		p.i++
	}
	buf := append([]byte(nil), p.data[start:p.i]...)
	for p.i < len(p.data) {
		b := p.data[p.i]
		switch {
		case b == '"':
			p.i++
			if !utf8.Valid(buf) {
				return "", fmt.Errorf("op JSON at byte %d: %w", start, ErrInvalidUTF8)
			}
			return string(buf), nil
		case b < 0x20:
			return "", p.fail("control character in a string")
		case b != '\\':
			buf = append(buf, b)
			p.i++
			continue
		}
		if p.i+1 >= len(p.data) {
			break
		}
		esc := p.data[p.i+1]
		p.i += 2
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail(`bad \u escape`)
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || p.i+1 >= len(p.data) || p.data[p.i] != '\\' || p.data[p.i+1] != 'u' {
					return "", fmt.Errorf("op JSON at byte %d: lone surrogate \\u%04x: %w", p.i, r, ErrInvalidUTF8)
				}
				p.i += 2
				lo, ok := p.hex4()
				if !ok {
					return "", p.fail(`bad \u escape`)
				}
				if lo < 0xDC00 || lo > 0xDFFF {
					return "", fmt.Errorf("op JSON at byte %d: lone surrogate \\u%04x: %w", p.i, r, ErrInvalidUTF8)
				}
				r = utf16.DecodeRune(r, lo)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.fail("bad escape")
		}
	}
	return "", p.fail("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, b := range p.data[p.i : p.i+4] {
		switch {
		case b >= '0' && b <= '9':
			r = r<<4 | rune(b-'0')
		case b >= 'a' && b <= 'f':
			r = r<<4 | rune(b-'a'+10)
		case b >= 'A' && b <= 'F':
			r = r<<4 | rune(b-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}
