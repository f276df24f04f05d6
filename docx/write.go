package docx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/draftroom/draftroom/internal/xmltext"
)

// Document is what Write turns into a .docx.
type Document struct {
	// Title is the document's title (docProps/core.xml and the header).
	Title string
	// Header is the text of the page header, for example
	// "Draft treaty — Rev. 12 — 4 December 2026".
	Header string
	// Language is the BCP 47 tag of the text (w:lang), "" for none.
	Language string
	// Properties are custom document properties (docProps/custom.xml),
	// read back by Read: the server records the draft and revision there
	// so that an import knows which revision a marked-up copy was made from.
	Properties map[string]string
	// Runs is the text (see Run).
	Runs []Run
	// Comments are anchored to ranges of the revised text.
	Comments []Comment
	// Levels gives the heading level (1 to 9; 0 for body text) of each
	// line of the revised text (Accepted(Runs)), by line index; lines
	// beyond its end are body text. A Word paragraph takes the level of the
	// revised line it starts in.
	Levels []int
}

// Comment is a Word comment on the code points [Start, End) of the
// revised text (Accepted(Runs)): for example who proposed each
// alternative of a bracket group. Text may hold '\n' (one comment
// paragraph per line).
type Comment struct {
	Start, End int
	Author     string
	Date       time.Time
	Text       string
}

// Namespaces and part names.
const (
	nsW   = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsR   = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsRel = "http://schemas.openxmlformats.org/package/2006/relationships"
	nsCT  = "http://schemas.openxmlformats.org/package/2006/content-types"

	relOfficeDocument = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
	relCoreProps      = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
	relCustomProps    = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
	relStyles         = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
	relHeader         = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
	relFooter         = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
	relSettings       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings"
	relComments       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
)

// Write returns d as a .docx file. Tracked runs become w:ins / w:del with
// distinct w:ids, their Author and their Date (UTC, to the second). Code
// points that XML cannot carry (control characters other than tab and
// newline, unpaired surrogates, U+FFFE/U+FFFF) are written as U+FFFD.
func Write(d Document) ([]byte, error) {
	var body strings.Builder
	comments := writeBody(&body, d)
	parts := []struct{ name, content string }{
		{"[Content_Types].xml", contentTypes(len(d.Properties) > 0, comments != "")},
		{"_rels/.rels", packageRels(len(d.Properties) > 0)},
		{"docProps/core.xml", coreProps(d.Title)},
		{"word/_rels/document.xml.rels", documentRels(comments != "")},
		{"word/document.xml", body.String()},
		{"word/styles.xml", styles(d.Language)},
		{"word/settings.xml", settings},
		{"word/header1.xml", headerPart(d.Header)},
		{"word/footer1.xml", footerPart},
	}
	if len(d.Properties) > 0 {
		parts = append(parts, struct{ name, content string }{"docProps/custom.xml", customProps(d.Properties)})
	}
	if comments != "" {
		parts = append(parts, struct{ name, content string }{"word/comments.xml", comments})
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate})
		if err != nil {
			return nil, fmt.Errorf("docx: write %s: %w", p.name, err)
		}
		if _, err := w.Write([]byte(p.content)); err != nil {
			return nil, fmt.Errorf("docx: write %s: %w", p.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("docx: close: %w", err)
	}
	return buf.Bytes(), nil
}

// bodyWriter writes word/document.xml paragraph by paragraph: a paragraph
// is buffered until its mark is known (its properties come first in XML,
// and say whether the mark itself was inserted or deleted).
type bodyWriter struct {
	out    *strings.Builder
	d      *Document
	para   strings.Builder // runs of the open paragraph
	first  rune            // first strong letter of the open paragraph, 0 if none yet
	line   int             // revised line the open paragraph starts in
	nextID int
	marks  []commentMark // comment range starts and ends, by position
	next   int           // first mark not yet written
}

// commentMark is the start or the end of comment id's range at pos, a
// code point of the revised text.
type commentMark struct {
	pos, id int
	end     bool
}

