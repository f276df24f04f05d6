package brackets

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// checkChange asserts what every Change promises: Op applied to the parsed
// text gives NewText, and Op is in normal form.
func checkChange(t *testing.T, text string, ch Change) {
	t.Helper()
	got, err := applyOp(text, ch.Op)
	if err != nil {
		t.Fatalf("apply %v to %q: %v", ch.Op, text, err)
	}
	if got != ch.NewText {
		t.Fatalf("op gives %q, NewText is %q", got, ch.NewText)
	}
	// The same through the ot package, and in its normal form.
	if err := ch.Op.Check(); err != nil {
		t.Fatalf("op %v: %v", ch.Op, err)
	}
	if got, err := ot.Apply(text, ch.Op); err != nil || got != ch.NewText {
		t.Fatalf("ot.Apply(%q, %v) = %q, %v; want %q", text, ch.Op, got, err, ch.NewText)
	}
	if n := ot.Normalize(ch.Op); !reflect.DeepEqual(n, ch.Op) {
		t.Fatalf("op %v is not normal: %v", ch.Op, n)
	}
	for i, c := range ch.Op {
		if i > 0 {
			p := ch.Op[i-1]
			if (p.Skip > 0 && c.Skip > 0) || (p.Insert != "" && c.Insert != "") || (p.Delete > 0 && c.Delete > 0) {
				t.Fatalf("op %v not normal: components %d and %d merge", ch.Op, i-1, i)
			}
		}
		if c.Delete > 0 && utf8.RuneCountInString(c.Deleted) != c.Delete {
			t.Fatalf("op %v: delete %d carries %q", ch.Op, c.Delete, c.Deleted)
		}
	}
	if n := len(ch.Op); n > 0 && ch.Op[n-1].Skip > 0 {
		t.Fatalf("op %v ends with a skip", ch.Op)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		group  int
		res    Resolution
		want   string
		result string
	}{
		{"choose first", "States [shall/may] act", 0, Resolution{Choice: ChoiceChoose}, "States shall act", "shall"},
		{"choose last", "States [shall/may] act", 0, Resolution{Choice: ChoiceChoose, Index: 1}, "States may act", "may"},
		{"choose in adjacent", "States [shall] or [may] act", 0, Resolution{Choice: ChoiceChoose, Index: 1}, "States may act", "may"},
		{"keep optional", "adopt [all] measures", 0, Resolution{Choice: ChoiceChoose}, "adopt all measures", "all"},
		{"drop optional", "adopt [all] measures", 0, Resolution{Choice: ChoiceDrop}, "adopt  measures", ""},
		{"drop before period", "adopt measures [forthwith].", 0, Resolution{Choice: ChoiceDrop}, "adopt measures .", ""},
		{"drop at end", "adopt measures [forthwith]", 0, Resolution{Choice: ChoiceDrop}, "adopt measures ", ""},
		{"drop at start", "[All] measures", 0, Resolution{Choice: ChoiceDrop}, " measures", ""},
		{"drop after parenthesis", "([all] measures)", 0, Resolution{Choice: ChoiceDrop}, "( measures)", ""},
		{"drop keeps a lone backslash", `a\ [b]]`, 0, Resolution{Choice: ChoiceDrop}, `a\ ]`, ""},
		{"drop with no spaces", "a[b]c", 0, Resolution{Choice: ChoiceDrop}, "ac", ""},
		{"choose empty alternative", "adopt [the/] measures", 0, Resolution{Choice: ChoiceChoose, Index: 1}, "adopt  measures", ""},
		{"compromise", "States [shall/may] act", 0, Resolution{Choice: ChoiceCompromise, Text: "should, where appropriate,"},
			"States should, where appropriate, act", "should, where appropriate,"},
		{"compromise is escaped", "X [a/b] Y", 0, Resolution{Choice: ChoiceCompromise, Text: "[sic] and/or"},
			`X \[sic\] and/or Y`, `\[sic\] and/or`},
		{"nested compromise escapes slashes", "[States [a/b] adopt/c]", 1, Resolution{Choice: ChoiceCompromise, Text: "and/or"},
			`[States and\/or adopt/c]`, `and\/or`},
		{"choose keeps nested groups", "[States Parties [shall/may] adopt/No one adopts]", 0, Resolution{Choice: ChoiceChoose},
			"States Parties [shall/may] adopt", "States Parties [shall/may] adopt"},
		{"choose nested", "[States Parties [shall/may] adopt]", 1, Resolution{Choice: ChoiceChoose, Index: 1},
			"[States Parties may adopt]", "may"},
		{"drop nested before close", "[x [y]]", 1, Resolution{Choice: ChoiceDrop}, "[x ]", ""},
		{"top level unescapes slashes", `a [and\/or [x\/y]/or] b`, 0, Resolution{Choice: ChoiceChoose},
			`a and/or [x\/y] b`, `and/or [x\/y]`},
		{"nested keeps escaped slashes", `[a [and\/or/or] b/c]`, 1, Resolution{Choice: ChoiceChoose},
			`[a and\/or b/c]`, `and\/or`},
		{"multilingual", "الدول [الأطراف/الأعضاء] 缔约国[应/可]😀", 1, Resolution{Choice: ChoiceChoose, Index: 1},
			"الدول [الأطراف/الأعضاء] 缔约国可😀", "可"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Parse(tt.text)
			ch, err := res.Resolve(tt.group, tt.res)
			if err != nil {
				t.Fatal(err)
			}
			checkChange(t, tt.text, ch)
			if ch.NewText != tt.want || ch.Text != tt.result {
				t.Errorf("got %q (result %q), want %q (result %q)", ch.NewText, ch.Text, tt.want, tt.result)
			}
			if ch.Alternative != -1 || ch.Open != -1 {
				t.Errorf("Alternative %d Open %d, want -1 -1", ch.Alternative, ch.Open)
			}
		})
	}
}

