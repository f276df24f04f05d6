package provisions

import (
	"fmt"
	"html"
	"strings"
)

// Export formats.
const (
	FormatText     = "txt"
	FormatMarkdown = "md"
	FormatHTML     = "html"
)

// segment is a provision's own text: from its line's start to the start of
// the next provision's line (its subdivisions are segments of their own).
type segment struct {
	i          int // index in the list; -1 for the text before the first provision
	text       string
	depth      int
	status     Status
	contextual bool // a heading shown only to situate an agreed provision
}

// segments cuts text into the front matter and one segment per provision.
func segments(text string, list []Listed) []segment {
	runes := []rune(text)
	var out []segment
	if len(list) == 0 || list[0].Span[0] > 0 {
		end := len(runes)
		if len(list) > 0 {
			end = list[0].Span[0]
		}
		out = append(out, segment{i: -1, text: string(runes[:end])})
	}
	for i, p := range list {
		end := len(runes)
		if i+1 < len(list) {
			end = list[i+1].Span[0]
		}
		depth := 0
		for q := p.Parent; q >= 0; q = list[q].Parent {
			depth++
		}
		out = append(out, segment{i: i, text: string(runes[p.Span[0]:end]), depth: depth, status: p.Status})
	}
	return out
}

// Export writes text (listed as list) in format (txt, md or html) with each
// provision's status after its first line. With agreedOnly it keeps only
// the agreed provisions (a clean text of what is agreed), with the
// headings that hold them, and no status marks. title heads the md and
// html documents. An unknown format is an error.
func Export(format, title, text string, list []Listed, agreedOnly bool) (string, error) {
	segs := segments(text, list)
	if agreedOnly {
		keep := make([]bool, len(list))
		for i, l := range list {
			if l.Status != Agreed {
				continue
			}
			keep[i] = true
			for q := l.Parent; q >= 0; q = list[q].Parent {
				if list[q].Kind.heading() {
					keep[q] = true
				}
			}
		}
		kept := segs[:0]
		for _, s := range segs {
			if s.i >= 0 && keep[s.i] {
				s.contextual = list[s.i].Status != Agreed
				if s.contextual {
					s.text = firstLine(s.text)
				}
				kept = append(kept, s)
			}
		}
		segs = kept
	}
	switch format {
	case FormatText:
		var b strings.Builder
		for _, s := range segs {
			if agreedOnly || s.i < 0 {
				b.WriteString(s.text)
				continue
			}
			first, rest := cutLine(s.text)
			b.WriteString(first + "  {" + statusWord(s.status) + "}" + rest)
		}
		return b.String(), nil
	case FormatMarkdown:
		var b strings.Builder
		if title != "" {
			b.WriteString("# " + mdEscape(title) + "\n\n")
		}
		for _, s := range segs {
			for k, ln := range strings.Split(strings.TrimRight(s.text, "\n"), "\n") {
				if strings.TrimSpace(ln) == "" {
					continue
				}
				b.WriteString(mdEscape(ln))
				if k == 0 && s.i >= 0 && !agreedOnly {
					b.WriteString(" *(" + statusWord(s.status) + ")*")
				}
				b.WriteString("\n\n")
			}
		}
		return b.String(), nil
	case FormatHTML:
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) + "</title>\n")
		b.WriteString("<style>body{font-family:serif;max-width:46em;margin:2em auto;line-height:1.5}" +
			"p{margin:.3em 0;white-space:pre-wrap}.status{font:small sans-serif;padding:0 .4em;border-radius:.3em;margin-left:.5em}" +
			".s-agreed{background:#e3f4e6}.s-informal{background:#fff5d6}.s-set_aside{background:#eee;color:#555}.s-open .status{background:#fde8e8}" +
			".s-agreed .status{background:#b9e4c2}.s-informal .status{background:#ffe7a0}.s-set_aside .status{background:#ddd}</style></head><body>\n")
		if title != "" {
			b.WriteString("<h1>" + html.EscapeString(title) + "</h1>\n")
		}
		for _, s := range segs {
			text := strings.TrimRight(s.text, "\n")
			if strings.TrimSpace(text) == "" {
				continue
			}
			if s.i < 0 {
				fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(text))
				continue
			}
			st := string(s.status)
			fmt.Fprintf(&b, "<p class=\"s-%s\" style=\"margin-left:%dem\">%s", html.EscapeString(st), 2*s.depth, html.EscapeString(text))
			if !agreedOnly {
				fmt.Fprintf(&b, "<span class=\"status\">%s</span>", html.EscapeString(statusWord(s.status)))
			}
			b.WriteString("</p>\n")
		}
		b.WriteString("</body></html>\n")
		return b.String(), nil
	}
	return "", fmt.Errorf("format must be txt, md or html, not %q", format)
}

func statusWord(s Status) string {
	if s == SetAside {
		return "set aside"
	}
	return string(s)
}

// cutLine splits s after its first line's text: the line (without its
// break) and the rest (from the break on).
func cutLine(s string) (string, string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func firstLine(s string) string {
	first, rest := cutLine(s)
	if rest != "" {
		return first + "\n"
	}
	return first
}

// mdEscape makes a line render literally in CommonMark: every ASCII
// punctuation character is backslash-escaped.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
