package history

import (
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
)

// ExportGroup is an open bracket group as an export shows it. The server
// fills it from brackets.Parse (the group's span and alternatives, the
// reading form of their text) and from the proposal records or the
// authorship (who proposed each alternative), so that this package does
// not depend on the bracket parser's types.
type ExportGroup struct {
	ID string // stable group id, b<rev>.<k>; may be empty
	// Start and End are the group's span in code points, from its first
	// '[' to its last ']' inclusive. Groups may nest; groups that cross
	// each other or the end of the text are clipped or left unmarked
	// rather than producing broken markup.
	Start, End   int
	Alternatives []ExportAlternative
}

// ExportAlternative is one alternative of a group.
type ExportAlternative struct {
	// Text is the alternative as a reader sees it (brackets.Unescape of its
	// outline: each group nested in it reads "[…]" and has a footnote of
	// its own), so that footnotes stay linear in the text however deep
	// brackets nest.
	Text string
	By   dr.Author // who proposed it; zero if unknown
	Rev  int       // the revision that proposed it; 0 if unknown
}

// ExportText returns the plain-text export: the draft exactly as it is,
// brackets and escapes included, so that it can be imported again.
func ExportText(text string) string { return text }

// Unclean returns the code-point positions of the unescaped '[' and ']' in
// text, in order: what stands between a draft and a clean text. A '\'
// escapes the character after it when that is '[', ']', '/' or '\' (the
// bracket grammar, docs/BRACKETS.md).
func Unclean(text string) []int {
	var out []int
	pos := 0
	escaped := false
	for _, r := range text {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '[' || r == ']':
			out = append(out, pos)
		}
		pos++
	}
	return out
}

// CheckClean returns nil if text has no unescaped square bracket left, and
// otherwise an error wrapping ErrNotClean that says how many and where the
// first is.
func CheckClean(text string) error {
	pos := Unclean(text)
	if len(pos) == 0 {
		return nil
	}
	return fmt.Errorf("%d brackets left, the first at code point %d: %w", len(pos), pos[0], ErrNotClean)
}

// unescaper computes the reading form of a text fed in pieces: a piece may
// end between a '\' and the character it escapes (parsed groups never
// split an escape, but spans from elsewhere might).
type unescaper struct {
	held bool // the last piece ended with an unpaired '\'
}