func TestResolveKeepsIdentities(t *testing.T) {
	// Choosing keeps the chosen text in place: the nested group keeps its
	// id through the resolution.
	text := "[States [shall/may] adopt/nobody adopts]"
	tr := NewTracker(text)
	res, err := List(text, tr)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := res.Resolve(0, Resolution{Choice: ChoiceChoose})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Apply(ch.Op, 1); err != nil {
		t.Fatal(err)
	}
	after, err := List(ch.NewText, tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Groups) != 1 || after.Groups[0].ID != res.Groups[1].ID {
		t.Errorf("nested group %s became %+v", res.Groups[1].ID, after.Groups)
	}
}

func TestResolveErrors(t *testing.T) {
	res := Parse("a [b/c] [d]x")
	tests := []struct {
		group int
		res   Resolution
		want  error
	}{
		{2, Resolution{Choice: ChoiceChoose}, ErrNoGroup},
		{-1, Resolution{Choice: ChoiceChoose}, ErrNoGroup},
		{0, Resolution{Choice: ChoiceChoose, Index: 3}, ErrChoice},
		{0, Resolution{Choice: ChoiceChoose, Index: -1}, ErrChoice},
		{0, Resolution{Choice: ChoiceDrop}, ErrChoice},
		{0, Resolution{Choice: "pick"}, ErrChoice},
		{0, Resolution{Choice: ChoiceCompromise, Text: "\xff"}, ErrText},
	}
	for _, tt := range tests {
		if _, err := res.Resolve(tt.group, tt.res); !errors.Is(err, tt.want) {
			t.Errorf("Resolve(%d, %+v): %v, want %v", tt.group, tt.res, err, tt.want)
		}
	}
}

