package brackets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// describe renders a group compactly: span, kind, parent.alternative,
// alternatives with their spans.
func describe(g Group) string {
	var alts []string
	for _, a := range g.Alternatives {
		alts = append(alts, fmt.Sprintf("%d-%d:%q", a.Start, a.End, a.Text))
	}
	return fmt.Sprintf("%d-%d %s ^%d.%d %s", g.Start, g.End, g.Kind, g.Parent, g.ParentAlternative, strings.Join(alts, " "))
}

func TestParseForms(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		want  []string
		diags []string
	}{
		{"no brackets", "The Parties shall cooperate.", nil, nil},
		{"empty", "", nil, nil},
		{"optional", "States [shall] act", []string{`7-14 optional ^-1.-1 8-13:"shall"`}, nil},
		{"empty optional", "a [] b", []string{`2-4 optional ^-1.-1 3-3:""`}, nil},
		{"alternatives", "[shall/should/may]", []string{
			`0-18 alternatives ^-1.-1 1-6:"shall" 7-13:"should" 14-17:"may"`}, nil},
		{"empty alternative", "[the/]", []string{`0-6 alternatives ^-1.-1 1-4:"the" 5-5:""`}, nil},
		{"blank between: two groups", "[shall] [may]", []string{
			`0-7 optional ^-1.-1 1-6:"shall"`, `8-13 optional ^-1.-1 9-12:"may"`}, nil},
		{"touching: alternatives", "[shall][may]", []string{
			`0-12 alternatives ^-1.-1 1-6:"shall" 8-11:"may"`}, nil},
		{"blanks, tab and no-break space between: two groups", "[shall] \t\u00a0[may]", []string{
			`0-7 optional ^-1.-1 1-6:"shall"`, `10-15 optional ^-1.-1 11-14:"may"`}, nil},
		{"adjacent with or", "[shall] or [may] or [must/will]", []string{
			`0-31 alternatives ^-1.-1 1-6:"shall" 12-15:"may" 21-25:"must" 26-30:"will"`}, nil},
		{"or with a tab and no-break spaces", "[a]\tor\u00a0[b]", []string{
			`0-10 alternatives ^-1.-1 1-2:"a" 8-9:"b"`}, nil},
		{"or needs blanks", "[shall]or [may] [a] orb [b]", []string{
			`0-7 optional ^-1.-1 1-6:"shall"`,
			`10-15 optional ^-1.-1 11-14:"may"`,
			`16-19 optional ^-1.-1 17-18:"a"`,
			`24-27 optional ^-1.-1 25-26:"b"`}, nil},
		{"the compilation sentence", "States Parties [shall/should] [, in accordance with their national circumstances,] provide [new and additional] [financial] resources.", []string{
			`15-29 alternatives ^-1.-1 16-21:"shall" 22-28:"should"`,
			`30-82 optional ^-1.-1 31-81:", in accordance with their national circumstances,"`,
			`91-111 optional ^-1.-1 92-110:"new and additional"`,
			`112-123 optional ^-1.-1 113-122:"financial"`}, nil},
		{"mixed: slash, touching and or in one group", "[a/b][c] or [d]", []string{
			`0-15 alternatives ^-1.-1 1-2:"a" 3-4:"b" 6-7:"c" 13-14:"d"`}, nil},
		{"a word between: two groups", "[a] and [b]", []string{
			`0-3 optional ^-1.-1 1-2:"a"`, `8-11 optional ^-1.-1 9-10:"b"`}, nil},
		{"Or is not or", "[a] Or [b]", []string{`0-3 optional ^-1.-1 1-2:"a"`, `7-10 optional ^-1.-1 8-9:"b"`}, nil},
		{"newline separates", "[a]\n[b]", []string{`0-3 optional ^-1.-1 1-2:"a"`, `4-7 optional ^-1.-1 5-6:"b"`}, nil},
		{"comma separates", "[a], [b]", []string{`0-3 optional ^-1.-1 1-2:"a"`, `5-8 optional ^-1.-1 6-7:"b"`}, nil},
		{"nested", "[States Parties [shall/may] adopt]", []string{
			`0-34 optional ^-1.-1 1-33:"States Parties [shall/may] adopt"`,
			`16-27 alternatives ^0.0 17-22:"shall" 23-26:"may"`}, nil},
		{"nested in second alternative", "[a/b [c] d/e]", []string{
			`0-13 alternatives ^-1.-1 1-2:"a" 3-10:"b [c] d" 11-12:"e"`,
			`5-8 optional ^0.1 6-7:"c"`}, nil},
		{"nested several deep", "[1 [2 [3 [4/5] 3] 2] 1]", []string{
			`0-23 optional ^-1.-1 1-22:"1 [2 [3 [4/5] 3] 2] 1"`,
			`3-20 optional ^0.0 4-19:"2 [3 [4/5] 3] 2"`,
			`6-17 optional ^1.0 7-16:"3 [4/5] 3"`,
			`9-14 alternatives ^2.0 10-11:"4" 12-13:"5"`}, nil},
		{"nested adjacent", "[x [a] or [b] y]", []string{
			`0-16 optional ^-1.-1 1-15:"x [a] or [b] y"`,
			`3-13 alternatives ^0.0 4-5:"a" 11-12:"b"`}, nil},
		{"touching outer brackets with children", "[[a] x][y [b]]", []string{
			`0-14 alternatives ^-1.-1 1-6:"[a] x" 8-13:"y [b]"`,
			`1-4 optional ^0.0 2-3:"a"`,
			`10-13 optional ^0.1 11-12:"b"`}, nil},
		{"children of different parents never join", "[x [a]] or [[b] y]", []string{
			`0-18 alternatives ^-1.-1 1-6:"x [a]" 12-17:"[b] y"`,
			`3-6 optional ^0.0 4-5:"a"`,
			`12-15 optional ^0.1 13-14:"b"`}, nil},
		{"nested independent groups", "[x [a] [b] y]", []string{
			`0-13 optional ^-1.-1 1-12:"x [a] [b] y"`,
			`3-6 optional ^0.0 4-5:"a"`,
			`7-10 optional ^0.0 8-9:"b"`}, nil},
		{"slash outside brackets is text", "and/or [x]", []string{`7-10 optional ^-1.-1 8-9:"x"`}, nil},
		{"escaped slash", `[and\/or/or]`, []string{`0-12 alternatives ^-1.-1 1-8:"and\\/or" 9-11:"or"`}, nil},
		{"escaped brackets", `\[sic\] [a\]b]`, []string{`8-14 optional ^-1.-1 9-13:"a\\]b"`}, nil},
		{"escaped backslash", `[a\\/b]`, []string{`0-7 alternatives ^-1.-1 1-4:"a\\\\" 5-6:"b"`}, nil},
		{"lone backslash is text", `[a\b/c]`, []string{`0-7 alternatives ^-1.-1 1-4:"a\\b" 5-6:"c"`}, nil},
		{"trailing backslash", `[a]\`, []string{`0-3 optional ^-1.-1 1-2:"a"`}, nil},
		{"unclosed", "a [b c", nil, []string{"2 unclosed"}},
		{"unmatched", "a b] c", nil, []string{"3 unmatched"}},
		{"unclosed around a group", "[a [b] c", []string{`3-6 optional ^-1.-1 4-5:"b"`}, []string{"0 unclosed"}},
		{"unmatched after a group", "[a] b] [c", []string{`0-3 optional ^-1.-1 1-2:"a"`}, []string{"5 unmatched", "7 unclosed"}},
		{"several unclosed", "[[[", nil, []string{"0 unclosed", "1 unclosed", "2 unclosed"}},
		{"close before open", "][", nil, []string{"0 unmatched", "1 unclosed"}},
		{"slash in unclosed bracket is text", "[a/b", nil, []string{"0 unclosed"}},
		{"Arabic", "تعتمد الدول [الأطراف/الأعضاء] التدابير", []string{
			`12-29 alternatives ^-1.-1 13-20:"الأطراف" 21-28:"الأعضاء"`}, nil},
		{"Arabic, two groups", "تعتمد الدول [الأطراف] [المعنية] التدابير", []string{
			`12-21 optional ^-1.-1 13-20:"الأطراف"`, `22-31 optional ^-1.-1 23-30:"المعنية"`}, nil},
		{"Arabic or is not or", "[أ] أو [ب]", []string{`0-3 optional ^-1.-1 1-2:"أ"`, `7-10 optional ^-1.-1 8-9:"ب"`}, nil},
		{"Chinese", "缔约国[应/可]采取措施", []string{`3-8 alternatives ^-1.-1 4-5:"应" 6-7:"可"`}, nil},
		{"Chinese touching", "缔约国[应][可]采取措施", []string{`3-9 alternatives ^-1.-1 4-5:"应" 7-8:"可"`}, nil},
		{"Chinese 或 is not or", "缔约国[应]或[可]", []string{`3-6 optional ^-1.-1 4-5:"应"`, `7-10 optional ^-1.-1 8-9:"可"`}, nil},
		{"Chinese full-width brackets are text", "缔约国［应］", nil, nil},
		{"too deep", strings.Repeat("[", MaxDepth+2) + "x/y" + strings.Repeat("]", MaxDepth+2), deepWant(MaxDepth + 2), []string{fmt.Sprintf("%d too_deep", MaxDepth)}},
		{"emoji", "😀 [👍/👎] or [🤝] 😀", []string{`2-14 alternatives ^-1.-1 3-4:"👍" 5-6:"👎" 12-13:"🤝"`}, nil},
		{"combining marks", "[e\u0301/é]", []string{"0-6 alternatives ^-1.-1 1-3:\"e\u0301\" 4-5:\"é\""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Parse(tt.text)
			checkInvariants(t, tt.text, res)
			var got, diags []string
			for _, g := range res.Groups {
				got = append(got, describe(g))
			}
			for _, d := range res.Diagnostics {
				diags = append(diags, fmt.Sprintf("%d %s", d.Pos, d.Code))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("groups of %q:\n got %q\nwant %q", tt.text, got, tt.want)
			}
			if !slices.Equal(diags, tt.diags) {
				t.Errorf("diagnostics of %q: got %q, want %q", tt.text, diags, tt.diags)
			}
		})
	}
}

// deepWant describes the groups of n brackets nested around "x/y" when n >
// MaxDepth: MaxDepth optional groups, the innermost holding the rest as text.
func deepWant(n int) []string {
	var out []string
	for d := 0; d < MaxDepth; d++ {
		parent, alt := d-1, 0
		if d == 0 {
			alt = -1
		}
		inner := strings.Repeat("[", n-d-1) + "x/y" + strings.Repeat("]", n-d-1)
		out = append(out, fmt.Sprintf("%d-%d optional ^%d.%d %d-%d:%q", d, 2*n+3-d, parent, alt, d+1, 2*n+3-d-1, inner))
	}
	return out
}

func TestParseBrackets(t *testing.T) {
	res := Parse("x [a] or [b/c] y")
	if len(res.Groups) != 1 {
		t.Fatalf("got %d groups, want 1", len(res.Groups))
	}
	g := res.Groups[0]
	want := []Span{{2, 5}, {9, 14}}
	if !slices.Equal(g.Brackets, want) {
		t.Errorf("brackets %v, want %v", g.Brackets, want)
	}
	var owners []int
	for _, a := range g.Alternatives {
		owners = append(owners, a.Bracket)
	}
	if !slices.Equal(owners, []int{0, 1, 1}) {
		t.Errorf("alternatives belong to brackets %v, want [0 1 1]", owners)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ plain, escaped string }{
		{"shall", "shall"},
		{"and/or", `and\/or`},
		{"[sic]", `\[sic\]`},
		{`a\b`, `a\\b`},
		{`\[`, `\\\[`},
		{"中/文", `中\/文`},
	}
	for _, tt := range tests {
		if got := Escape(tt.plain); got != tt.escaped {
			t.Errorf("Escape(%q) = %q, want %q", tt.plain, got, tt.escaped)
		}
		if got := Unescape(tt.escaped); got != tt.plain {
			t.Errorf("Unescape(%q) = %q, want %q", tt.escaped, got, tt.plain)
		}
		// Escaped text inside a bracket is one plain alternative.
		res := Parse("[" + tt.escaped + "]")
		if len(res.Groups) != 1 || len(res.Groups[0].Alternatives) != 1 || res.Groups[0].Alternatives[0].Text != tt.escaped {
			t.Errorf("[%s] does not parse as one alternative: %+v", tt.escaped, res.Groups)
		}
	}
	// A lone backslash reads as itself.
	if got := Unescape(`a\b\`); got != `a\b\` {
		t.Errorf("Unescape of lone backslashes = %q", got)
	}
}

// reference is a second, recursive parser written for clarity, not speed:
// it finds the balanced pairs first, then reads groups level by level.
// FuzzParse compares Parse with it.
func reference(text string) []string {
	rs := []rune(text)
	// Pair brackets; escaped characters are plain.
	match := make([]int, len(rs))
	escaped := make([]bool, len(rs))
	var stack []int
	for i := 0; i < len(rs); i++ {
		match[i] = -1
		if rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune(`[]/\`, rs[i+1]) {
			escaped[i+1] = true
			match[i+1] = -1
			i++
			continue
		}
		switch rs[i] {
		case '[':
			stack = append(stack, i)
		case ']':
			if len(stack) > 0 {
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				match[o], match[i] = i, o
			}
		}
	}
	isOpen := func(i int) bool { return rs[i] == '[' && !escaped[i] && match[i] > i }
	var out []string
	// level reads the groups in rs[from:to), which hold no separator of an
	// enclosing bracket; parent/alt name the enclosing alternative.
	var level func(from, to, parent, alt, depth int)
	level = func(from, to, parent, alt, depth int) {
		if depth >= MaxDepth {
			return // brackets this deep are text
		}
		for i := from; i < to; i++ {
			if !isOpen(i) {
				continue
			}
			idx := len(out)
			out = append(out, "")
			start := i
			var alts []string
			type child struct{ from, to, alt int }
			var children []child
			n := 0
			for {
				// One bracket [i, match[i]]: split at its top-level slashes.
				depth, a := 0, i+1
				for j := i + 1; j <= match[i]; j++ {
					switch {
					case escaped[j]:
					case j == match[i] || (rs[j] == '/' && depth == 0):
						alts = append(alts, fmt.Sprintf("%d-%d:%q", a, j, string(rs[a:j])))
						children = append(children, child{a, j, n})
						n++
						a = j + 1
					case rs[j] == '[' && match[j] > j:
						depth++
					case rs[j] == ']' && match[j] >= 0 && match[j] < j:
						depth--
					}
				}
				end := match[i] + 1
				k := end
				for k < to && !isOpen(k) {
					k++
				}
				if k < to && refSeparator(string(rs[end:k])) {
					i = k
					continue
				}
				kind := Optional
				if len(alts) > 1 {
					kind = Alternatives
				}
				out[idx] = fmt.Sprintf("%d-%d %s ^%d.%d %s", start, end, kind, parent, alt, strings.Join(alts, " "))
				for _, c := range children {
					level(c.from, c.to, idx, c.alt, depth+1)
				}
				i = end - 1
				break
			}
		}
	}
	level(0, len(rs), -1, -1, 0)
	// Each group's slot is taken before its children are read, and its
	// children before its next sibling: pre-order, the order of Parse.
	return out
}

// refSeparator is the reference's reading of rule 4: nothing, or the word
// "or" with at least one blank on each side and nothing else.
func refSeparator(s string) bool {
	if s == "" {
		return true
	}
	blank := func(r rune) bool { return r == ' ' || r == '\t' || r == '\u00a0' || r == '\u202f' }
	before, after, ok := strings.Cut(s, "or")
	if !ok || before == "" || after == "" {
		return false
	}
	for _, r := range before + after {
		if !blank(r) {
			return false
		}
	}
	return true
}

func TestReferenceAgreesOnTable(t *testing.T) {
	for _, text := range []string{"[a [b] c/[d] or [e]] [f]", "[[[x]]]", `[a\/[b/c]/d]`, "[x [a]] [[b] y]"} {
		var got []string
		for _, g := range Parse(text).Groups {
			got = append(got, describe(g))
		}
		if want := reference(text); !slices.Equal(got, want) {
			t.Errorf("%q:\n Parse     %q\n reference %q", text, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "[a]", "[a/b] or [c]", "[States Parties [shall/may] adopt]", "][", `[a\/b\]/\\]`,
		"تعتمد [الأطراف/الأعضاء]", "缔约国[应/可]", "😀 [👍] [👎]", "[a [b] c", "[x [a]] [[b] y]", "\xff[\xfe]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		res := Parse(text)
		checkInvariants(t, text, res)
		// The reference reads runes, which turns each invalid byte into
		// U+FFFD: compare on that text (same length, same structure).
		text = string([]rune(text))
		var got []string
		for _, g := range Parse(text).Groups {
			got = append(got, describe(g))
		}
		if want := reference(text); !slices.Equal(got, want) {
			t.Fatalf("%q:\n Parse     %q\n reference %q", text, got, want)
		}
	})
}

// TestFuzzSeedsExist keeps the committed corpus honest: the regressions
// and seeds in testdata/fuzz are read by the ordinary test run.
func TestFuzzSeedsExist(t *testing.T) {
	for _, name := range []string{"FuzzParse", "FuzzTracker", "FuzzChange", "FuzzIndex"} {
		files, err := os.ReadDir(filepath.Join("testdata", "fuzz", name))
		if err != nil || len(files) == 0 {
			t.Errorf("testdata/fuzz/%s: no seeds (%v)", name, err)
		}
	}
}

func TestGroupSame(t *testing.T) {
	first := Parse("x [shall/may] y").Groups[0]
	tests := []struct {
		text string
		want bool
	}{
		{"more text before, x [shall/may] and after", true},
		{"[shall] or [may]", true},
		{"[shall/may/must]", false},
		{"[shall/might]", false},
		{"[shall]", false},
		{"[may/shall]", false},
	}
	for _, tt := range tests {
		res := Parse(tt.text)
		if got := first.Same(res.Groups[0]); got != tt.want {
			t.Errorf("Same(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestOutline(t *testing.T) {
	tests := []struct {
		text string
		g, k int
		want string
	}{
		{"[shall/may]", 0, 1, "may"},
		{"[States [shall/may] adopt/Each Party adopts]", 0, 0, "States […] adopt"},
		{"[States [shall/may] adopt/Each Party adopts]", 0, 1, "Each Party adopts"},
		{"[a [b [c]] d [e] or [f]/g]", 0, 0, "a […] d […]"},
		{"[a [b [c]] d]", 1, 0, "b […]"},
		{"[الدول [الأطراف/الأعضاء] 缔约国[应]]", 0, 0, "الدول […] 缔约国[…]"},
		{"[a]", 1, 0, ""},
		{"[a]", 0, 1, ""},
	}
	for _, tt := range tests {
		if got := Parse(tt.text).Outline(tt.g, tt.k); got != tt.want {
			t.Errorf("Outline(%d, %d) of %q = %q, want %q", tt.g, tt.k, tt.text, got, tt.want)
		}
	}
}

// TestOutlineLinear: the outlines of all the groups of deeply nested
// brackets add up to about the text's size, not depth times it.
func TestOutlineLinear(t *testing.T) {
	for _, n := range []int{MaxDepth, 20_000} {
		text := strings.Repeat("[a ", n) + strings.Repeat("]", n)
		res := Parse(text)
		total := 0
		for g := range res.Groups {
			for k := range res.Groups[g].Alternatives {
				total += len(res.Outline(g, k))
			}
		}
		if total > 2*len(text) {
			t.Errorf("%d deep: outlines of %d bytes for a text of %d", n, total, len(text))
		}
	}
}
