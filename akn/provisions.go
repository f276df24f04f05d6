package akn

import (
	"strings"

	"github.com/draftroom/draftroom/provisions"
)

// Structure is a draft's text read as Akoma Ntoso nodes by FromProvisions.
type Structure struct {
	Nodes []*Node
	// EIDs maps each provision id (p<rev>.<k>) to the eId of its element.
	EIDs map[string]string
}

// kindOf maps the provisions package's kinds to elements: items ((i),
// (ii)) are points, numbered preambular paragraphs (PP3) paragraphs.
var kindOf = map[provisions.Kind]Kind{
	provisions.Part: Part, provisions.Chapter: Chapter, provisions.Section: Section, provisions.Article: Article,
	provisions.Paragraph: Paragraph, provisions.Preamble: Paragraph, provisions.Subparagraph: Subparagraph, provisions.Item: Point,
}

// EID is the eId of provision id as an element of kind k: the kind's
// prefix and the id with its dot as an underscore ("art_p12_3"), an NCName
// that stays the same while the provision keeps its id.
func EID(k Kind, id string) string {
	return prefixes[k] + strings.ReplaceAll(id, ".", "_")
}

// FromProvisions returns the structure of text given its provisions as
// listed by the provisions package at the same revision (in text order,
// each with its id, parent and status). Every line of text is in the
// result exactly once, so that the Document's Text is text.
//
// A provision whose line cannot be written back exactly as a numbered
// element (an unnumbered preambular paragraph, a paragraph with nothing
// after its number, a number followed by a tab) becomes a Text node
// holding its line; its subdivisions stay under it. Lines before the first
// provision are a Text node.
func FromProvisions(text string, list []provisions.Listed) Structure {
	out := Structure{EIDs: make(map[string]string, len(list))}
	at := make(map[int]int, len(list)) // line start → provision index
	for i, l := range list {
		at[l.Span[0]] = i
	}
	nodes := make([]*Node, len(list))
	var last *Node // the node the next plain line belongs to
	cp := 0
	for ln := range strings.SplitSeq(text, "\n") {
		start := cp
		cp += len([]rune(ln)) + 1
		i, ok := at[start]
		if !ok {
			if last == nil {
				last = &Node{Kind: Text}
				out.Nodes = append(out.Nodes, last)
			}
			last.Lines = append(last.Lines, ln)
			continue
		}
		l := list[i]
		n := provisionNode(ln, l, start)
		if l.Record != nil {
			n.Status, n.StatusRev = string(l.Status), l.Record.Rev
		}
		n.EID = EID(n.Kind, l.ID)
		out.EIDs[l.ID] = n.EID
		nodes[i] = n
		if p := l.Parent; p >= 0 && nodes[p] != nil {
			nodes[p].Children = append(nodes[p].Children, n)
		} else {
			out.Nodes = append(out.Nodes, n)
		}
		last = n
	}
	return out
}

// provisionNode is the node of provision l, whose line ln starts at code
// point start: Num is the line up to the end of the number as written and
// the punctuation after it ("Article 17 bis", "  2.", "(a)"), the line's
// indentation included.
func provisionNode(ln string, l provisions.Listed, start int) *Node {
	k, ok := kindOf[l.Kind]
	r := []rune(ln)
	end := l.NumSpan[1] - start
	if !ok || l.Num == "" || end <= 0 || end > len(r) {
		return &Node{Kind: Text, Lines: []string{ln}}
	}
	for end < len(r) && r[end] != ' ' && r[end] != '\t' {
		end++
	}
	n := &Node{Kind: k, Num: string(r[:end]), Head: ln}
	if n.Head != n.Num && (!strings.HasPrefix(n.Head, n.Num+" ") || n.rest() == "") || k.numbered() && n.rest() == "" {
		return &Node{Kind: Text, Lines: []string{ln}}
	}
	return n
}

// HeadingLevels gives the Word heading level of each line of the text of
// nodes: a part, chapter, section or article is a heading one level below
// the headings that hold it (a chapter in a part is Heading 2, an article
// in that chapter Heading 3, an article alone Heading 1); every other line
// is body text (0).
func HeadingLevels(nodes []*Node) []int {
	var levels []int
	var walk func([]*Node, int)
	walk = func(nodes []*Node, depth int) {
		for _, n := range nodes {
			d := depth
			switch n.Kind {
			case Part, Chapter, Section, Article:
				d++
				levels = append(levels, min(d, 9))
			case Text:
			default:
				levels = append(levels, 0)
			}
			for range n.Lines {
				levels = append(levels, 0)
			}
			walk(n.Children, d)
		}
	}
	walk(nodes, 0)
	return levels
}
