package history

import (
	"github.com/draftroom/draftroom/ot"
)

// gapText is a gap buffer of code points: the test and benchmark stand-in
// for a draft's text, fast for the local edits of a typing trace without
// depending on ot.Text.
type gapText struct {
	buf      []rune
	gapStart int
	gapEnd   int
}

func newGapText(s string) *gapText {
	r := []rune(s)
	buf := make([]rune, len(r)+1024)
	copy(buf, r)
	return &gapText{buf: buf, gapStart: len(r), gapEnd: len(buf)}
}

func (g *gapText) Len() int { return len(g.buf) - (g.gapEnd - g.gapStart) }

func (g *gapText) moveGap(pos int) {
	switch {
	case pos < g.gapStart:
		n := g.gapStart - pos
		copy(g.buf[g.gapEnd-n:g.gapEnd], g.buf[pos:g.gapStart])
		g.gapStart -= n
		g.gapEnd -= n
	case pos > g.gapStart:
		n := pos - g.gapStart
		copy(g.buf[g.gapStart:g.gapStart+n], g.buf[g.gapEnd:g.gapEnd+n])
		g.gapStart += n
		g.gapEnd += n
	}
}

func (g *gapText) insert(pos int, s []rune) {
	g.moveGap(pos)
	if g.gapEnd-g.gapStart < len(s) {
		grow := len(s) + len(g.buf)/2 + 1024
		nb := make([]rune, len(g.buf)+grow)
		copy(nb, g.buf[:g.gapStart])
		tail := len(g.buf) - g.gapEnd
		copy(nb[len(nb)-tail:], g.buf[g.gapEnd:])
		g.gapEnd = len(nb) - tail
		g.buf = nb
	}
	copy(g.buf[g.gapStart:], s)
	g.gapStart += len(s)
}

func (g *gapText) delete(pos, n int) {
	g.moveGap(pos)
	g.gapEnd += n
}

// apply applies a well-formed op that fits the text.
func (g *gapText) apply(op ot.Op) {
	pos := 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			pos += c.Skip
		case c.Insert != "":
			r := []rune(c.Insert)
			g.insert(pos, r)
			pos += len(r)
		case c.Delete > 0:
			g.delete(pos, c.Delete)
		}
	}
}

func (g *gapText) String() string {
	return string(g.buf[:g.gapStart]) + string(g.buf[g.gapEnd:])
}