func (u *unescaper) feed(s string) string {
	if !u.held && !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 1)
	i := 0
	if u.held {
		u.held = false
		if s == "" {
			u.held = true
			return ""
		}
		if strings.IndexByte(`[]/\`, s[0]) >= 0 {
			b.WriteByte(s[0]) // the escaped character, taken literally
			i = 1
		} else {
			b.WriteByte('\\')
		}
	}
	for ; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 == len(s) {
				u.held = true
				break
			}
			if strings.IndexByte(`[]/\`, s[i+1]) >= 0 {
				i++
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// flush returns what is held back at the end of the text.
func (u *unescaper) flush() string {
	if u.held {
		u.held = false
		return `\`
	}
	return ""
}

// markedGroup is a group accepted for marking, with its footnote number.
type markedGroup struct {
	ExportGroup
	note int // 1-based
}

// walkGroups calls text with the pieces of the draft between group
// boundaries, open when a group starts and close when it ends, in document
// order, with groups properly nested. It returns the groups in footnote
// order (order of Start).
func walkGroups(draft string, groups []ExportGroup, text func(string), open, close func(markedGroup)) []markedGroup {
	n := utf8.RuneCountInString(draft)
	sorted := make([]ExportGroup, 0, len(groups))
	for _, g := range groups {
		g.Start, g.End = max(g.Start, 0), min(g.End, n)
		if g.Start < g.End {
			sorted = append(sorted, g)
		}
	}
	slices.SortStableFunc(sorted, func(a, b ExportGroup) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End // outer first
	})
	cp, off := 0, 0 // how far draft has been written, in code points and bytes
	emit := func(to int) {
		start := off
		for ; cp < to; cp++ {
			_, size := utf8.DecodeRuneInString(draft[off:])
			off += size
		}
		if off > start {
			text(draft[start:off])
		}
	}
	var stack, marked []markedGroup
	for _, g := range sorted {
		for len(stack) > 0 && stack[len(stack)-1].End <= g.Start {
			top := stack[len(stack)-1]
			emit(top.End)
			close(top)
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && g.End > stack[len(stack)-1].End {
			continue // crosses the open group: not properly nested
		}
		emit(g.Start)
		m := markedGroup{ExportGroup: g, note: len(marked) + 1}
		marked = append(marked, m)
		open(m)
		stack = append(stack, m)
	}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		emit(top.End)
		close(top)
		stack = stack[:len(stack)-1]
	}
	emit(n)
	return marked
}

// ExportHTML returns a standalone HTML document of the draft: its text (line
// breaks kept), every group highlighted in a <mark> with a footnote
// reference, and after the text one footnote per group listing its
// alternatives and who proposed each. Everything that comes from the draft
// or the groups is HTML-escaped; escapes of the bracket grammar are shown
// in their reading form. Each paragraph takes its direction from its own
// text (an Arabic paragraph reads right to left): the text is dir="auto"
// and `unicode-bidi: plaintext` applies that per line of the pre-wrapped
// text, which keeps a group that spans paragraphs in one <mark>.
func ExportHTML(title, draft string, groups []ExportGroup) string {
	return ExportHTMLWithHead(title, "", draft, groups)
}

// ExportHTMLWithHead is ExportHTML with a running head: head (for example
// "Title — Revision 12 — 4 December 2026") is shown under the title and,
// when printed, at the top of every page, with the page numbers at the
// foot. The print stylesheet shows brackets by a line under them (dashed
// when nested) rather than by colour, legible in black and white.
func ExportHTMLWithHead(title, head, draft string, groups []ExportGroup) string {
	var b strings.Builder
	b.Grow(len(draft) + len(draft)/8 + 2048)
	b.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</title>\n<style>\n.draft { white-space: pre-wrap; unicode-bidi: plaintext; }\nmark.bracket { background: #fff3b0; }\n.head { color: #555; }\n")
	b.WriteString("@media print {\n  @page { size: A4; margin: 22mm 18mm 20mm;")
	running := head
	if running == "" {
		running = title
	}
	b.WriteString(" @top-center { content: \"" + cssString(running) + "\"; font: 9pt serif; }")
	b.WriteString(" @bottom-center { content: \"Page \" counter(page) \" of \" counter(pages); font: 9pt serif; } }\n")
	b.WriteString("  body { font: 11.5pt/1.5 serif; color: #000; }\n  mark.bracket { background: none; color: #000; text-decoration: underline 1px solid #000; text-underline-offset: 3px; }\n")
	b.WriteString("  mark.bracket mark.bracket { text-decoration-style: dashed; text-underline-offset: 5px; }\n  a { color: #000; }\n}\n")
	b.WriteString("</style>\n</head>\n<body>\n<h1>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</h1>\n")
	if head != "" {
		b.WriteString("<p class=\"head\">" + html.EscapeString(head) + "</p>\n")
	}
	b.WriteString("<div class=\"draft\" dir=\"auto\">")
	var u unescaper
	marked := walkGroups(draft, groups,
		func(s string) { b.WriteString(html.EscapeString(u.feed(s))) },
		func(g markedGroup) {
			fmt.Fprintf(&b, `<mark class="bracket"%s>`, htmlIDAttr(g))
		},
		func(g markedGroup) {
			n := strconv.Itoa(g.note)
			b.WriteString(`</mark><sup class="note"><a href="#note-` + n + `" id="ref-` + n + `">` + n + `</a></sup>`)
		})
	b.WriteString(html.EscapeString(u.flush()))
	b.WriteString("</div>\n")
	if len(marked) > 0 {
		b.WriteString("<ol class=\"notes\">\n")
		for _, g := range marked {
			n := strconv.Itoa(g.note)
			b.WriteString(`<li id="note-` + n + `">`)
			if g.ID != "" {
				b.WriteString("<span class=\"group\">" + html.EscapeString(g.ID) + "</span>: ")
			}
			if len(g.Alternatives) == 1 {
				b.WriteString("optional text ")
			}
			for i, alt := range g.Alternatives {
				if i > 0 {
					b.WriteString("; ")
				}
				b.WriteString("<q>" + html.EscapeString(alt.Text) + "</q>")
				if who := proposer(alt); who != "" {
					b.WriteString(" (" + html.EscapeString(who) + ")")
				}
			}
			b.WriteString(` <a href="#ref-` + n + `">↩</a></li>` + "\n")
		}
		b.WriteString("</ol>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

func htmlIDAttr(g markedGroup) string {
	if g.ID == "" {
		return ""
	}
	return ` id="group-` + html.EscapeString(g.ID) + `"`
}

// proposer names who proposed an alternative: "CAN, Ana (rev 12)".
func proposer(alt ExportAlternative) string {
	var parts []string
	if alt.By.Delegation != "" {
		parts = append(parts, alt.By.Delegation)
	}
	if alt.By.Name != "" {
		parts = append(parts, alt.By.Name)
	}
	who := strings.Join(parts, ", ")
	if alt.Rev > 0 {
		if who == "" {
			return fmt.Sprintf("rev %d", alt.Rev)
		}
		who += fmt.Sprintf(" (rev %d)", alt.Rev)
	}
	return who
}

// ExportMarkdown returns the draft as CommonMark: the text escaped so that
// it renders literally (no markup, no raw HTML, brackets shown as
// brackets), line breaks kept as hard breaks, a footnote reference after
// every group, and the footnotes at the end listing each group's
// alternatives and who proposed them.
func ExportMarkdown(title, draft string, groups []ExportGroup) string {
	var b strings.Builder
	b.Grow(len(draft) + len(draft)/8 + 256)
	if title != "" {
		b.WriteString("# ")
		b.WriteString(escapeMarkdownInline(strings.Join(strings.Fields(title), " ")))
		b.WriteString("\n\n")
	}
	md := mdWriter{b: &b, lineStart: true}
	var u unescaper
	marked := walkGroups(draft, groups,
		func(s string) { md.write(u.feed(s)) },
		func(markedGroup) {},
		func(g markedGroup) {
			md.raw("[^" + strconv.Itoa(g.note) + "]")
		})
	md.write(u.flush())
	b.WriteString(strings.Repeat("\n", max(md.breaks, 1)))
	if len(marked) > 0 {
		b.WriteString("\n")
		for _, g := range marked {
			b.WriteString("[^" + strconv.Itoa(g.note) + "]: ")
			if g.ID != "" {
				b.WriteString("`" + strings.ReplaceAll(g.ID, "`", "") + "`: ")
			}
			if len(g.Alternatives) == 1 {
				b.WriteString("optional text ")
			}
			for i, alt := range g.Alternatives {
				if i > 0 {
					b.WriteString("; ")
				}
				b.WriteString("“" + escapeMarkdownInline(strings.ReplaceAll(alt.Text, "\n", " ")) + "”")
				if who := proposer(alt); who != "" {
					b.WriteString(" (" + escapeMarkdownInline(who) + ")")
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// mdInlineSpecial are the characters escaped anywhere in Markdown output:
// those that start emphasis, code, links and images, raw HTML, entities,
// tables and strikethrough ('!' because a footnote reference follows a
// group's closing bracket: "![^1]" would start an image).
const mdInlineSpecial = "\\`*_[]<>&|~!"

func escapeMarkdownInline(s string) string {
	var b strings.Builder
	var links linkBreaker
	for _, r := range s {
		if links.escape(r) || r < utf8.RuneSelf && strings.IndexByte(mdInlineSpecial, byte(r)) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// linkBreaker finds the characters that would let plain text become a
// live link in common renderers even with mdInlineSpecial escaped
// ('[', ']', '<' and '>' already stop link and autolink syntax): the
// extended autolinks of GFM and linkify ("https://evil.example",
// "www.evil.example", "a@evil.example") and bare scheme URLs
// ("javascript:alert(1)", "data:..."). Escaping one character of each
// ("https\:\/\/", "www\.", "\@") leaves the text as it reads and makes
// it inert: renderers match those patterns on the source or on unescaped
// text runs, and a backslash escape interrupts both. Feed it every rune of
// a run of text, in order.
type linkBreaker struct {
	prev rune
	word [12]byte // the ASCII letters just before, lowercased
	n    int      // length of word; -1 when the run is longer than word
}

// wrote tells l that s was written as Markdown syntax (not fed).
func (l *linkBreaker) wrote(s string) {
	r, _ := utf8.DecodeLastRuneInString(s)
	*l = linkBreaker{prev: r}
}

// mdSchemes are URL schemes whose colon is escaped after them.
var mdSchemes = []string{"http", "https", "ftp", "mailto", "javascript", "vbscript", "data", "file"}

// escape reports whether r must be escaped, given the runes fed before.
func (l *linkBreaker) escape(r rune) bool {
	esc := false
	switch r {
	case ':':
		// A scheme's colon; or, after a footnote reference "[^1]" (the
		// only unescaped ']'), the colon of a footnote definition.
		esc = l.n > 0 && slices.Contains(mdSchemes, string(l.word[:l.n])) || l.prev == ']'
	case '(':
		esc = l.prev == ']' // "[^1](url)" would be a link
	case '/':
		esc = l.prev == ':' || l.prev == '/'
	case '.':
		esc = l.n == 3 && string(l.word[:3]) == "www"
	case '@':
		esc = true
	}
	switch {
	case 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		if l.n >= 0 && l.n < len(l.word) {
			l.word[l.n] = byte(r) | 0x20
			l.n++
		} else {
			l.n = -1
		}
	default:
		l.n = 0
	}
	l.prev = r
	return esc
}

// mdWriter escapes draft text into Markdown, knowing where lines start
// (where '#', '-', '+', '>', '=', "1." and indentation start blocks).
type mdWriter struct {
	b         *strings.Builder
	lineStart bool // at the start of a line
	breaks    int  // line breaks read and not yet written
	links     linkBreaker
}

// raw writes Markdown syntax (a footnote reference) as is.
func (w *mdWriter) raw(s string) {
	w.flushBreaks()
	w.b.WriteString(s)
	w.lineStart = false
	w.links.wrote(s)
}

// flushBreaks writes pending line breaks: one alone is a hard break ("\"
// at the end of the line) so that the draft's lines stay lines; two or more
// are a paragraph break and stay as they are.
func (w *mdWriter) flushBreaks() {
	switch {
	case w.breaks == 1:
		w.b.WriteString("\\\n")
	case w.breaks > 1:
		w.b.WriteString(strings.Repeat("\n", w.breaks))
	}
	w.breaks = 0
}

func (w *mdWriter) write(s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\n' {
			w.breaks++
			w.lineStart = true
			i += size
			continue
		}
		w.flushBreaks()
		if w.lineStart {
			w.lineStart = false
			w.links = linkBreaker{}
			i += w.lineOpening(s[i:])
			continue
		}
		if w.links.escape(r) || r < utf8.RuneSelf && strings.IndexByte(mdInlineSpecial, byte(r)) >= 0 {
			w.b.WriteByte('\\')
		}
		w.b.WriteString(s[i : i+size])
		i += size
	}
}

// lineOpening writes the start of a line so that it cannot open a block
// (heading, list, quote, code block, setext underline, thematic break) and
// returns how many bytes of s it consumed.
func (w *mdWriter) lineOpening(s string) int {
	// Leading blanks: four would make an indented code block, where
	// escapes show literally; the first is written as an entity.
	n := 0
	for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		n++
	}
	if n > 0 {
		w.b.WriteString("&#32;")
		w.b.WriteString(s[1:n])
	}
	rest := s[n:]
	switch {
	case rest == "":
	case strings.IndexByte("#>-+=*_", rest[0]) >= 0:
		w.b.WriteByte('\\')
		w.b.WriteByte(rest[0])
		return n + 1
	case rest[0] >= '0' && rest[0] <= '9':
		// "12." or "12)" starts an ordered list: escape the delimiter.
		d := 0
		for d < len(rest) && rest[d] >= '0' && rest[d] <= '9' {
			d++
		}
		if d < len(rest) && (rest[d] == '.' || rest[d] == ')') {
			w.b.WriteString(rest[:d])
			w.b.WriteByte('\\')
			w.b.WriteByte(rest[d])
			return n + d + 1
		}
	}
	return n
}

// cssString escapes s for a double-quoted CSS string inside an HTML
// <style> element: backslash, quote, line breaks and '<' as CSS escapes.
func cssString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<' || r == '>' || r == '&':
			fmt.Fprintf(&b, "\\%x ", r)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
