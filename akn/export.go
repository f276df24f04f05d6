package akn

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/internal/xmltext"
)

// ErrStructure: a Document that Export cannot write without losing text
// (a Head that is not Num or Num + " " + rest, a Paragraph without words
// after its number, a line holding '\n').
var ErrStructure = errors.New("akn: structure does not fit the text")

// Export returns d as an Akoma Ntoso 3.0 <bill> that validates against
// the OASIS schema. Errors: ErrStructure.
func Export(d Document) ([]byte, error) {
	if err := check(d.Nodes); err != nil {
		return nil, err
	}
	e := &exporter{ids: map[string]int{}}
	e.b.Grow(len(d.Text()) * 3 / 2)
	e.document(&d)
	return []byte(e.b.String()), nil
}

func check(nodes []*Node) error {
	for _, n := range nodes {
		switch n.Kind {
		case Text:
			if n.Head != "" || n.Num != "" {
				return fmt.Errorf("%w: text outside the structure has no number or heading", ErrStructure)
			}
		case Part, Chapter, Section, Article, Paragraph, Subparagraph, Point:
			if n.Num == "" || (n.Head != n.Num && !strings.HasPrefix(n.Head, n.Num+" ")) {
				return fmt.Errorf("%w: %s %q does not start with its number %q", ErrStructure, n.Kind, n.Head, n.Num)
			}
			if n.Head != n.Num && n.rest() == "" {
				return fmt.Errorf("%w: %s %q has only spaces after its number", ErrStructure, n.Kind, n.Head)
			}
			if n.Kind.numbered() && n.rest() == "" {
				return fmt.Errorf("%w: paragraph %q has no words after its number", ErrStructure, n.Head)
			}
		default:
			return fmt.Errorf("%w: unknown kind %q", ErrStructure, n.Kind)
		}
		if strings.Contains(n.Head, "\n") {
			return fmt.Errorf("%w: a heading holds a line break", ErrStructure)
		}
		for _, l := range n.Lines {
			if strings.Contains(l, "\n") {
				return fmt.Errorf("%w: a line holds a line break", ErrStructure)
			}
		}
		if err := check(n.Children); err != nil {
			return err
		}
	}
	return nil
}

type exporter struct {
	b   strings.Builder
	ids map[string]int // eIds given, to keep them unique
}

func (e *exporter) w(s ...string) {
	for _, x := range s {
		e.b.WriteString(x)
	}
}

// text writes s as character data (attr: as an attribute value); code
// points XML cannot carry become U+FFFD (xmltext.Escape).
func (e *exporter) text(s string, attr bool) { xmltext.Escape(&e.b, s, attr) }

// unique returns id, or id with a suffix if it was given before.
func (e *exporter) unique(id string) string {
	n := e.ids[id]
	e.ids[id] = n + 1
	if n == 0 {
		return id
	}
	return id + "-" + strconv.Itoa(n+1)
}