func TestPropose(t *testing.T) {
	tests := []struct {
		name, text string
		group      int
		proposal   string
		want       string
		alt        int
	}{
		{"alternatives", "States [shall/may] act", 0, "must", "States [shall/may/must] act", 2},
		{"optional becomes alternatives", "adopt [all] measures", 0, "the", "adopt [all/the] measures", 1},
		{"adjacent with or", "[shall] or [may]", 0, "must", "[shall] or [may] or [must]", 2},
		{"touching", "[shall][may/might] x", 0, "must", "[shall][may/might][must] x", 3},
		{"next to an independent group", "[shall] [may/might] x", 1, "must", "[shall] [may/might/must] x", 2},
		{"escaped", "[a]", 0, "and/or [sic]", `[a/and\/or \[sic\]]`, 1},
		{"empty alternative", "[a/b]", 0, "", "[a/b/]", 2},
		{"nested", "[x [a/b] y]", 1, "c", "[x [a/b/c] y]", 2},
		{"multilingual", "缔约国[应] 或 [可]😀", 1, "必须", "缔约国[应] 或 [可/必须]😀", 1},
		{"emoji separator", "😀[a]\u00a0or\u00a0[b]😀", 0, "🤝", "😀[a]\u00a0or\u00a0[b]\u00a0or\u00a0[🤝]😀", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Parse(tt.text)
			ch, err := res.Propose(tt.group, tt.proposal)
			if err != nil {
				t.Fatal(err)
			}
			checkChange(t, tt.text, ch)
			if ch.NewText != tt.want || ch.Alternative != tt.alt {
				t.Errorf("got %q alternative %d, want %q alternative %d", ch.NewText, ch.Alternative, tt.want, tt.alt)
			}
			after := Parse(ch.NewText)
			g := after.Groups[tt.group]
			if len(after.Groups) != len(res.Groups) || g.Start != res.Groups[tt.group].Start ||
				len(g.Alternatives) != tt.alt+1 || Unescape(g.Alternatives[tt.alt].Text) != tt.proposal {
				t.Errorf("after proposing: %+v", g)
			}
		})
	}
	if _, err := Parse("[a]").Propose(1, "x"); !errors.Is(err, ErrNoGroup) {
		t.Errorf("Propose on no group: %v", err)
	}
	if _, err := Parse("[a]").Propose(0, "\xff"); !errors.Is(err, ErrText) {
		t.Errorf("Propose invalid UTF-8: %v", err)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		start, end int
		proposal   string
		want       string
		alt        int
	}{
		{"plain", "States shall act", 7, 12, "may", "States [shall/may] act", 1},
		{"slashes in span escaped", "the and/or rule", 4, 10, "or", `the [and\/or/or] rule`, 1},
		{"proposal escaped", "x y z", 2, 3, "a/b", `x [y/a\/b] z`, 1},
		{"empty proposal makes optional", "adopt all measures", 6, 9, "", "adopt [all] measures", 0},
		{"empty span inserts optional", "adopt measures", 6, 6, "all ", "adopt [all ]measures", 0},
		{"holding a group", "States [shall] act now", 7, 18, "must act", "States [[shall] act/must act] now", 1},
		{"inside an alternative", "[States shall act/b]", 8, 13, "may", "[States [shall/may] act/b]", 1},
		{"nested slashes stay", "x [a/b] y and/or", 0, 16, "z", `[x [a/b] y and\/or/z]`, 1},
		{"Arabic", "تعتمد الدول التدابير", 6, 11, "الأطراف", "تعتمد [الدول/الأطراف] التدابير", 1},
		{"after an escaped backslash", `a\\b`, 3, 4, "c", `a\\[b/c]`, 1},
		{"next to a group", "States [shall] take measures", 15, 28, "adopt steps", "States [shall] [take measures/adopt steps]", 1},
		{"before a group", "take measures [now]", 0, 13, "act", "[take measures/act] [now]", 1},
		{"between two groups", "[a] x [b]", 4, 5, "", "[a] [x] [b]", 0},
		{"next to an or that is not a separator", "[a] or, b", 8, 9, "c", "[a] or, [b/c]", 1},
		{"nested next to a group", "[x [a] y z]", 7, 8, "w", "[x [a] [y/w] z]", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Parse(tt.text)
			ch, err := res.Wrap(tt.start, tt.end, tt.proposal)
			if err != nil {
				t.Fatal(err)
			}
			checkChange(t, tt.text, ch)
			if ch.NewText != tt.want || ch.Alternative != tt.alt || ch.Open != 0 {
				t.Errorf("got %q alternative %d open %d, want %q alternative %d open 0", ch.NewText, ch.Alternative, ch.Open, tt.want, tt.alt)
			}
			// The new group's id comes from Open.
			tr := NewTracker(tt.text)
			if err := tr.Apply(ch.Op, 1); err != nil {
				t.Fatal(err)
			}
			after, err := List(ch.NewText, tr)
			if err != nil {
				t.Fatal(err)
			}
			if i := after.Find(ID{Rev: 1, K: ch.Open}.String()); i < 0 || after.Groups[i].Start != tt.start {
				t.Errorf("no new group b1.%d at %d: %+v", ch.Open, tt.start, after.Groups)
			}
		})
	}
}

