package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var shotsDir = flag.String("shots", "", "write screenshots of the main views into this directory (e.g. ../docs/screenshots)")

// TestScreenshotsOfTheMainViews drives a small negotiation and captures
// the views a delegate sees: the editor with Arabic and search open, the
// screen view, history coloured by delegation with the timeline, changes
// since a version, the drafts list, a tablet and the token screen is in
// TestTokenScreen's territory (tokens need a token server). Each capture
// must be a real picture (not a blank page); with -shots they are kept.
func TestScreenshotsOfTheMainViews(t *testing.T) {
	e := newEnv(t)
	text := "Article 5. Conservation measures\n\n" +
		"1. The Parties [shall/should] take [all appropriate/the necessary] measures to conserve marine biological diversity in areas beyond national jurisdiction.\n\n" +
		"2. تتخذ الدول الأطراف [التدابير/الإجراءات] اللازمة لحماية التنوع البيولوجي البحري.\n\n" +
		"3. Each Party shall report to the Conference of the Parties [every two years/periodically] on the implementation of this Article.\n\n" +
		"4. Les Parties [devraient/doivent] coopérer avec les organisations régionales."
	e.as = [3]string{"CHAIR", "Maria Lopes", "facilitator"}
	e.createDraft("art-5", "Article 5 — Conservation", text)
	e.createDraft("art-6", "Article 6 — Capacity building", "The Parties [shall/may] cooperate.")
	e.createDraft("annex-1", "Annex I — Definitions", "For the purposes of this Agreement: [\"marine genetic resources\"/\"genetic material\"] means …")
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	can := e.newPage("CAN", "Ana Silva", "drafter")
	egy := e.newPage("EGY", "Omar Haddad", "drafter")
	for _, p := range []*page{chair, can, egy} {
		p.open("art-5")
	}
	can.eval(`(() => { const v = window.__draftroom.view.view; v.dispatch({ selection: { anchor: v.state.doc.toString().indexOf('on the implementation') } }); v.focus(); return true; })()`, nil)
	if err := typeText(can.ctx, "and publicly "); err != nil {
		t.Fatal(err)
	}
	egy.cursorAt(-1)
	e.settleChanged("art-5", text, chair, can, egy)
	dir := *shotsDir
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(p *page, name string) {
		t.Helper()
		p.run("settle "+name, chromedp.Evaluate[chromedp.Void](`document.getElementById('toasts')?.remove()`), chromedp.Sleep(400*time.Millisecond))
		png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if len(png) < 10_000 {
			t.Fatalf("screenshot %s is %d bytes: blank?", name, len(png))
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The editor, Ctrl+F open on a word.
	chair.cursorAt(0)
	chair.run("Ctrl+F", chromedp.KeyEvent("f", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	if err := typeText(chair.ctx, "Parties"); err != nil {
		t.Fatal(err)
	}
	chair.waitJS("count", `/of [0-9]+/.test(document.querySelector('.search-count').textContent)`, 5*time.Second)
	shot(chair, "editor-search")
	chair.eval(`(() => { document.querySelector('.search-panel button[aria-label="Close search"]').click(); return true; })()`, nil)

	// History: coloured by delegation, the timeline, changes since.
	chair.run("history", chromedp.Click(chromedp.ID("tab-history")), chromedp.Click(chromedp.ID("authors-toggle")))
	chair.waitJS("coloured", `document.querySelectorAll('.history-host .cm-author').length > 0 && document.querySelectorAll('.timeline .tl-item').length > 0`, 10*time.Second)
	shot(chair, "history-authors")
	chair.eval(`(() => { document.querySelector('.history-banner button').click(); const s = document.getElementById('since'); s.value = 'ago:3600000'; s.dispatchEvent(new Event('change')); return true; })()`, nil)
	chair.waitJS("changes since", `document.querySelectorAll('.editor-host .cm-chg-ins').length > 0`, 10*time.Second)
	shot(chair, "changes-since")

	// People tab.
	chair.run("people", chromedp.Click(chromedp.ID("tab-people")))
	shot(chair, "people")

	// The screen view.
	chair.eval(`(() => { location.hash = '#/d/art-5/screen'; return true; })()`, nil)
	chair.waitJS("screen", `!!document.querySelector('.draft-page.screen .cm-line')`, 10*time.Second)
	shot(chair, "screen")

	// The drafts list.
	chair.eval(`(() => { location.hash = '#/'; return true; })()`, nil)
	chair.waitJS("list", `document.querySelectorAll('table.drafts tbody tr').length === 3`, 10*time.Second)
	shot(chair, "drafts")

	// A tablet.
	egy.run("tablet", chromedp.EmulateViewport(820, 1180))
	egy.waitJS("tablet layout", `document.querySelector('.sidebar').getBoundingClientRect().top > 300`, 5*time.Second)
	shot(egy, "tablet")
	t.Logf("screenshots in %s", dir)
}
