// Package akn writes and reads Akoma Ntoso 3.0 (OASIS LegalDocML) XML for
// draftroom: a draft's structure (chapters, articles, paragraphs) with
// num, heading and stable eIds, its text line by line in <p> elements with
// bracket groups marked up as <inline> elements around the literal
// brackets (so that no character is lost), FRBR identification, and the
// bracket decisions and provision status changes as workflow steps, each
// provision's status as attributes; FromProvisions reads the structure
// from the provisions package. docs/DOCUMENTS.md documents the
// mapping.
//
// The text of a Document is its lines in document order: a node's heading
// line (Head), then its Lines, then its children. Export and Import keep
// that text exactly: Import(Export(d)).Text() == d.Text().
//
// The package is pure: no I/O beyond its arguments, standard library and
// the bracket and provisions packages only.
package akn

import (
	"errors"
	"strings"
	"time"
)

// Sentinel errors of Import, wrapped with the reason.
var (
	// ErrBadXML: not well-formed XML, or a DTD / entity declaration
	// (refused outright).
	ErrBadXML = errors.New("akn: malformed XML")
	// ErrNotAKN: well-formed, but not an Akoma Ntoso 3.0 document with a
	// body draftroom can read.
	ErrNotAKN = errors.New("akn: not an Akoma Ntoso document")
	// ErrTooLarge: more text than the limit given to Import.
	ErrTooLarge = errors.New("akn: document too large")
)

// Namespace is the Akoma Ntoso 3.0 namespace.
const Namespace = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"

// DraftroomNamespace holds the elements draftroom adds where the schema
// allows other namespaces (the decision records in workflow steps).
const DraftroomNamespace = "urn:draftroom:akn:1"

// Kind is the kind of a structural node.
type Kind string

// Kinds, named as their Akoma Ntoso elements.
const (
	Part         Kind = "part"
	Chapter      Kind = "chapter"
	Section      Kind = "section"
	Article      Kind = "article"
	Paragraph    Kind = "paragraph"
	Subparagraph Kind = "subparagraph"
	// Point is a subdivision of a subparagraph ((i), (ii)).
	Point Kind = "point"
	// Text is unnumbered text outside any article or chapter (a title, a
	// preamble): an <hcontainer name="text">, without a heading line.
	Text Kind = "hcontainer"
)

// Node is a provision of a draft.
type Node struct {
	Kind Kind
	// Num is the number as written ("Article 3", "Chapter II", "1.").
	Num string
	// Head is the node's first line as written: Num alone, or Num, one
	// space and the rest (an article's or chapter's heading, a
	// paragraph's first words). Empty for Text.
	Head string
	// EID is the node's stable id. Export derives one from Num and the
	// parent's when it is empty (art_3, art_3__para_1).
	EID string
	// Lines are the lines of text directly under the node, after Head and
	// before its children.
	Lines    []string
	Children []*Node
	// Status is the provision's negotiation status (open, informal,
	// agreed, set_aside) when a facilitator gave it one (or its enclosing
	// provision's), StatusRev the revision that did; written as the
	// dr:status and dr:statusRev attributes of its element. Empty: none.
	Status    string
	StatusRev int
}

// numbered reports whether k is a kind whose words after its number are
// the first line of its content (paragraph, subparagraph, point) rather
// than a heading.
func (k Kind) numbered() bool { return k == Paragraph || k == Subparagraph || k == Point }

// rest is Head without Num: the heading, or a paragraph's first words.
func (n *Node) rest() string {
	if r, ok := strings.CutPrefix(n.Head, n.Num+" "); ok {
		return r
	}
	return ""
}

// Decision is a bracket decision, written as a workflow step.
type Decision struct {
	Group string // bracket group id, or provision id for a status change
	// Status: a provision's status change (Choice is the status), not a
	// bracket decision; Element is the eId of the provision's element at
	// the exported revision ("" if it is no longer there).
	Status     bool
	Element    string
	Choice     string // choose, drop, compromise
	Result     string // the text that replaced the group
	Note       string
	Delegation string
	Name       string
	Rev        int
	Date       time.Time
}

// Document is what Export writes and Import reads.
type Document struct {
	Title string
	// Draft is the draft's id (FRBR work), Rev the revision (FRBR
	// expression), Date the revision's time.
	Draft string
	Rev   int
	Date  time.Time
	// Created is the draft's creation time (FRBR work date).
	Created time.Time
	// Language is the ISO 639-2 code of the text ("eng", "fra", "ara").
	// Empty means "eng".
	Language string
	// Country is the FRBR country ("un" for the United Nations, the
	// default).
	Country   string
	Nodes     []*Node
	Decisions []Decision
}

// Text returns the document's text: every node's Head and Lines in
// document order, one per line.
func (d *Document) Text() string {
	var lines []string
	var walk func([]*Node)
	walk = func(nodes []*Node) {
		for _, n := range nodes {
			if n.Kind != Text {
				lines = append(lines, n.Head)
			}
			lines = append(lines, n.Lines...)
			walk(n.Children)
		}
	}
	walk(d.Nodes)
	return strings.Join(lines, "\n")
}