// marksUpTo writes the comment marks at or before pos (the revised
// text's code point the next character is at).
func (bw *bodyWriter) marksUpTo(pos int) {
	for ; bw.next < len(bw.marks) && bw.marks[bw.next].pos <= pos; bw.next++ {
		m := bw.marks[bw.next]
		id := strconv.Itoa(m.id)
		if m.end {
			bw.para.WriteString(`<w:commentRangeEnd w:id="` + id + `"/><w:r><w:commentReference w:id="` + id + `"/></w:r>`)
		} else {
			bw.para.WriteString(`<w:commentRangeStart w:id="` + id + `"/>`)
		}
	}
}

// writeBody writes word/document.xml to out and returns word/comments.xml
// ("" when there are no comments).
func writeBody(out *strings.Builder, d Document) string {
	out.WriteString(xmlHeader)
	out.WriteString(`<w:document xmlns:w="` + nsW + `" xmlns:r="` + nsR + `"><w:body>`)
	bw := &bodyWriter{out: out, d: &d, nextID: 1}
	var comments strings.Builder
	if len(d.Comments) > 0 {
		comments.WriteString(xmlHeader + `<w:comments xmlns:w="` + nsW + `">`)
		for _, c := range d.Comments {
			id := bw.nextID
			bw.nextID++
			bw.marks = append(bw.marks, commentMark{pos: c.Start, id: id}, commentMark{pos: max(c.End, c.Start), id: id, end: true})
			comments.WriteString(`<w:comment w:id="` + strconv.Itoa(id) + `" w:author="`)
			xmltext.Escape(&comments, c.Author, true)
			comments.WriteString(`"`)
			if !c.Date.IsZero() {
				comments.WriteString(` w:date="` + c.Date.UTC().Format(time.RFC3339) + `"`)
			}
			comments.WriteString(`>`)
			for line := range strings.SplitSeq(c.Text, "\n") {
				comments.WriteString(`<w:p><w:r><w:t xml:space="preserve">`)
				xmltext.Escape(&comments, line, false)
				comments.WriteString(`</w:t></w:r></w:p>`)
			}
			comments.WriteString(`</w:comment>`)
		}
		comments.WriteString(`</w:comments>`)
		sort.SliceStable(bw.marks, func(i, j int) bool {
			a, b := bw.marks[i], bw.marks[j]
			if a.pos != b.pos {
				return a.pos < b.pos
			}
			return a.end && !b.end // a range that ends here closes before the next opens
		})
	}
	line, pos := 0, 0 // revised line and code point of the text written so far
	for _, r := range d.Runs {
		text := r.Text
		for {
			i := strings.IndexByte(text, '\n')
			piece := text
			if i >= 0 {
				piece = text[:i]
			}
			if r.Mark == Deleted {
				if piece != "" {
					bw.run(piece, r)
				}
			} else {
				// Split the piece where comment ranges start or end.
				for piece != "" {
					bw.marksUpTo(pos)
					n := utf8.RuneCountInString(piece)
					cut := len(piece)
					if bw.next < len(bw.marks) && bw.marks[bw.next].pos < pos+n {
						k := bw.marks[bw.next].pos - pos
						cut = 0
						for ; k > 0; k-- {
							_, size := utf8.DecodeRuneInString(piece[cut:])
							cut += size
						}
					}
					bw.run(piece[:cut], r)
					pos += utf8.RuneCountInString(piece[:cut])
					piece = piece[cut:]
				}
				bw.marksUpTo(pos)
			}
			if i < 0 {
				break
			}
			bw.endParagraph(r)
			if r.Mark != Deleted {
				line++
				pos++ // the line break
			}
			bw.line = line
			text = text[i+1:]
		}
	}
	bw.marksUpTo(math.MaxInt)
	bw.endParagraph(Run{})
	out.WriteString(`<w:sectPr><w:headerReference w:type="default" r:id="rIdHeader"/><w:footerReference w:type="default" r:id="rIdFooter"/>` +
		`<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>`)
	out.WriteString(`</w:body></w:document>`)
	return comments.String()
}

