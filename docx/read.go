package docx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits bound what Read unpacks and keeps.
type Limits struct {
	// MaxEntries is the most entries the zip may list.
	MaxEntries int
	// MaxUnpacked is the most bytes Read decompresses in all, whatever the
	// sizes the zip's headers claim.
	MaxUnpacked int64
	// MaxText is the longest original or accepted text, in code points.
	MaxText int
}

// DefaultLimits suit a draft of up to 2,000,000 code points: a Word
// document of that text with tracked changes unpacks to well under 256 MB.
var DefaultLimits = Limits{MaxEntries: 1000, MaxUnpacked: 256 << 20, MaxText: 2_000_000}

// maxDepth bounds the nesting of XML elements Read follows.
const maxDepth = 256

// File is a .docx as Read understood it.
type File struct {
	// Runs is the body text (see Run): paragraphs of the main document
	// part, in order, with their tracked changes.
	Runs []Run
	// Tracked reports whether the document holds any tracked change.
	Tracked bool
	// Title is the core properties' dc:title, "" if none.
	Title string
	// Properties are the custom document properties with a text value.
	Properties map[string]string
}

// Read parses a .docx: the main document part's paragraphs with their
// tracked insertions and deletions (w:ins, w:del, w:moveTo, w:moveFrom,
// and inserted or deleted paragraph marks), the title and the custom
// properties. Text in fields' instructions, drawings and text boxes is
// left out; a tab is '\t' and a line break '\n'.
//
// Errors: ErrNotZip, ErrNotDocx, ErrTooLarge, ErrBadXML, each wrapped with
// the reason. Read never panics and holds at most about
// lim.MaxUnpacked bytes of unpacked data plus the text.
func Read(data []byte, lim Limits) (*File, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotZip, err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("%w: the zip lists %d entries, at most %d are read", ErrTooLarge, len(zr.File), lim.MaxEntries)
	}
	u := &unpacker{files: zr.File, budget: lim.MaxUnpacked}
	rels, err := u.part("_rels/.rels")
	if err != nil {
		return nil, err
	}
	if rels == nil {
		return nil, fmt.Errorf("%w: no _rels/.rels (the package's relationships)", ErrNotDocx)
	}
	targets, err := relationships(rels)
	if err != nil {
		return nil, err
	}
	mainName := targets["officeDocument"]
	if mainName == "" {
		return nil, fmt.Errorf("%w: the package names no main document", ErrNotDocx)
	}
	main, err := u.part(mainName)
	if err != nil {
		return nil, err
	}
	if main == nil {
		return nil, fmt.Errorf("%w: the main document %s is missing", ErrNotDocx, mainName)
	}
	f := &File{Properties: map[string]string{}}
	if err := readBody(main, lim, f); err != nil {
		return nil, err
	}
	if name := targets["core-properties"]; name != "" {
		if core, err := u.part(name); err != nil {
			return nil, err
		} else if core != nil {
			f.Title = readCoreTitle(core)
		}
	}
	if name := targets["custom-properties"]; name != "" {
		if custom, err := u.part(name); err != nil {
			return nil, err
		} else if custom != nil {
			readCustom(custom, f.Properties)
		}
	}
	return f, nil
}

// unpacker reads parts of the zip within a budget of unpacked bytes.
type unpacker struct {
	files  []*zip.File
	budget int64
}

// part returns the bytes of the entry name, nil if there is none.
func (u *unpacker) part(name string) ([]byte, error) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	for _, zf := range u.files {
		if zf.Name != name {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: %v", ErrNotZip, name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, u.budget+1))
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: %v", ErrNotZip, name, err)
		}
		if int64(len(b)) > u.budget {
			return nil, fmt.Errorf("%w: more than %d bytes unpacked (entry %s)", ErrTooLarge, u.budget, name)
		}
		u.budget -= int64(len(b))
		return b, nil
	}
	return nil, nil
}

// decoder returns a strict XML decoder for data that knows no entities
// beyond XML's five.
func decoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	return d
}

// next returns the next token of d, refusing DTDs (and with them any
// entity declaration).
func next(d *xml.Decoder) (xml.Token, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	if dir, ok := tok.(xml.Directive); ok {
		return nil, fmt.Errorf("%w: a DTD or declaration (<!%.20s...) is not allowed", ErrBadXML, dir)
	}
	return tok, nil
}

// relationships maps the last path element of each relationship type of
// the package (officeDocument, core-properties, ...) to its target part.
func relationships(data []byte) (map[string]string, error) {
	d := decoder(data)
	out := map[string]string{}
	for {
		tok, err := next(d)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, badXML("_rels/.rels", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" {
			continue
		}
		var typ, target string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "Type":
				typ = a.Value
			case "Target":
				target = a.Value
			}
		}
		if i := strings.LastIndexByte(typ, '/'); i >= 0 && target != "" {
			if _, seen := out[typ[i+1:]]; !seen {
				out[typ[i+1:]] = target
			}
		}
	}
}

