package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSidebarAtLaptopWidths: the four side tabs fit the sidebar at the
// usual laptop and projector widths (Provisions was cut off at 1280 px and
// choosing it scrolled the whole page sideways), and bracket cards name
// their place as delegates cite it ("Article 2, paragraph 1", not
// "Paragraph 1" for every article's first paragraph).
func TestSidebarAtLaptopWidths(t *testing.T) {
	e := newEnv(t)
	e.createDraft("ch-3", "Chapter III", "Chapter III. Means of implementation\n\n"+
		"Article 1 Scope\n1. This Chapter applies to [financial resources/the means of implementation].\n\n"+
		"Article 2 Financial resources\n1. States Parties [shall/should] provide resources.\n2 bis. Resources shall be [predictable/adequate].\n"+
		"3. The mechanism shall:\n(b) [ensure/provide] access;\n")
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	chair.open("ch-3")
	for _, w := range []int{1920, 1280, 1100, 1000} {
		chair.run(fmt.Sprintf("viewport %d", w), chromedp.EmulateViewport(int64(w), 800))
		chair.run("provisions tab", chromedp.Click(chromedp.ID("tab-provisions")))
		var fit struct {
			Tabs, Bar, PageScroll int
			Right, SidebarRight   float64
		}
		chair.eval(`(() => { const b = document.querySelector('.side-tabs'); const last = document.getElementById('tab-provisions');
			return { Tabs: b.scrollWidth, Bar: b.clientWidth, PageScroll: document.scrollingElement.scrollLeft,
				Right: last.getBoundingClientRect().right, SidebarRight: document.querySelector('.sidebar').getBoundingClientRect().right }; })()`, &fit)
		if fit.Tabs > fit.Bar || fit.Right > fit.SidebarRight+0.5 || fit.PageScroll != 0 {
			t.Errorf("at %d px the side tabs need %d px in %d (Provisions ends at %.0f, the sidebar at %.0f; page scrolled %d px sideways)",
				w, fit.Tabs, fit.Bar, fit.Right, fit.SidebarRight, fit.PageScroll)
		}
	}
	chair.run("brackets tab", chromedp.Click(chromedp.ID("tab-brackets")))
	chair.waitJS("four cards", `document.querySelectorAll('.groups li.group[data-group]').length === 4`, 10*time.Second)
	// A card rendered before the group is found in the editor's text says
	// "Show in the draft"; the next render names the place.
	const cardLabels = `[...document.querySelectorAll('.groups li.group .group-head button.linklike')].map((b) => b.textContent)`
	want := []string{"Article 1, paragraph 1", "Article 2, paragraph 1", "Article 2, paragraph 2 bis", "Article 2, paragraph 3 (b)"}
	var labels []string
	for deadline := time.Now().Add(patience * 10 * time.Second); ; {
		chair.eval(cardLabels, &labels)
		if fmt.Sprint(labels) == fmt.Sprint(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // poll the page again, as waitJS does
	}
	if fmt.Sprint(labels) != fmt.Sprint(want) {
		t.Errorf("card labels %q, want %q", labels, want)
	}
}

// TestAgreeingBracketedTextSaysWhere: the chair tries to agree a paragraph
// that still holds a bracket; the refusal says so in words (not "the open
// bracket group b0.52 at [52,75)") and selects the bracket in the draft.
func TestAgreeingBracketedTextSaysWhere(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-2", "Article 2", "Article 2 Finance\n1. Text.\n2 bis. Resources shall be [predictable/adequate].\n")
	chair := e.newPage("CHAIR", "Maria", "facilitator")
	chair.open("art-2")
	chair.run("provisions tab", chromedp.Click(chromedp.ID("tab-provisions")))
	chair.waitJS("outline", `document.querySelectorAll('.outline li.prov').length === 3`, 10*time.Second)
	chair.eval(`(() => { const li = [...document.querySelectorAll('li.prov')].find((l) => l.querySelector('button.linklike').textContent === '2 bis.');
		li.querySelector('details').open = true; li.querySelector('select').value = 'agreed'; li.querySelector('button[data-key$=":set"]').click(); return true; })()`, nil)
	chair.waitJS("the refusal", `[...document.querySelectorAll('.toast')].some((t) => t.textContent.includes('holds an open bracket'))`, 10*time.Second)
	var got struct{ Toasts, Selected string }
	chair.eval(`(() => { const v = window.__draftroom.view.view; const r = v.state.selection.main;
		return { Toasts: [...document.querySelectorAll('.toast')].map((t) => t.textContent).join(' | '), Selected: v.state.sliceDoc(r.from, r.to) }; })()`, &got)
	if want := "Paragraph 2 bis of article 2 holds an open bracket (selected in the draft); resolve it before agreeing the text"; !strings.Contains(got.Toasts, want) {
		t.Errorf("toasts %q, want %q", got.Toasts, want)
	}
	if got.Selected != "[predictable/adequate]" {
		t.Errorf("selected %q, want the bracket", got.Selected)
	}
}