// changeAttrs writes the attributes of a w:ins or w:del.
func (bw *bodyWriter) changeAttrs(b *strings.Builder, r Run) {
	b.WriteString(` w:id="`)
	b.WriteString(strconv.Itoa(bw.nextID))
	bw.nextID++
	b.WriteString(`" w:author="`)
	xmltext.Escape(b, r.Author, true)
	b.WriteString(`"`)
	if !r.Date.IsZero() {
		b.WriteString(` w:date="`)
		b.WriteString(r.Date.UTC().Format(time.RFC3339))
		b.WriteString(`"`)
	}
}

func (bw *bodyWriter) run(text string, r Run) {
	if bw.first == 0 {
		for _, c := range text {
			if unicode.IsLetter(c) {
				bw.first = c
				break
			}
		}
	}
	b := &bw.para
	switch r.Mark {
	case Inserted:
		b.WriteString(`<w:ins`)
		bw.changeAttrs(b, r)
		b.WriteString(`>`)
	case Deleted:
		b.WriteString(`<w:del`)
		bw.changeAttrs(b, r)
		b.WriteString(`>`)
	}
	b.WriteString(`<w:r>`)
	if rtlLetter(bw.first) {
		b.WriteString(`<w:rPr><w:rtl/></w:rPr>`)
	}
	tag := "w:t"
	if r.Mark == Deleted {
		tag = "w:delText"
	}
	// Tabs are w:tab elements between text elements.
	for k, seg := range strings.Split(text, "\t") {
		if k > 0 {
			b.WriteString(`<w:tab/>`)
		}
		if seg == "" {
			continue
		}
		b.WriteString(`<` + tag + ` xml:space="preserve">`)
		xmltext.Escape(b, seg, false)
		b.WriteString(`</` + tag + `>`)
	}
	b.WriteString(`</w:r>`)
	switch r.Mark {
	case Inserted:
		b.WriteString(`</w:ins>`)
	case Deleted:
		b.WriteString(`</w:del>`)
	}
}

// endParagraph writes the open paragraph, its mark carrying mark's change.
func (bw *bodyWriter) endParagraph(mark Run) {
	out := bw.out
	out.WriteString(`<w:p><w:pPr>`)
	if bw.line < len(bw.d.Levels) {
		if lv := bw.d.Levels[bw.line]; lv >= 1 && lv <= 9 {
			out.WriteString(`<w:pStyle w:val="Heading` + strconv.Itoa(lv) + `"/>`)
		}
	}
	rtl := rtlLetter(bw.first)
	if rtl {
		out.WriteString(`<w:bidi/>`)
	}
	if mark.Mark != Plain || rtl {
		var rpr strings.Builder
		switch mark.Mark {
		case Inserted:
			rpr.WriteString(`<w:ins`)
			bw.changeAttrs(&rpr, mark)
			rpr.WriteString(`/>`)
		case Deleted:
			rpr.WriteString(`<w:del`)
			bw.changeAttrs(&rpr, mark)
			rpr.WriteString(`/>`)
		}
		if rtl {
			rpr.WriteString(`<w:rtl/>`)
		}
		out.WriteString(`<w:rPr>` + rpr.String() + `</w:rPr>`)
	}
	out.WriteString(`</w:pPr>`)
	out.WriteString(bw.para.String())
	out.WriteString(`</w:p>`)
	bw.para.Reset()
	bw.first = 0
}

