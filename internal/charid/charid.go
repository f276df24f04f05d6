// Package charid is the wire form of a character's identity, shared by
// bracket groups (b<rev>.<k>, package brackets) and provisions
// (p<rev>.<k>, package provisions): a one-letter prefix, the revision
// whose op inserted the character and its code-point index within that
// op's inserted text, both in canonical decimal, so that an id has one
// spelling and comparing ids as strings is comparing identities.
package charid

import (
	"strconv"
	"strings"
)

// ID is the identity of one character of a draft: the revision whose op
// inserted it and its code-point index within that op's inserted text (all
// the op's inserts concatenated in order). Rev 0 is the draft's initial
// text, where K is the character's position. A character keeps its
// identity while it exists, so every node derives the same ids from the
// same op log.
type ID struct {
	Rev int
	K   int
}

// maxDigits bounds each number, so that it fits an int on every platform
// the server builds for.
const maxDigits = 18

// Append appends prefix, rev, '.' and k to b.
func Append(b []byte, prefix byte, rev, k int) []byte {
	b = append(b, prefix)
	b = strconv.AppendInt(b, int64(rev), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(k), 10)
}

// Parse reads <prefix><rev>.<k>; ok is false unless both numbers are in
// canonical decimal (no sign, no leading zeros, at most maxDigits digits).
func Parse(s string, prefix byte) (rev, k int, ok bool) {
	if s == "" || s[0] != prefix {
		return 0, 0, false
	}
	revS, kS, found := strings.Cut(s[1:], ".")
	if !found {
		return 0, 0, false
	}
	rev, ok1 := count(revS)
	k, ok2 := count(kS)
	return rev, k, ok1 && ok2
}

// count reads a canonical decimal count.
func count(s string) (int, bool) {
	if s == "" || len(s) > maxDigits || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
