package brackets

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// Wrapped is the outcome of one span of WrapMany: either Err, or the new
// group's place in the op and the text of its proposed alternative.
type Wrapped struct {
	// Open is the index of the new group's '[' in the op's inserted text
	// (all its inserts concatenated, as the group's id counts it).
	Open int
	// Alternative is the index of the proposed alternative in the new
	// group (1 for "[span/text]", 0 for "[span]" and "[text]").
	Alternative int
	// Text is the proposed alternative as it reads in the group: text
	// escaped, or for an empty text the span with its '/' escaped.
	Text string
	Err  error
}

// WrapMany is Wrap for many spans of the same text at once: one op that
// brackets every span it can, checked with a single parse of the result
// instead of one per span, so that a marked-up document of hundreds of
// changes costs about one Wrap. spans must be in text order; a span that
// overlaps or touches the one before it (they would read as one group),
// or that Wrap would refuse, gets its error in the result and is left out
// of the op. The op and the new text hold the other spans.
func (r Result) WrapMany(spans [][2]int, texts []string) (ot.Op, string, []Wrapped) {
	out := make([]Wrapped, len(spans))
	if len(texts) != len(spans) {
		for i := range out {
			out[i].Err = fmt.Errorf("%d spans, %d texts: %w", len(spans), len(texts), ErrText)
		}
		return nil, r.Text, out
	}
	lastEnd := -1
	for i, sp := range spans {
		start, end, text := sp[0], sp[1], texts[i]
		if out[i].Err = r.spanInText(start, end); out[i].Err != nil {
			continue
		}
		switch {
		case start <= lastEnd:
			out[i].Err = fmt.Errorf("span [%d,%d) touches the span before it (they would read as one group): %w", start, end, ErrSpanJoins)
		default:
			if out[i].Err = proposalText(start, end, text); out[i].Err == nil {
				out[i].Err = r.crossing(start, end)
			}
		}
		if out[i].Err == nil {
			lastEnd = end
		}
	}
	// Build, parse once, and drop the spans the parse shows merged with a
	// neighbour; rebuild without them (rare: a span touching a group).
	for {
		op, text, placed := r.buildMany(spans, texts, out)
		after := Parse(text)
		if merged(after, placed, texts, out) {
			continue
		}
		if len(after.Groups) != len(r.Groups)+len(placed) {
			// A new bracket changed how the old ones pair: refuse all.
			for _, p := range placed {
				out[p.i].Err = fmt.Errorf("span [%d,%d): the brackets would pair differently: %w", p.start, p.end, ErrSpanJoins)
			}
			return nil, r.Text, out
		}
		return op, text, out
	}
}

// merged checks each placed span against after, the parse of the text
// buildMany wrote: a span whose group is not exactly one new bracket of
// the expected alternatives merged with a neighbour and gets ErrSpanJoins.
// It reports whether any did; the others get their Alternative.
func merged(after Result, placed []placedSpan, texts []string, out []Wrapped) bool {
	byStart := make(map[int]*Group, len(after.Groups))
	for k := range after.Groups {
		byStart[after.Groups[k].Start] = &after.Groups[k]
	}
	bad := false
	for _, p := range placed {
		w := &out[p.i]
		want := 2
		if p.start == p.end || texts[p.i] == "" {
			want = 1
		}
		g := byStart[p.at]
		if g == nil || len(g.Brackets) != 1 || len(g.Alternatives) != want || (want == 2 && g.Alternatives[1].Text != w.Text) {
			w.Err = fmt.Errorf("span [%d,%d) would merge with an adjacent group: %w", p.start, p.end, ErrSpanJoins)
			bad = true
			continue
		}
		w.Alternative = want - 1
	}
	return bad
}

// crossing returns Wrap's refusals of the span [start, end) other than
// adjacency and escapes: cutting through a bracket, holding an unbalanced
// bracket, nesting too deep.
func (r Result) crossing(start, end int) error {
	depth, held := 0, -1
	for i := range r.Groups {
		g := &r.Groups[i]
		if g.End <= start || g.Start >= end {
			continue
		}
		if start <= g.Start && g.End <= end {
			held = max(held, g.Depth)
			continue
		}
		inside := false
		for _, a := range g.Alternatives {
			if a.Start <= start && end <= a.End {
				inside = true
				break
			}
		}
		if !inside {
			return fmt.Errorf("span [%d,%d) and group [%d,%d): %w", start, end, g.Start, g.End, ErrSpanCrosses)
		}
		depth = max(depth, g.Depth+1)
	}
	for _, d := range r.Diagnostics {
		if start <= d.Pos && d.Pos < end {
			if d.Code == DiagTooDeep {
				return fmt.Errorf("span [%d,%d) holds brackets nested too deep at %d: %w", start, end, d.Pos, ErrSpanTooDeep)
			}
			return fmt.Errorf("span [%d,%d) holds an unbalanced bracket at %d: %w", start, end, d.Pos, ErrSpanUnbalanced)
		}
	}
	if depth >= MaxDepth || held+1 >= MaxDepth {
		return fmt.Errorf("span [%d,%d): new group at depth %d: %w", start, end, depth, ErrSpanTooDeep)
	}
	return nil
}

// placedSpan is a span buildMany put in the op: at is its '[' in the new
// text.
type placedSpan struct{ i, start, end, at int }

// buildMany writes the op of every span of out without an error, in one
// pass over the text, setting each one's Open.
func (r Result) buildMany(spans [][2]int, texts []string, out []Wrapped) (ot.Op, string, []placedSpan) {
	s := r.Text
	b := newBuilder(s)
	var placed []placedSpan
	cp, off := 0, 0 // a cursor over s, moving forward only
	inserted := 0   // code points inserted so far
	for i, sp := range spans {
		if out[i].Err != nil {
			continue
		}
		start, end := sp[0], sp[1]
		startByte := byteOffset(s, cp, off, start)
		endByte := byteOffset(s, start, startByte, end)
		if out[i].Err = splitsEscape(s, start, end, startByte, endByte); out[i].Err != nil {
			continue
		}
		cp, off = end, endByte
		out[i].Open = inserted
		placed = append(placed, placedSpan{i: i, start: start, end: end, at: start + inserted})
		b.skipTo(start, startByte)
		b.insert("[")
		inserted++
		var raw strings.Builder // the span as it reads in the group
		from := startByte
		eachTopSlash(s, startByte, endByte, start, func(c, j int) {
			b.skipTo(c, j)
			b.insert(`\`)
			inserted++
			raw.WriteString(s[from:j])
			raw.WriteByte('\\')
			from = j
		})
		b.skipTo(end, endByte)
		raw.WriteString(s[from:endByte])
		alt := Escape(texts[i])
		out[i].Text = alt
		if texts[i] == "" {
			out[i].Text = raw.String()
		}
		closing := wrapClosing(start, end, texts[i], alt)
		b.insert(closing)
		inserted += utf8.RuneCountInString(closing)
	}
	op, text := b.done()
	return op, text, placed
}