func badXML(part string, err error) error {
	if errors.Is(err, ErrBadXML) {
		return fmt.Errorf("%s: %w", part, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrBadXML, part, err)
}

// WordprocessingML namespaces: transitional and strict.
const nsWStrict = "http://purl.oclc.org/ooxml/wordprocessingml/main"

// bodyReader follows the main document part.
type bodyReader struct {
	f         *File
	lim       Limits
	origLen   int // code points of the original text so far
	accLen    int // of the accepted text
	paras     int // paragraphs ended
	pendMark  *Run
	changes   []Run // open w:ins/w:del elements, innermost last
	inRun     int   // depth of w:r
	inText    bool  // inside w:t or w:delText
	inPPr     bool
	inPPrRPr  bool
	paraMark  Run // the mark of the open paragraph
	skipDepth int // > 0: inside a subtree left out
}

func readBody(data []byte, lim Limits, f *File) error {
	d := decoder(data)
	br := &bodyReader{f: f, lim: lim}
	var stack []xml.Name
	sawDocument := false
	for {
		tok, err := next(d)
		if err == io.EOF {
			break
		}
		if err != nil {
			return badXML("main document", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return fmt.Errorf("%w: main document: elements nested more than %d deep", ErrBadXML, maxDepth)
			}
			stack = append(stack, t.Name)
			if len(stack) == 1 {
				if t.Name.Local != "document" || !isW(t.Name) {
					return fmt.Errorf("%w: the main part is <%s>, not a WordprocessingML w:document", ErrNotDocx, t.Name.Local)
				}
				sawDocument = true
				continue
			}
			if err := br.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return fmt.Errorf("%w: main document: unbalanced end tag", ErrBadXML)
			}
			stack = stack[:len(stack)-1]
			br.end(t)
		case xml.CharData:
			if br.inText && br.skipDepth == 0 {
				if err := br.text(string(t)); err != nil {
					return err
				}
			}
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("%w: main document: <%s> is not closed", ErrBadXML, stack[len(stack)-1].Local)
	}
	if !sawDocument {
		return fmt.Errorf("%w: the main document part is empty", ErrNotDocx)
	}
	return nil
}

// isW reports whether n is in a WordprocessingML namespace.
func isW(n xml.Name) bool { return n.Space == nsW || n.Space == nsWStrict }

// skipped are the elements whose content is not body text.
var skipped = map[string]bool{
	"drawing": true, "pict": true, "object": true, "txbxContent": true, "instrText": true, "delInstrText": true,
	"footnoteReference": true, "endnoteReference": true, "commentReference": true, "AlternateContent": true,
	"pPrChange": true, "rPrChange": true, "sectPrChange": true, "tblPrChange": true, "trPrChange": true, "tcPrChange": true,
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// Date layouts seen in w:date.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"}

func changeRun(se xml.StartElement, m Mark) Run {
	r := Run{Mark: m, Author: attr(se, "author")}
	if v := attr(se, "date"); v != "" {
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, v); err == nil {
				r.Date = t.UTC()
				break
			}
		}
	}
	return r
}

func (br *bodyReader) start(se xml.StartElement) error {
	if br.skipDepth > 0 {
		br.skipDepth++
		return nil
	}
	local := se.Name.Local
	if skipped[local] {
		br.skipDepth = 1
		return nil
	}
	if !isW(se.Name) {
		return nil
	}
	switch local {
	case "p":
		if br.pendMark != nil {
			// The previous paragraph's mark separates it from this one.
			if err := br.add(*br.pendMark, "\n"); err != nil {
				return err
			}
		}
		br.paraMark = Run{}
	case "pPr":
		br.inPPr = true
	case "rPr":
		br.inPPrRPr = br.inPPr
	case "ins", "moveTo":
		if br.inPPrRPr {
			br.paraMark = changeRun(se, Inserted)
		} else if br.inRun == 0 {
			br.changes = append(br.changes, changeRun(se, Inserted))
		}
	case "del", "moveFrom":
		if br.inPPrRPr {
			br.paraMark = changeRun(se, Deleted)
		} else if br.inRun == 0 {
			br.changes = append(br.changes, changeRun(se, Deleted))
		}
	case "r":
		br.inRun++
	case "t", "delText":
		br.inText = br.inRun > 0
	case "tab":
		if br.inRun > 0 && !br.inPPr {
			return br.add(br.current(), "\t")
		}
	case "br", "cr":
		if br.inRun > 0 {
			if typ := attr(se, "type"); typ == "" || typ == "textWrapping" {
				return br.add(br.current(), "\n")
			}
		}
	case "noBreakHyphen":
		if br.inRun > 0 {
			return br.add(br.current(), "-")
		}
	}
	return nil
}

