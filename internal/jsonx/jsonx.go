// Package jsonx holds the hand-written JSON pieces shared by the code that
// skips encoding/json on hot paths: the one string encoder (ot's op
// encoding, the server's bracket listing and history text), and the
// Scanner of the fast message decoders (the Go client's and the server's).
package jsonx

import "unicode/utf8"

const hex = "0123456789abcdef"

// AppendString appends s to b as a JSON string, byte for byte as
// encoding/json writes it with HTML escaping off: '"', '\\' and control
// characters escaped (\n, \r, \t, \b, \f short, the rest as \u00XX),
// U+2028 and U+2029 as \u escapes (older JavaScript parsers reject them in
// string literals), and each byte of invalid UTF-8 as \ufffd.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