func TestWrapErrors(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		start, end int
		proposal   string
		want       error
	}{
		{"past end", "abc", 1, 4, "x", ErrSpan},
		{"negative", "abc", -1, 2, "x", ErrSpan},
		{"reversed", "abc", 2, 1, "x", ErrSpan},
		{"crosses a group", "a [b] c", 0, 3, "x", ErrSpan},
		{"crosses a separator", "[ab/cd]", 2, 5, "x", ErrSpan},
		{"holds an unmatched bracket", "a ] b", 0, 5, "x", ErrSpan},
		{"holds an unclosed bracket", "a [ b", 0, 5, "x", ErrSpan},
		{"after a lone backslash", `a\b`, 2, 3, "x", ErrSpan},
		{"ends in a lone backslash", `ab\`, 0, 3, "x", ErrSpan},
		{"would touch the group before", "[a]b", 3, 4, "x", ErrSpan},
		{"would join the group before with or", "[a] or b", 7, 8, "x", ErrSpan},
		{"joins the group after", "a or [b]", 0, 1, "x", ErrSpan},
		{"empty everything", "abc", 1, 1, "", ErrText},
		{"invalid UTF-8", "abc", 1, 2, "\xff", ErrText},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.text).Wrap(tt.start, tt.end, tt.proposal); !errors.Is(err, tt.want) {
			t.Errorf("%s: Wrap(%d, %d) = %v, want %v", tt.name, tt.start, tt.end, err, tt.want)
		}
	}
}

// FuzzChange resolves every group of a fuzzed text every way, and wraps a
// fuzzed span: each op must apply to give NewText, and structure must
// change exactly as promised.
func FuzzChange(f *testing.F) {
	f.Add("States [shall/may] adopt [all] measures.", 3, 9, "x/y")
	f.Add("[a [b/c] d] or [e]", 0, 0, "")
	f.Add(`x [and\/or] y \\ z`, 14, 17, "[w]")
	f.Add("الدول [الأطراف/الأعضاء] 缔约国[应/可]😀", 1, 4, "可")
	f.Fuzz(func(t *testing.T, text string, start, end int, proposal string) {
		if !utf8.ValidString(text) {
			return // drafts are valid UTF-8; ops could not carry the rest
		}
		tr := NewTracker(text)
		res, err := List(text, tr)
		if err != nil {
			t.Fatal(err)
		}
		// idsAfter applies a change to a copy of the tracker and returns the
		// ids of the groups of the new text.
		idsAfter := func(ch Change) map[string]bool {
			c := tr.Clone()
			if err := c.Apply(ch.Op, 1); err != nil {
				t.Fatalf("tracker: %v", err)
			}
			after, err := List(ch.NewText, c)
			if err != nil {
				t.Fatalf("%q → %q: %v", text, ch.NewText, err)
			}
			ids := map[string]bool{}
			for _, g := range after.Groups {
				ids[g.ID] = true
			}
			return ids
		}
		for g := range res.Groups {
			var choices []Resolution
			for k := range res.Groups[g].Alternatives {
				choices = append(choices, Resolution{Choice: ChoiceChoose, Index: k})
			}
			choices = append(choices, Resolution{Choice: ChoiceDrop}, Resolution{Choice: ChoiceCompromise, Text: proposal})
			for _, c := range choices {
				ch, err := res.Resolve(g, c)
				if err != nil {
					if !errors.Is(err, ErrChoice) && !errors.Is(err, ErrText) {
						t.Fatalf("Resolve(%d, %+v): %v", g, c, err)
					}
					continue
				}
				checkLocal(t, text, res.Groups[g], ch)
				after := Parse(ch.NewText)
				if hasTooDeep(res) || hasTooDeep(after) {
					continue // brackets too deep come up as groups, or go down as text
				}
				// The group and its descendants go; the chosen alternative's
				// groups stay; nothing else changes.
				lost := 0
				for h := g; h < len(res.Groups); h++ {
					if h != g && res.Groups[h].Start >= res.Groups[g].End {
						break
					}
					inside := h != g
					if inside && c.Choice == ChoiceChoose {
						a := res.Groups[g].Alternatives[c.Index]
						inside = !(res.Groups[h].Start >= a.Start && res.Groups[h].End <= a.End)
					}
					if h == g || inside {
						lost++
					}
				}
				// The group (and what it held but was not kept) goes. Groups
				// can merge where the kept text meets its surroundings ("[[a]
				// ]or [b]" choosing "[a] " gives "[a] or [b]"), as ordinary
				// typing can merge them, so there may be fewer; never more.
				// A merged group has the id of its first bracket, so every
				// id listed afterwards is one of the survivors' ids, and
				// without a merge every survivor keeps its id.
				ids := idsAfter(ch)
				survivors := map[string]bool{}
				for _, hg := range res.Groups {
					survives := hg.End <= res.Groups[g].Start || hg.Start >= res.Groups[g].End ||
						(hg.Start < res.Groups[g].Start && hg.End >= res.Groups[g].End)
					if c.Choice == ChoiceChoose {
						a := res.Groups[g].Alternatives[c.Index]
						survives = survives || (hg.Start >= a.Start && hg.End <= a.End)
					}
					if survives {
						survivors[hg.ID] = true
					}
				}
				if len(survivors) != len(res.Groups)-lost {
					t.Fatalf("test bug: %d survivors, %d groups, %d lost", len(survivors), len(res.Groups), lost)
				}
				for id := range ids {
					if !survivors[id] {
						t.Fatalf("%q resolved %+v to %q: new group id %s", text, c, ch.NewText, id)
					}
				}
				if len(ids) == len(survivors) {
					for id := range survivors {
						if !ids[id] {
							t.Fatalf("%q resolved %+v to %q: group %s lost its id", text, c, ch.NewText, id)
						}
					}
				}
				if len(after.Groups) > len(survivors) || len(after.Diagnostics) != len(res.Diagnostics) {
					t.Fatalf("%q resolved %+v to %q: %d groups, %d diagnostics; had %d, %d, lost %d",
						text, c, ch.NewText, len(after.Groups), len(after.Diagnostics), len(res.Groups), len(res.Diagnostics), lost)
				}
			}
			ch, err := res.Propose(g, proposal)
			if !utf8.ValidString(proposal) {
				if !errors.Is(err, ErrText) {
					t.Fatalf("Propose(%q): %v, want ErrText", proposal, err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			checkChange(t, text, ch)
			after := Parse(ch.NewText)
			if len(after.Groups) != len(res.Groups) || len(after.Groups[g].Alternatives) != ch.Alternative+1 ||
				Unescape(after.Groups[g].Alternatives[ch.Alternative].Text) != proposal {
				t.Fatalf("%q proposed %q: %q", text, proposal, ch.NewText)
			}
			if ids := idsAfter(ch); len(ids) != len(res.Groups) || !ids[res.Groups[g].ID] {
				t.Fatalf("%q proposed %q: ids %v", text, proposal, ids)
			}
		}
		// Out-of-range spans are covered by TestWrapErrors; fold the fuzzed
		// numbers into the text so that most spans are worth wrapping.
		if start < 0 || start > res.Len {
			start = int(uint(start) % uint(res.Len+1))
		}
		if end < start || end > res.Len {
			end = start + int(uint(end)%uint(res.Len+1-start))
		}
		ch, err := res.Wrap(start, end, proposal)
		if err != nil {
			if !errors.Is(err, ErrSpan) && !errors.Is(err, ErrText) {
				t.Fatalf("Wrap: %v", err)
			}
			return
		}
		checkChange(t, text, ch)
		after := Parse(ch.NewText)
		if hasTooDeep(res) || hasTooDeep(after) {
			return
		}
		if len(after.Groups) != len(res.Groups)+1 || len(after.Diagnostics) != len(res.Diagnostics) {
			t.Fatalf("%q wrapped [%d,%d) with %q: %q", text, start, end, proposal, ch.NewText)
		}
		// The span reads the same inside its new bracket, and the proposal
		// is its last alternative.
		found := false
		for _, g := range after.Groups {
			if g.Start != start {
				continue
			}
			found = true
			alts := g.Alternatives
			if start != end && Unescape(alts[0].Text) != Unescape(runes(text, start, end)) {
				t.Fatalf("span %q became %q", runes(text, start, end), alts[0].Text)
			}
			if (start == end || proposal != "") && Unescape(alts[len(alts)-1].Text) != proposal {
				t.Fatalf("proposal %q became %q", proposal, alts[len(alts)-1].Text)
			}
		}
		if !found {
			t.Fatalf("no group at %d in %q", start, ch.NewText)
		}
		ids := idsAfter(ch)
		for _, g := range res.Groups {
			if !ids[g.ID] {
				t.Fatalf("wrapping [%d,%d) of %q lost group %s", start, end, text, g.ID)
			}
		}
		if !ids[ID{Rev: 1, K: ch.Open}.String()] {
			t.Fatalf("wrapping [%d,%d) of %q: no group b1.%d in %v", start, end, text, ch.Open, ids)
		}
	})
}

// randomText builds a text from pieces that exercise every form of the
// grammar: touching brackets, "or", blanks, nesting, escapes, other scripts.
func randomText(rng *rand.Rand) string {
	pieces := []string{"[", "]", "/", " ", " or ", "or", "a", "中文", "الدول", "😀", `\`, `\[`, `\/`,
		"[x]", "[a/b]", "[a] or [b]", "[a][b]", "[a] [b]", "[p [q/r] s]", "\t", "\u00a0", ".", "\n"}
	var b strings.Builder
	for n := rng.IntN(30); n >= 0; n-- {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// TestResolveLocality: resolving a group, whichever way, changes the text
// between its outermost brackets and nothing else: the bytes before its
// first '[' and after its last ']' are identical. Checked for every group
// of every random text.
func TestResolveLocality(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2026))
	groups := 0
	for range 3000 {
		text := randomText(rng)
		res := Parse(text)
		for g, grp := range res.Groups {
			groups++
			choices := []Resolution{{Choice: ChoiceDrop}, {Choice: ChoiceCompromise, Text: "x/[y] z"}}
			for k := range grp.Alternatives {
				choices = append(choices, Resolution{Choice: ChoiceChoose, Index: k})
			}
			for _, c := range choices {
				ch, err := res.Resolve(g, c)
				if err != nil {
					if errors.Is(err, ErrChoice) {
						continue
					}
					t.Fatalf("%q: Resolve(%d, %+v): %v", text, g, c, err)
				}
				checkLocal(t, text, grp, ch)
			}
		}
	}
	if groups < 3000 {
		t.Fatalf("only %d groups in the random texts: the test checks too little", groups)
	}
}

// checkLocal asserts that ch, a resolution of grp in text, keeps the text
// before and after the group's span byte for byte.
func checkLocal(t *testing.T, text string, grp Group, ch Change) {
	t.Helper()
	checkChange(t, text, ch)
	before, after := runes(text, 0, grp.Start), runes(text, grp.End, utf8.RuneCountInString(text))
	if !strings.HasPrefix(ch.NewText, before) || !strings.HasSuffix(ch.NewText, after) ||
		len(ch.NewText) < len(before)+len(after) {
		t.Fatalf("%q: resolving group [%d,%d) gave %q: the text around the group changed", text, grp.Start, grp.End, ch.NewText)
	}
	if ch.Start != grp.Start || ch.End != grp.End {
		t.Fatalf("%q: change concerns [%d,%d), group is [%d,%d)", text, ch.Start, ch.End, grp.Start, grp.End)
	}
}

func hasTooDeep(res Result) bool {
	for _, d := range res.Diagnostics {
		if d.Code == DiagTooDeep {
			return true
		}
	}
	return false
}