func (br *bodyReader) end(ee xml.EndElement) {
	if br.skipDepth > 0 {
		br.skipDepth--
		return
	}
	if !isW(ee.Name) {
		return
	}
	switch ee.Name.Local {
	case "p":
		m := br.paraMark
		br.pendMark = &m
		br.paras++
	case "pPr":
		br.inPPr, br.inPPrRPr = false, false
	case "rPr":
		br.inPPrRPr = false
	case "ins", "moveTo", "del", "moveFrom":
		if !br.inPPrRPr && br.inRun == 0 && len(br.changes) > 0 {
			br.changes = br.changes[:len(br.changes)-1]
		}
	case "r":
		br.inRun = max(0, br.inRun-1)
	case "t", "delText":
		br.inText = false
	}
}

// current is the mark of text at this point: the innermost open change.
func (br *bodyReader) current() Run {
	if n := len(br.changes); n > 0 {
		return br.changes[n-1]
	}
	return Run{}
}

func (br *bodyReader) text(s string) error { return br.add(br.current(), s) }

// add appends text s with mark m, merging it into the last run when that
// has the same mark and attribution.
func (br *bodyReader) add(m Run, s string) error {
	if s == "" {
		return nil
	}
	n := utf8.RuneCountInString(s)
	if m.Mark != Inserted {
		br.origLen += n
	}
	if m.Mark != Deleted {
		br.accLen += n
	}
	if br.origLen > br.lim.MaxText || br.accLen > br.lim.MaxText {
		return fmt.Errorf("%w: the text is longer than %d characters", ErrTooLarge, br.lim.MaxText)
	}
	if m.Mark != Plain {
		br.f.Tracked = true
	}
	runs := br.f.Runs
	if k := len(runs) - 1; k >= 0 && runs[k].Mark == m.Mark && runs[k].Author == m.Author && runs[k].Date.Equal(m.Date) {
		runs[k].Text += s
		return nil
	}
	m.Text = s
	br.f.Runs = append(runs, m)
	return nil
}

func readCoreTitle(data []byte) string {
	d := decoder(data)
	in := false
	var b strings.Builder
	for {
		tok, err := next(d)
		if err != nil {
			return b.String()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			in = t.Name.Local == "title"
		case xml.EndElement:
			if in {
				return b.String()
			}
		case xml.CharData:
			if in && b.Len() < 4096 {
				b.Write(t)
			}
		}
	}
}

func readCustom(data []byte, props map[string]string) {
	d := decoder(data)
	name := ""
	depth := 0
	var b strings.Builder
	for {
		tok, err := next(d)
		if err != nil {
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "property" {
				name = attr(t, "name")
				b.Reset()
			}
		case xml.EndElement:
			depth--
			if t.Name.Local == "property" && name != "" && len(props) < 100 {
				props[name] = b.String()
				name = ""
			}
		case xml.CharData:
			if name != "" && b.Len() < 4096 {
				b.Write(t)
			}
		}
	}
}

// Change is one tracked change in the original text's coordinates: the
// code points [Start, End) replaced by Text (Start == End: an insertion;
// Text "": a deletion). Author lists the Word authors of its parts
// ("A; B" when they differ), Date is the latest of their dates.
type Change struct {
	Start, End int
	Text       string
	Author     string
	Date       time.Time
}

// Changes returns the tracked changes of runs in order, a deletion next to
// an insertion (in either order) being one replacement.
func Changes(runs []Run) []Change {
	var out []Change
	var cur *Change
	var ins strings.Builder
	flush := func() {
		if cur != nil {
			cur.Text = ins.String()
			out = append(out, *cur)
			cur = nil
			ins.Reset()
		}
	}
	pos := 0
	for _, r := range runs {
		switch r.Mark {
		case Plain:
			flush()
			pos += utf8.RuneCountInString(r.Text)
			continue
		}
		if cur == nil {
			cur = &Change{Start: pos, End: pos, Author: r.Author, Date: r.Date}
		} else {
			if r.Author != "" && !strings.Contains("; "+cur.Author+"; ", "; "+r.Author+"; ") {
				if cur.Author == "" {
					cur.Author = r.Author
				} else {
					cur.Author += "; " + r.Author
				}
			}
			if r.Date.After(cur.Date) {
				cur.Date = r.Date
			}
		}
		if r.Mark == Deleted {
			n := utf8.RuneCountInString(r.Text)
			pos += n
			cur.End += n
		} else {
			ins.WriteString(r.Text)
		}
	}
	flush()
	return out
}
