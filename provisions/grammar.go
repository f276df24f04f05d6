// Package provisions reads the structure of a treaty text: parts,
// chapters, sections, articles, numbered paragraphs, subparagraphs and
// preambular paragraphs (Parse), follows each provision's identity through
// committed ops so that it keeps its id while its text and number change
// (Tracker), keeps the status facilitators give provisions and refuses ops
// that would change agreed text (Locks), and renumbers a text with its
// cross-references (Renumber).
//
// The package is pure: no I/O, no goroutines, no logging. Every position and
// length counts Unicode code points, as ot does. The grammar is specified,
// with examples, in docs/PROVISIONS.md.
package provisions

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a provision is.
type Kind string

// The kinds of provision, from the outermost.
const (
	Part         Kind = "part"
	Chapter      Kind = "chapter"
	Section      Kind = "section"
	Article      Kind = "article"
	Paragraph    Kind = "paragraph"
	Preamble     Kind = "preamble" // a preambular paragraph
	Subparagraph Kind = "subparagraph"
	Item         Kind = "item" // (i), (ii): a subdivision of a subparagraph
)

// level orders the kinds: a provision contains the provisions after it of a
// greater level, up to the next one of its level or less.
func (k Kind) level() int {
	switch k {
	case Part:
		return 0
	case Chapter:
		return 1
	case Section:
		return 2
	case Article:
		return 3
	case Paragraph, Preamble:
		return 4
	case Subparagraph:
		return 5
	case Item:
		return 6
	}
	return 7
}

// heading reports whether k is a heading kind (part to article).
func (k Kind) heading() bool { return k.level() <= Article.level() }

// class is what one line of text is, read alone.
type class uint8

const (
	clsPlain   class = iota // a non-blank line without a marker
	clsHeading              // Article 17 bis Title
	clsPara                 // 2 bis.
	clsSub                  // (a), (a bis), a), (iv): letter or roman decided in context
	clsPP                   // PP3
)

// line is one line of text that matters to the structure: a line with a
// marker, or a plain line (which may be a preambular paragraph).
type line struct {
	start int    // code point where the line starts
	mark  int    // code point of the marker's first character (after indentation)
	cls   class  //
	kind  Kind   // for headings; Paragraph, Subparagraph, Preamble otherwise
	num   string // as written, without its punctuation: "17 bis", "2", "a bis", "iv", "II", "One"
	title string // a heading's title, trimmed
	// For clsSub: whether the label (without its suffix) reads as a letter
	// and as a lowercase roman numeral; (i), (v), (x) are both.
	letter, roman bool
	// numFrom, numTo: the number as written, [mark+numFrom, mark+numTo)
	// in code points (byte offsets in the trimmed line while it is read).
	numFrom, numTo int
}

// headingWords maps the word that opens a heading to its kind. Each word is
// accepted as written here and in capitals.
var headingWords = map[string]Kind{
	// English
	"Part": Part, "Chapter": Chapter, "Section": Section, "Article": Article,
	// French
	"Partie": Part, "Titre": Part, "Chapitre": Chapter,
	// Spanish
	"Parte": Part, "Capítulo": Chapter, "Sección": Section, "Artículo": Article,
	// Russian
	"Часть": Part, "Глава": Chapter, "Раздел": Section, "Статья": Article,
	// Arabic (no capitals)
	"الجزء": Part, "الباب": Part, "الفصل": Chapter, "الفرع": Section, "المادة": Article,
}

// upperWords is headingWords in capitals ("ARTICLE", "CHAPITRE").
var upperWords = func() map[string]Kind {
	m := make(map[string]Kind, len(headingWords))
	for w, k := range headingWords {
		if u := strings.ToUpper(w); u != w {
			m[u] = k
		}
	}
	return m
}()

// Number words accepted after a heading word (Part One, Partie première).
var numberWords = map[string]bool{
	"One": true, "Two": true, "Three": true, "Four": true, "Five": true, "Six": true, "Seven": true,
	"Eight": true, "Nine": true, "Ten": true, "Eleven": true, "Twelve": true,
	"First": true, "Second": true, "Third": true, "Fourth": true, "Fifth": true, "Sixth": true,
	"Seventh": true, "Eighth": true, "Ninth": true, "Tenth": true,
	"premier": true, "première": true, "Première": true, "Premier": true, "deuxième": true, "Deuxième": true,
	"troisième": true, "Troisième": true, "quatrième": true, "Quatrième": true, "cinquième": true, "Cinquième": true,
	"Primera": true, "Segunda": true, "Tercera": true, "Cuarta": true, "Quinta": true,
	"primera": true, "segunda": true, "tercera": true, "cuarta": true, "quinta": true,
}

// Suffixes is the order of the Latin suffixes of inserted provisions:
// 17 bis comes after 17 and before 17 ter.
var Suffixes = []string{"bis", "ter", "quater", "quinquies", "sexies", "septies", "octies", "novies", "decies"}

