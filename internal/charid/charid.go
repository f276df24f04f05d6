// Package charid is the wire form of a character's identity, shared by
// bracket groups (b<rev>.<k>, package brackets) and provisions
// (p<rev>.<k>, package provisions): a one-letter prefix, the revision
// whose op inserted the character and its code-point index within that
// op's inserted text, both in canonical decimal, so that an id has one
// spelling and comparing ids as strings is comparing identities.
package charid

import (
	"fmt"
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

// Marks is the persisted form of the characters a tracker follows (the
// '[' of brackets, the first characters of provisions' markers): their
// positions as gaps (the first one absolute) and their ids as two parallel
// arrays, which keeps a 4,000-character state near 30 kB. Rev and Len are
// the revision and length in code points of the text they are in.
type Marks struct {
	V    int   `json:"v"`
	Rev  int   `json:"rev"`
	Len  int   `json:"len"`
	Gaps []int `json:"gaps"`
	Revs []int `json:"revs"`
	Ks   []int `json:"ks"`
}

// NewMarks returns the Marks of characters at ascending positions pos with
// identities id(i), in a text of length code points at revision rev.
func NewMarks(rev, length int, pos []int, id func(i int) ID) Marks {
	m := Marks{V: 1, Rev: rev, Len: length, Gaps: make([]int, len(pos)), Revs: make([]int, len(pos)), Ks: make([]int, len(pos))}
	prev := 0
	for i, p := range pos {
		m.Gaps[i], prev = p-prev, p
		c := id(i)
		m.Revs[i], m.Ks[i] = c.Rev, c.K
	}
	return m
}

// Check reports what makes m unfit to restore (a version other than 1,
// arrays of different lengths, positions not ascending inside the text,
// an id from after Rev), or nil.
func (m Marks) Check() error {
	if m.V != 1 || m.Rev < 0 || m.Len < 0 || len(m.Revs) != len(m.Gaps) || len(m.Ks) != len(m.Gaps) {
		return fmt.Errorf("version %d, rev %d, len %d, %d/%d/%d entries", m.V, m.Rev, m.Len, len(m.Gaps), len(m.Revs), len(m.Ks))
	}
	p := 0
	for i, g := range m.Gaps {
		p += g
		if g < 0 || (i > 0 && g == 0) || g > m.Len || p >= m.Len {
			return fmt.Errorf("gap %d at entry %d (position %d of %d)", g, i, p, m.Len)
		}
		if m.Revs[i] < 0 || m.Revs[i] > m.Rev || m.Ks[i] < 0 {
			return fmt.Errorf("id %d.%d at entry %d of revision %d", m.Revs[i], m.Ks[i], i, m.Rev)
		}
	}
	return nil
}

// Each calls f with the position and id of each character of m, in order;
// m must pass Check.
func (m Marks) Each(f func(pos int, id ID)) {
	p := 0
	for i, g := range m.Gaps {
		p += g
		f(p, ID{Rev: m.Revs[i], K: m.Ks[i]})
	}
}
