package akn

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of XML elements Import follows.
const maxDepth = 256

// Import reads an Akoma Ntoso document (any document type whose body or
// mainBody holds chapters, articles, paragraphs and hcontainers, as Export
// writes them): the title (FRBRname, else docTitle), language, and the
// structure with its text. Hierarchical elements other than these
// (parts, sections, subparagraphs, points...) are read as their kind's
// nearest equivalent: their heading line and text are kept. maxText
// bounds the text in code points.
//
// Errors: ErrBadXML, ErrNotAKN, ErrTooLarge, wrapped with the reason.
func Import(data []byte, maxText int) (Document, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	im := &importer{maxText: maxText}
	var stack []xml.Name
	root := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Document{}, fmt.Errorf("%w: %v", ErrBadXML, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return Document{}, fmt.Errorf("%w: a DTD or declaration is not allowed", ErrBadXML)
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return Document{}, fmt.Errorf("%w: elements nested more than %d deep", ErrBadXML, maxDepth)
			}
			if len(stack) == 0 {
				if t.Name.Space != Namespace || t.Name.Local != "akomaNtoso" {
					return Document{}, fmt.Errorf("%w: the root element is <%s> in %q, not <akomaNtoso> in %s", ErrNotAKN, t.Name.Local, t.Name.Space, Namespace)
				}
				root = true
			}
			stack = append(stack, t.Name)
			if err := im.start(t); err != nil {
				return Document{}, err
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			im.end(t)
		case xml.CharData:
			if err := im.chars(t); err != nil {
				return Document{}, err
			}
		}
	}
	if !root {
		return Document{}, fmt.Errorf("%w: empty document", ErrNotAKN)
	}
	if !im.sawBody {
		return Document{}, fmt.Errorf("%w: no body or mainBody", ErrNotAKN)
	}
	if im.doc.Title == "" {
		im.doc.Title = strings.TrimSpace(im.docTitle.String())
	}
	normalize(im.doc.Nodes)
	return im.doc, nil
}

// Kinds of the elements Import reads as structure.
var kinds = map[string]Kind{
	"chapter": Chapter, "part": Part, "title": Chapter, "book": Chapter, "section": Section, "division": Chapter,
	"article": Article, "rule": Article,
	"paragraph": Paragraph, "subparagraph": Subparagraph, "point": Point, "item": Paragraph, "list": Paragraph, "clause": Paragraph, "subsection": Paragraph,
	"hcontainer": Text,
}

// open is a structural node being read.
type open struct {
	n *Node
	// first: a Paragraph's first <p> was read (it continues the number's
	// line, see Node.Head).
	first bool
}

type importer struct {
	doc      Document
	maxText  int
	size     int
	sawBody  bool
	inBody   int     // > 0 inside body
	path     []*open // open structural nodes
	field    string  // "num", "heading", "p" or "" while reading text
	buf      strings.Builder
	docTitle strings.Builder
	inTitle  int
}

func (im *importer) start(se xml.StartElement) error {
	if se.Name.Space != Namespace {
		return nil
	}
	local := se.Name.Local
	switch local {
	case "body", "mainBody":
		im.sawBody = true
		im.inBody++
		return nil
	case "FRBRname":
		if im.doc.Title == "" {
			im.doc.Title = attr(se, "value")
		}
	case "FRBRalias":
		if attr(se, "name") == "draftroom" {
			im.doc.Draft = attr(se, "value")
		}
	case "FRBRlanguage":
		im.doc.Language = attr(se, "language")
	case "FRBRversionNumber":
		im.doc.Rev, _ = strconv.Atoi(attr(se, "value"))
	case "docTitle":
		im.inTitle++
	}
	if im.inBody == 0 {
		return nil
	}
	if k, ok := kinds[local]; ok {
		n := &Node{Kind: k, EID: attr(se, "eId"), Status: attrNS(se, DraftroomNamespace, "status")}
		if n.Status != "" {
			n.StatusRev, _ = strconv.Atoi(attrNS(se, DraftroomNamespace, "statusRev"))
		}
		if k == Text && attr(se, "name") != "text" {
			n.Kind = Chapter // another container: keep its num and heading
		}
		if len(im.path) == 0 {
			im.doc.Nodes = append(im.doc.Nodes, n)
		} else {
			p := im.path[len(im.path)-1].n
			p.Children = append(p.Children, n)
		}
		im.path = append(im.path, &open{n: n})
		return nil
	}
	switch local {
	case "num", "heading", "p":
		if im.field == "" {
			im.field = local
			im.buf.Reset()
		}
	case "br":
		if im.field != "" {
			im.buf.WriteByte(' ')
		}
	}
	return nil
}

func (im *importer) end(ee xml.EndElement) {
	if ee.Name.Space != Namespace {
		return
	}
	local := ee.Name.Local
	switch local {
	case "body", "mainBody":
		im.inBody--
		return
	case "docTitle":
		im.inTitle--
	}
	if im.inBody == 0 {
		return
	}
	if _, ok := kinds[local]; ok && len(im.path) > 0 {
		im.path = im.path[:len(im.path)-1]
		return
	}
	if local != im.field {
		return
	}
	im.field = ""
	s := im.buf.String()
	if len(im.path) == 0 {
		// Text in the body outside any structure: a Text node of its own.
		n := &Node{Kind: Text}
		im.doc.Nodes = append(im.doc.Nodes, n)
		im.path = append(im.path, &open{n: n})
		defer func() { im.path = im.path[:0] }()
	}
	o := im.path[len(im.path)-1]
	n := o.n
	switch local {
	case "num":
		if n.Kind == Text {
			n.Lines = append(n.Lines, s)
		} else {
			n.Num, n.Head = s, s
		}
	case "heading":
		if n.Kind == Text {
			n.Lines = append(n.Lines, s)
		} else {
			n.Head = n.Num + " " + s
		}
	case "p":
		if n.Kind.numbered() && !o.first {
			// A paragraph's first line continues its number's line.
			o.first = true
			n.Head = n.Num + " " + s
			return
		}
		n.Lines = append(n.Lines, s)
	}
}

func (im *importer) chars(c xml.CharData) error {
	if im.inTitle > 0 && im.docTitle.Len() < 1000 {
		im.docTitle.Write(c)
	}
	if im.field == "" || im.inBody == 0 {
		return nil
	}
	im.size += utf8.RuneCount(c)
	if im.maxText > 0 && im.size > im.maxText {
		return fmt.Errorf("%w: more than %d characters of text", ErrTooLarge, im.maxText)
	}
	// Line breaks and tabs in the XML are layout, not text, unless the
	// exporter wrote them as character references (which the decoder
	// turns into the same characters): Export never writes a raw newline
	// inside a line, so every '\n' here is layout.
	im.buf.Write(bytes.ReplaceAll(c, []byte("\n"), []byte(" ")))
	return nil
}

// attrNS returns the value of attribute space:local of se, or "".
func attrNS(se xml.StartElement, space, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value
		}
	}
	return ""
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// normalize turns what Export could not write back without losing text
// into Text nodes that keep it: a numbered kind without a number, a
// paragraph with nothing after its number.
func normalize(nodes []*Node) {
	for _, n := range nodes {
		if n.Kind != Text && (n.Num == "" || (n.Kind.numbered() && n.rest() == "")) {
			if n.Head != "" || n.Kind.numbered() {
				n.Lines = append([]string{n.Head}, n.Lines...)
			}
			n.Kind, n.Num, n.Head = Text, "", ""
		}
		normalize(n.Children)
	}
}