// startsWithSuffix reports whether s starts with a suffix that ends a word
// ("ter" of "17ter").
func startsWithSuffix(s string) bool {
	for _, x := range Suffixes {
		if after, ok := strings.CutPrefix(s, x); ok && (after == "" || !isWordRune(firstRune(after))) {
			return true
		}
	}
	return false
}

func suffixRank(s string) int {
	for i, x := range Suffixes {
		if x == s {
			return i + 1
		}
	}
	return 0
}

// chineseUnits are the characters that close a Chinese heading 第…条.
var chineseUnits = []struct {
	unit string
	kind Kind
}{{"部分", Part}, {"编", Part}, {"章", Chapter}, {"节", Section}, {"条", Article}}

// scanLine reads one line (without its line break) that starts at code point
// start. ok is false for a blank line.
func scanLine(s string, start int) (line, bool) {
	trimmed := strings.TrimLeft(s, " \t\u00a0\u3000")
	if strings.TrimSpace(trimmed) == "" {
		return line{}, false
	}
	indent := utf8.RuneCountInString(s[:len(s)-len(trimmed)])
	l := line{start: start, mark: start + indent, cls: clsPlain, kind: Preamble}
	switch {
	case readHeading(trimmed, &l):
	case readChinese(trimmed, &l):
	case readParagraph(trimmed, &l):
	case readSub(trimmed, &l):
	case readPP(trimmed, &l):
	}
	if l.cls != clsPlain {
		l.numFrom, l.numTo = utf8.RuneCountInString(trimmed[:l.numFrom]), utf8.RuneCountInString(trimmed[:l.numTo])
	}
	return l, true
}

// readHeading reads "Word Number [suffix][ sep Title]".
func readHeading(s string, l *line) bool {
	// "Article premier" / "ARTICLE PREMIER" (French: Article 1).
	for _, w := range []string{"Article premier", "ARTICLE PREMIER"} {
		if rest, ok := strings.CutPrefix(s, w); ok && (rest == "" || !isWordRune(firstRune(rest))) {
			title, ok := readTitle(rest)
			if !ok {
				return false
			}
			*l = line{start: l.start, mark: l.mark, cls: clsHeading, kind: Article, num: "premier", title: title,
				numFrom: len(w) - len("premier"), numTo: len(w)}
			return true
		}
	}
	sp := strings.IndexAny(s, " \t\u00a0")
	if sp <= 0 {
		return false
	}
	word := s[:sp]
	kind, ok := headingWords[word]
	if !ok {
		if kind, ok = upperWords[word]; !ok {
			return false
		}
	}
	rest := strings.TrimLeft(s[sp:], " \t\u00a0")
	from := len(s) - len(rest)
	num, rest, ok := readNumber(rest, kind)
	if !ok {
		return false
	}
	num, rest = readSuffix(num, rest)
	to := len(s) - len(rest)
	title, ok := readTitle(rest)
	if !ok {
		return false
	}
	*l = line{start: l.start, mark: l.mark, cls: clsHeading, kind: kind, num: num, title: title, numFrom: from, numTo: to}
	return true
}

// readNumber reads a heading's number: digits (ASCII or Arabic-Indic, with
// an optional French "er"), a Roman numeral in capitals, or a number word.
func readNumber(s string, kind Kind) (num, rest string, ok bool) {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isDigit(r) {
			break
		}
		i += size
	}
	if i > 0 {
		num, rest = s[:i], s[i:]
		if r, ok := strings.CutPrefix(rest, "er"); ok && (r == "" || !isWordRune(firstRune(r))) {
			num, rest = num+"er", r
		}
		return num, rest, rest == "" || !isWordRune(firstRune(rest)) || startsWithSuffix(rest)
	}
	for i < len(s) && strings.IndexByte("IVXLCDM", s[i]) >= 0 {
		i++
	}
	if i > 0 && (i == len(s) || !isWordRune(firstRune(s[i:]))) && kind != Article {
		return s[:i], s[i:], true
	}
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(s)
	}
	if end > 0 && numberWords[s[:end]] {
		return s[:end], s[end:], true
	}
	return "", s, false
}

// readSuffix reads " bis", " ter", ... after a number (with or without the
// blank), adding it to num as " bis".
func readSuffix(num, rest string) (string, string) {
	r := strings.TrimLeft(rest, " \u00a0")
	for _, x := range Suffixes {
		if after, ok := strings.CutPrefix(r, x); ok && (after == "" || !isWordRune(firstRune(after))) {
			return num + " " + x, after
		}
	}
	return num, rest
}