// rtlLetter reports whether c is a letter of a right-to-left script: a
// paragraph whose first letter is one is written right to left.
func rtlLetter(c rune) bool {
	return c != 0 && (unicode.In(c, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko, unicode.Samaritan, unicode.Mandaic, unicode.Adlam))
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

func contentTypes(custom, comments bool) string {
	s := xmlHeader + `<Types xmlns="` + nsCT + `">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
		`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
		`<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>` +
		`<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>` +
		`<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>` +
		`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>`
	if custom {
		s += `<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>`
	}
	if comments {
		s += `<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/>`
	}
	return s + `</Types>`
}

func packageRels(custom bool) string {
	s := xmlHeader + `<Relationships xmlns="` + nsRel + `">` +
		`<Relationship Id="rId1" Type="` + relOfficeDocument + `" Target="word/document.xml"/>` +
		`<Relationship Id="rId2" Type="` + relCoreProps + `" Target="docProps/core.xml"/>`
	if custom {
		s += `<Relationship Id="rId3" Type="` + relCustomProps + `" Target="docProps/custom.xml"/>`
	}
	return s + `</Relationships>`
}

func documentRels(comments bool) string {
	s := xmlHeader + `<Relationships xmlns="` + nsRel + `">` +
		`<Relationship Id="rIdStyles" Type="` + relStyles + `" Target="styles.xml"/>` +
		`<Relationship Id="rIdSettings" Type="` + relSettings + `" Target="settings.xml"/>` +
		`<Relationship Id="rIdHeader" Type="` + relHeader + `" Target="header1.xml"/>` +
		`<Relationship Id="rIdFooter" Type="` + relFooter + `" Target="footer1.xml"/>`
	if comments {
		s += `<Relationship Id="rIdComments" Type="` + relComments + `" Target="comments.xml"/>`
	}
	return s + `</Relationships>`
}

const settings = xmlHeader + `<w:settings xmlns:w="` + nsW + `"><w:defaultTabStop w:val="720"/><w:compat/></w:settings>`

func coreProps(title string) string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>`)
	xmltext.Escape(&b, title, false)
	b.WriteString(`</dc:title><dc:creator>draftroom</dc:creator></cp:coreProperties>`)
	return b.String()
}

func customProps(props map[string]string) string {
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(xmlHeader + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">`)
	for i, k := range names {
		b.WriteString(`<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="` + strconv.Itoa(i+2) + `" name="`)
		xmltext.Escape(&b, k, true)
		b.WriteString(`"><vt:lpwstr>`)
		xmltext.Escape(&b, props[k], false)
		b.WriteString(`</vt:lpwstr></property>`)
	}
	b.WriteString(`</Properties>`)
	return b.String()
}

func headerPart(text string) string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<w:hdr xmlns:w="` + nsW + `"><w:p><w:pPr><w:pStyle w:val="Header"/></w:pPr><w:r><w:t xml:space="preserve">`)
	xmltext.Escape(&b, strings.ReplaceAll(text, "\n", " "), false)
	b.WriteString(`</w:t></w:r></w:p></w:hdr>`)
	return b.String()
}

// footerPart numbers the pages: "Page N of M".
const footerPart = xmlHeader + `<w:ftr xmlns:w="` + nsW + `"><w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="center"/></w:pPr>` +
	`<w:r><w:t xml:space="preserve">Page </w:t></w:r><w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>` +
	`<w:r><w:t xml:space="preserve"> of </w:t></w:r><w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p></w:ftr>`

func styles(lang string) string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<w:styles xmlns:w="` + nsW + `"><w:docDefaults><w:rPrDefault><w:rPr>` +
		`<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:cs="Times New Roman" w:eastAsia="Times New Roman"/><w:sz w:val="24"/>`)
	if lang != "" {
		b.WriteString(`<w:lang w:val="`)
		xmltext.Escape(&b, lang, true)
		b.WriteString(`"/>`)
	}
	b.WriteString(`</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120"/></w:pPr></w:pPrDefault></w:docDefaults>` +
		`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>`)
	for lv := 1; lv <= 9; lv++ {
		n := strconv.Itoa(lv)
		size := max(24, 32-4*(lv-1))
		b.WriteString(`<w:style w:type="paragraph" w:styleId="Heading` + n + `"><w:name w:val="heading ` + n + `"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>` +
			`<w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/><w:outlineLvl w:val="` + strconv.Itoa(lv-1) + `"/></w:pPr>` +
			`<w:rPr><w:b/><w:sz w:val="` + strconv.Itoa(size) + `"/></w:rPr></w:style>`)
	}
	b.WriteString(`<w:style w:type="paragraph" w:styleId="Header"><w:name w:val="header"/><w:basedOn w:val="Normal"/><w:rPr><w:sz w:val="18"/></w:rPr></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/><w:basedOn w:val="Normal"/><w:rPr><w:sz w:val="18"/></w:rPr></w:style>` +
		`</w:styles>`)
	return b.String()
}