// idPart turns a number as written ("Article 3 bis", "1.") into the
// characters an eId may hold: "3bis", "1".
func idPart(num string) string {
	if _, rest, ok := strings.Cut(num, " "); ok {
		num = rest
	}
	var b strings.Builder
	for _, c := range num {
		if c < 0x80 && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

var prefixes = map[Kind]string{Part: "part_", Chapter: "chp_", Section: "sec_", Article: "art_", Paragraph: "para_",
	Subparagraph: "subpara_", Point: "point_", Text: "hcontainer_"}

func day(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02")
}

func (e *exporter) document(d *Document) {
	lang := d.Language
	if lang == "" {
		lang = "eng"
	}
	country := d.Country
	if country == "" {
		country = "un"
	}
	work := "/akn/" + country + "/bill/" + day(d.Created) + "/" + d.Draft
	expr := work + "/" + lang + "@" + day(d.Date) + "!rev" + strconv.Itoa(d.Rev)
	manif := expr + "/main.xml"

	e.w(`<?xml version="1.0" encoding="UTF-8"?>`, "\n", `<akomaNtoso xmlns="`, Namespace, `" xmlns:dr="`, DraftroomNamespace, `">`)
	e.w(`<bill name="draft">`, `<meta><identification source="#draftroom">`)
	frbr := func(tag, this, uri, date string, extra func()) {
		e.w(`<`, tag, `><FRBRthis value="`)
		e.text(this, true)
		e.w(`"/><FRBRuri value="`)
		e.text(uri, true)
		e.w(`"/>`)
		if tag == "FRBRWork" {
			e.w(`<FRBRalias value="`)
			e.text(d.Draft, true)
			e.w(`" name="draftroom"/>`)
		}
		e.w(`<FRBRdate date="`, date, `" name="`, map[string]string{"FRBRWork": "creation", "FRBRExpression": "revision", "FRBRManifestation": "export"}[tag], `"/>`)
		e.w(`<FRBRauthor href="#draftroom"/>`)
		extra()
		e.w(`</`, tag, `>`)
	}
	frbr("FRBRWork", work+"/!main", work, day(d.Created), func() {
		e.w(`<FRBRcountry value="`)
		e.text(country, true)
		e.w(`"/><FRBRname value="`)
		e.text(d.Title, true)
		e.w(`"/>`)
	})
	frbr("FRBRExpression", expr+"/!main", expr, day(d.Date), func() {
		e.w(`<FRBRversionNumber value="`, strconv.Itoa(d.Rev), `"/><FRBRlanguage language="`)
		e.text(lang, true)
		e.w(`"/>`)
	})
	frbr("FRBRManifestation", manif, manif, day(d.Date), func() {})
	e.w(`</identification>`)

	// Decisions: one workflow step each, with the record in draftroom's
	// namespace; the delegations who took them are TLCOrganizations.
	orgs := map[string]string{}
	if len(d.Decisions) > 0 {
		e.w(`<workflow source="#draftroom">`)
		for _, dec := range d.Decisions {
			by := "#draftroom"
			if dec.Delegation != "" {
				id := "org_" + idPart("x "+dec.Delegation)
				orgs[id] = dec.Delegation
				by = "#" + id
			}
			e.w(`<step date="`, day(dec.Date), `" by="`)
			e.text(by, true)
			e.w(`" outcome="#`, idPart("x "+dec.Choice), `"><dr:decision group="`)
			e.text(dec.Group, true)
			e.w(`" choice="`)
			e.text(dec.Choice, true)
			e.w(`"`)
			if dec.Status {
				e.w(` kind="status"`)
			}
			if dec.Element != "" {
				e.w(` element="`)
				e.text(dec.Element, true)
				e.w(`"`)
			}
			e.w(` rev="`, strconv.Itoa(dec.Rev), `" time="`, dec.Date.UTC().Format(time.RFC3339), `" delegation="`)
			e.text(dec.Delegation, true)
			e.w(`" name="`)
			e.text(dec.Name, true)
			e.w(`"><dr:result>`)
			e.text(dec.Result, false)
			e.w(`</dr:result><dr:note>`)
			e.text(dec.Note, false)
			e.w(`</dr:note></dr:decision></step>`)
		}
		e.w(`</workflow>`)
	}
	e.w(`<references source="#draftroom"><TLCOrganization eId="draftroom" href="/ontology/organization/draftroom" showAs="draftroom"/>`)
	ids := make([]string, 0, len(orgs))
	for id := range orgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		e.w(`<TLCOrganization eId="`, id, `" href="/ontology/organization/`, id, `" showAs="`)
		e.text(orgs[id], true)
		e.w(`"/>`)
	}
	outcomes := map[string]bool{}
	for _, dec := range d.Decisions {
		o := idPart("x " + dec.Choice)
		if !outcomes[o] {
			outcomes[o] = true
			e.w(`<TLCConcept eId="`, o, `" href="/ontology/concept/draftroom/`, o, `" showAs="`)
			e.text(dec.Choice, true)
			e.w(`"/>`)
		}
	}
	e.w(`</references></meta>`)

	e.w(`<body>`)
	if len(d.Nodes) == 0 {
		e.w(`<hcontainer name="text" eId="hcontainer_1"/>`)
	}
	e.nodes(d.Nodes, "")
	e.w(`</body></bill></akomaNtoso>`, "\n")
}

func (e *exporter) nodes(nodes []*Node, parent string) {
	for _, n := range nodes {
		e.node(n, parent)
	}
}

func (e *exporter) node(n *Node, parent string) {
	id := n.EID
	if id == "" {
		id = prefixes[n.Kind]
		if n.Kind == Text {
			id += strconv.Itoa(e.ids["#text"] + 1)
			e.ids["#text"]++
		} else {
			id += idPart(n.Num)
		}
		if parent != "" && n.Kind.numbered() {
			id = parent + "__" + id
		}
	}
	id = e.unique(id)
	tag := string(n.Kind)
	e.w(`<`, tag)
	if n.Kind == Text {
		e.w(` name="text"`)
	}
	e.w(` eId="`)
	e.text(id, true)
	e.w(`"`)
	if n.Status != "" {
		e.w(` dr:status="`)
		e.text(n.Status, true)
		e.w(`" dr:statusRev="`, strconv.Itoa(n.StatusRev), `"`)
	}
	e.w(`>`)
	lines := n.Lines
	if n.Kind != Text {
		e.w(`<num>`)
		e.text(n.Num, false)
		e.w(`</num>`)
		if rest := n.rest(); rest != "" {
			if n.Kind.numbered() {
				lines = append([]string{rest}, lines...)
			} else {
				e.w(`<heading>`)
				e.inline(rest)
				e.w(`</heading>`)
			}
		}
	}
	if len(lines) > 0 {
		wrap := "content"
		if len(n.Children) > 0 {
			wrap = "intro"
		}
		e.w(`<`, wrap, `>`)
		for _, l := range lines {
			e.w(`<p>`)
			e.inline(l)
			e.w(`</p>`)
		}
		e.w(`</`, wrap, `>`)
	}
	e.nodes(n.Children, id)
	e.w(`</`, tag, `>`)
}

// inline writes a line with its bracket groups marked up: each group that
// opens and closes on the line as <inline name="bracket">, each of its
// alternatives as <inline name="alternative">, around the literal
// characters (brackets, separators and escapes stay in the text).
func (e *exporter) inline(line string) {
	if !strings.ContainsAny(line, "[]") {
		e.text(line, false)
		return
	}
	res := brackets.Parse(line)
	if len(res.Groups) == 0 {
		e.text(line, false)
		return
	}
	type mark struct {
		pos, size int // size: the span's length, to put outer opens first
		open      bool
		tag       string
	}
	var marks []mark
	for _, g := range res.Groups {
		marks = append(marks, mark{g.Start, g.End - g.Start, true, `<inline name="bracket">`}, mark{g.End, g.End - g.Start, false, `</inline>`})
		for _, a := range g.Alternatives {
			marks = append(marks, mark{a.Start, a.End - a.Start, true, `<inline name="alternative">`}, mark{a.End, a.End - a.Start, false, `</inline>`})
		}
	}
	sort.SliceStable(marks, func(i, j int) bool {
		a, b := marks[i], marks[j]
		if a.pos != b.pos {
			return a.pos < b.pos
		}
		if a.open != b.open {
			return !a.open // closes first
		}
		if a.open {
			return a.size > b.size // outer opens first
		}
		return a.size < b.size // inner closes first
	})
	// An empty alternative opens and closes at one position: its close
	// sorts before its open. Pair them up as an empty element instead.
	k, cp, last := 0, 0, 0
	emit := func(upto int) {
		for ; k < len(marks) && marks[k].pos == upto; k++ {
			m := marks[k]
			if !m.open && m.size == 0 {
				continue // written with its open
			}
			if m.open && m.size == 0 {
				e.w(`<inline name="alternative"/>`)
				continue
			}
			e.w(m.tag)
		}
	}
	for i := range line {
		if k < len(marks) && marks[k].pos == cp {
			e.text(line[last:i], false)
			last = i
			emit(cp)
		}
		cp++
	}
	e.text(line[last:], false)
	emit(cp)
}
