// Package xmltext writes text into XML documents: the one escaper of the
// docx and akn writers.
package xmltext

import (
	"strings"
	"unicode/utf8"
)

// Escape writes s to b as XML character data, or as an attribute value
// when attr is set (quotes, newlines and tabs as character references, so
// that a parser's attribute normalisation does not turn them into spaces).
// Code points XML 1.0 cannot carry (controls other than tab, newline and
// carriage return, U+FFFE, U+FFFF, bytes that are not UTF-8) are written
// as U+FFFD; a carriage return is written as a reference so that it
// survives end-of-line handling.
func Escape(b *strings.Builder, s string, attr bool) {
	last := 0
	for i, c := range s {
		var rep string
		switch {
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '&':
			rep = "&amp;"
		case c == '"' && attr:
			rep = "&quot;"
		case c == '\n' && attr:
			rep = "&#10;"
		case c == '\t' && attr:
			rep = "&#9;"
		case c == '\r':
			rep = "&#13;"
		case c == '\t' || c == '\n':
			continue
		case c < 0x20 || c == 0xFFFE || c == 0xFFFF || (c == utf8.RuneError && badRune(s[i:])):
			rep = "\uFFFD"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		_, n := utf8.DecodeRuneInString(s[i:])
		last = i + n
	}
	b.WriteString(s[last:])
}

// badRune reports whether s starts with a byte that is not UTF-8 (as
// opposed to an encoded U+FFFD, which is kept).
func badRune(s string) bool {
	_, n := utf8.DecodeRuneInString(s)
	return n == 1
}
