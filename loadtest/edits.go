package loadtest

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// phrases are what simulated drafters type: treaty language in the six UN
// languages and more, with emoji (astral code points, a flag made of two)
// and bracket characters, so that code-point counting, surrogate-free
// positions and right-to-left text are exercised on every run.
var phrases = []string{
	"shall ", "may ", "the Parties ", "developing countries ", "[shall][should] ",
	"les États parties ", "développement durable ", "à l'égard de ",
	"los países en desarrollo ", "según proceda ", "niños y niñas ",
	"الدول الأطراف ", "ينبغي ", "التنمية المستدامة ",
	"договаривающиеся стороны ", "устойчивое развитие ",
	"締約国は", "可持续发展", "各国应当", "Ελλάδα ", "ΚΥΡΩΣΗ ",
	"🌍", "😭", "🇨🇦", "👩🏽‍⚖️", "✅ ", "\n", ", ", ". ", "/", "[", "]",
}

// Editor makes realistic edits for one simulated drafter: short inserts
// (a word or a few code points of one) and deletes of a few code points,
// at random places, keeping the draft near a target length. It is not safe
// for concurrent use; each writer has its own.
type Editor struct {
	rng    *rand.Rand
	target int // the length the draft hovers around, in code points
}

// NewEditor returns an editor seeded with seed, keeping drafts near target
// code points.
func NewEditor(seed uint64, target int) *Editor {
	return &Editor{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), target: max(target, 1)}
}

// Next returns an edit of a text of n code points: an insert, or, when
// there is text, sometimes a delete (more often above the target length).
func (e *Editor) Next(n int) ot.Op {
	pDelete := 0.3
	if n > e.target {
		pDelete = 0.7
	}
	if n > 0 && e.rng.Float64() < pDelete {
		del := 1 + e.rng.IntN(min(8, n))
		pos := e.rng.IntN(n - del + 1)
		return skipThen(pos, ot.Delete(del))
	}
	s := phrases[e.rng.IntN(len(phrases))]
	if e.rng.IntN(3) == 0 {
		// A fragment: some typing is a few characters, not a whole word.
		runes := []rune(s)
		s = string(runes[:1+e.rng.IntN(len(runes))])
	}
	return skipThen(e.rng.IntN(n+1), ot.Insert(s))
}

// Text returns a starting text of about n code points made of phrases.
func (e *Editor) Text(n int) string {
	var b strings.Builder
	for count := 0; count < n; {
		s := phrases[e.rng.IntN(len(phrases))]
		b.WriteString(s)
		count += utf8.RuneCountInString(s)
	}
	return b.String()
}

func skipThen(pos int, c ot.Component) ot.Op {
	if pos == 0 {
		return ot.Op{c}
	}
	return ot.Op{ot.Skip(pos), c}
}