// readTitle reads what follows a heading's number: nothing, a separator
// ('.', ':', '-', '–', '—') and a title, or a blank and a title that does
// not start with a lowercase letter ("Article 17 of the Convention" is a
// sentence, not a heading).
func readTitle(rest string) (string, bool) {
	if strings.TrimSpace(rest) == "" {
		return "", true
	}
	t := strings.TrimLeft(rest, " \t\u00a0")
	for _, sep := range []string{".", ":", "-", "–", "—", "．", "："} {
		if after, ok := strings.CutPrefix(t, sep); ok {
			return strings.TrimSpace(after), true
		}
	}
	if len(t) == len(rest) {
		return "", false // no blank between the number and the title
	}
	r := firstRune(t)
	if unicode.IsLower(r) || unicode.IsDigit(r) || r == '(' || r == ',' || r == ';' {
		return "", false
	}
	return strings.TrimSpace(t), true
}

// readChinese reads 第十七条 [title] (also 第17条, 第一章, 第一部分).
func readChinese(s string, l *line) bool {
	rest, ok := strings.CutPrefix(s, "第")
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) {
		r, size := utf8.DecodeRuneInString(rest[i:])
		if !isDigit(r) && !strings.ContainsRune("〇零一二三四五六七八九十百千两", r) {
			break
		}
		i += size
	}
	if i == 0 {
		return false
	}
	num, after := rest[:i], rest[i:]
	for _, u := range chineseUnits {
		if t, ok := strings.CutPrefix(after, u.unit); ok {
			title := strings.TrimSpace(strings.TrimLeft(t, " \t\u00a0\u3000"))
			*l = line{start: l.start, mark: l.mark, cls: clsHeading, kind: u.kind, num: num, title: title,
				numFrom: len("第"), numTo: len("第") + i}
			return true
		}
	}
	return false
}

// readParagraph reads "2." or "2 bis." followed by a blank or the end of
// the line.
func readParagraph(s string, l *line) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 {
		return false
	}
	num, rest := readSuffix(s[:i], s[i:])
	after, ok := strings.CutPrefix(rest, ".")
	if !ok || (after != "" && !isBlank(firstRune(after))) {
		return false
	}
	l.cls, l.kind, l.num, l.numFrom, l.numTo = clsPara, Paragraph, num, 0, len(s)-len(rest)
	return true
}

// readSub reads "(a)", "(a bis)", "(iv)" or "a)" followed by a blank or the
// end of the line. Latin and Cyrillic letters.
func readSub(s string, l *line) bool {
	open := strings.HasPrefix(s, "(")
	body := s
	if open {
		body = s[1:]
	}
	close := strings.IndexByte(body, ')')
	if close <= 0 || close > 16 {
		return false
	}
	label, after := body[:close], body[close+1:]
	if after != "" && !isBlank(firstRune(after)) {
		return false
	}
	base, suffix, _ := strings.Cut(label, " ")
	if suffix != "" && suffixRank(suffix) == 0 {
		return false
	}
	letter := utf8.RuneCountInString(base) == 1 && isLetterLabel(firstRune(base))
	roman := isRoman(base)
	if !letter && !roman {
		return false
	}
	if !open && !letter {
		return false // "iv)" alone is too likely to be text
	}
	from := 0
	if open {
		from = 1
	}
	l.cls, l.kind, l.num, l.letter, l.roman = clsSub, Subparagraph, label, letter, roman
	l.numFrom, l.numTo = from, from+close
	return true
}

// readPP reads "PP3", "PP 3", "PP3." (a numbered preambular paragraph).
func readPP(s string, l *line) bool {
	rest, ok := strings.CutPrefix(s, "PP")
	if !ok {
		return false
	}
	rest = strings.TrimLeft(rest, " ")
	from := len(s) - len(rest)
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	num, after := readSuffix(rest[:i], rest[i:])
	l.numFrom, l.numTo = from, len(s)-len(after)
	after = strings.TrimPrefix(after, ".")
	if after != "" && !isBlank(firstRune(after)) {
		return false
	}
	l.cls, l.kind, l.num = clsPP, Preamble, num
	return true
}

func isLetterLabel(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'а' && r <= 'я')
}

// isRoman reports whether s is a lowercase Roman numeral from i to xxxix.
func isRoman(s string) bool {
	return romanValue(s) > 0
}

var romanOnes = []string{"", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"}

// romanValue is the value of the lowercase Roman numeral s (1 to 39), or 0.
func romanValue(s string) int {
	tens := 0
	for tens < 3 && strings.HasPrefix(s, "x") {
		s, tens = s[1:], tens+1
	}
	for v, r := range romanOnes {
		if s == r {
			if v == 0 && tens == 0 {
				return 0
			}
			return 10*tens + v
		}
	}
	return 0
}

// roman writes n (1 to 39) as a lowercase Roman numeral.
func roman(n int) string {
	return strings.Repeat("x", n/10) + romanOnes[n%10]
}

func isDigit(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= '٠' && r <= '٩') || (r >= '۰' && r <= '۹')
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\u00a0' || r == '\u3000' }

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}
