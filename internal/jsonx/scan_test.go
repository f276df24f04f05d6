package jsonx

import "testing"

func TestScanner(t *testing.T) {
	for _, c := range []struct {
		in   string
		read func(p *Scanner) (string, bool)
		want string
		ok   bool
		rest int // bytes left unread after a success
	}{
		{`"abc",`, str, "abc", true, 1},
		{`"田中 純"`, str, "田中 純", true, 0},
		{`"a\"b"`, str, "", false, 0},   // an escape: left to encoding/json
		{"\"a\tb\"", str, "", false, 0}, // a control character
		{"\"\xff\"", str, "", false, 0}, // invalid UTF-8
		{`"abc`, str, "", false, 0},     // unterminated
		{`abc"`, str, "", false, 0},
		{`0,`, digits, "0", true, 1},
		{`123}`, digits, "123", true, 1},
		{`1234567890123456789`, digits, "1234567890123456789", true, 0},
		{`12345678901234567890`, digits, "", false, 0}, // 20 digits
		{`01`, digits, "", false, 0},
		{`-1`, digits, "", false, 0},
		{`1.5`, digits, "1", true, 2}, // the caller's next check refuses ".5"
		{`[1,"]",[2,{"d":"x\""}]],`, array, `[1,"]",[2,{"d":"x\""}]]`, true, 1},
		{`[1,2`, array, "", false, 0},
		{`{"a":1}`, array, "", false, 0},
	} {
		p := &Scanner{B: []byte(c.in)}
		got, ok := c.read(p)
		if ok != c.ok || got != c.want || (ok && len(p.B)-p.I != c.rest) {
			t.Errorf("%q: got %q, %v with %d left; want %q, %v with %d left", c.in, got, ok, len(p.B)-p.I, c.want, c.ok, c.rest)
		}
	}
}

func str(p *Scanner) (string, bool) {
	s, ok := p.String()
	return string(s), ok
}

func digits(p *Scanner) (string, bool) {
	start := p.I
	_, ok := p.Digits(19)
	return string(p.B[start:p.I]), ok
}

func array(p *Scanner) (string, bool) {
	s, ok := p.Array()
	return string(s), ok
}
