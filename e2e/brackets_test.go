package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestProposeNextToBracket (issue 13): a drafter selects words right after
// a bracket and proposes an alternative: a new group next to the existing
// one. A selection that cuts through a bracket is refused: the input is
// cleared, the reason stays on screen in plain words, the draft is
// unchanged, and the next proposal goes through.
func TestProposeNextToBracket(t *testing.T) {
	e := newEnv(t)
	const initial = "States Parties [shall] take measures [now]."
	e.createDraft("art-13", "Article 13", initial)
	can := e.newPage("CAN", "Ana", "drafter")
	can.open("art-13")
	can.waitJS("two groups in the panel", `document.querySelectorAll('.groups li.group[data-group]').length === 2`, 10*time.Second)

	sel := func(from, to int) {
		can.eval(`(() => { const v = window.__draftroom.view.view; v.dispatch({ selection: { anchor: `+itoa(from)+`, head: `+itoa(to)+` } }); return true; })()`, nil)
	}
	from := strings.Index(initial, "take measures")
	sel(from, from+len("take measures"))
	can.run("propose adopt steps", chromedp.SendKeys(chromedp.ID("propose-text"), "adopt steps\r"))
	want := "States Parties [shall] [take measures/adopt steps] [now]."
	can.waitJS("wrapped next to the bracket", `window.__draftroom.view.view.state.doc.toString() === `+jsString(want), 10*time.Second)
	can.waitJS("three groups in the panel", `document.querySelectorAll('.groups li.group[data-group]').length === 3`, 10*time.Second)
	if d := e.settle("art-13", can); d.Text != want {
		t.Fatalf("server text %q, want %q", d.Text, want)
	}

	// A selection from inside [now] to the full stop cuts through it.
	at := strings.Index(want, "ow].")
	sel(at, at+len("ow]."))
	can.run("propose later", chromedp.SendKeys(chromedp.ID("propose-text"), "later\r"))
	can.waitJS("the refusal in words", `(() => { const r = document.getElementById('propose-refusal');
		return r && !r.hidden && r.textContent.includes('“later” was not proposed') && r.textContent.includes('cuts through a bracket'); })()`, 10*time.Second)
	can.waitJS("the input cleared", `document.getElementById('propose-text').value === ''`, 5*time.Second)
	if d := e.settle("art-13", can); d.Text != want {
		t.Fatalf("a refused proposal changed the draft: %q", d.Text)
	}

	// The next proposal goes through, and the refusal goes away.
	can.cursorAt(strings.Index(want, "[shall") + 2)
	can.run("propose should", chromedp.SendKeys(chromedp.ID("propose-text"), "should\r"))
	want = "States Parties [shall/should] [take measures/adopt steps] [now]."
	can.waitJS("alternative added", `window.__draftroom.view.view.state.doc.toString() === `+jsString(want), 10*time.Second)
	can.waitJS("the refusal hidden", `document.getElementById('propose-refusal').hidden`, 5*time.Second)
	e.settle("art-13", can)
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
