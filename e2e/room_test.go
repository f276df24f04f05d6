package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// arabicDraft has an English paragraph, an Arabic one ending in a full
// stop (with a Latin acronym and a bracket inside), and an English one.
const arabicDraft = "Article 5\nتتخذ الدول [الأطراف] وفقاً لـ UNEP التدابير اللازمة.\nThe end."

// fullStopAtLeft is a JS expression: in the element el (a line), the
// final full stop is drawn left of the paragraph's first letter.
const fullStopAtLeft = `((el) => {
	const text = el.firstChild ? el.textContent : '';
	const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
	const nodes = []; for (let n; (n = walker.nextNode());) nodes.push(n);
	const rectOf = (node, i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect(); };
	const first = nodes[0], last = nodes[nodes.length - 1];
	const stop = rectOf(last, last.textContent.lastIndexOf('.'));
	const start = rectOf(first, 0);
	return { stopLeft: stop.left, startLeft: start.left, lineLeft: el.getBoundingClientRect().left, lineRight: el.getBoundingClientRect().right, text };
})`

type stopPos struct {
	StopLeft, StartLeft, LineLeft, LineRight float64
	Text                                     string
}

// TestArabicParagraphsReadRightToLeft: an Arabic paragraph's computed
// direction is rtl and its full stop sits at its left end, in the editor,
// the screen view and the HTML export; the English paragraphs stay ltr.
func TestArabicParagraphsReadRightToLeft(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-5", "Article 5", arabicDraft)
	p := e.newPage("EGY", "Layla", "drafter")
	p.open("art-5")

	var dirs []string
	p.eval(`[...document.querySelectorAll('.cm-line')].map((l) => getComputedStyle(l).direction)`, &dirs)
	if want := []string{"ltr", "rtl", "ltr"}; strings.Join(dirs, ",") != strings.Join(want, ",") {
		t.Errorf("editor line directions %v, want %v", dirs, want)
	}
	var pos stopPos
	p.eval(fullStopAtLeft+`(document.querySelectorAll('.cm-line')[1])`, &pos)
	if !(pos.StopLeft < pos.StartLeft) || pos.StopLeft-pos.LineLeft > (pos.LineRight-pos.LineLeft)/2 {
		t.Errorf("editor: the Arabic full stop is at x=%v, the first letter at x=%v (line %v..%v): want the stop at the left end", pos.StopLeft, pos.StartLeft, pos.LineLeft, pos.LineRight)
	}

	// Typing into the Arabic paragraph keeps it right to left.
	p.cursorAt(len([]rune("Article 5\n")))
	if err := typeText(p.ctx, "و"); err != nil {
		t.Fatal(err)
	}
	p.waitJS("the typed letter is in the text", `window.__draftroom.view.view.state.doc.line(2).text.startsWith('و')`, 5*time.Second)
	p.eval(`getComputedStyle(document.querySelectorAll('.cm-line')[1]).direction`, &dirs[1])
	if dirs[1] != "rtl" {
		t.Errorf("after typing, the Arabic line is %s", dirs[1])
	}
	e.settle("art-5", p)

	// The HTML export, rendered by the browser.
	res, err := http.Get(e.url + "/api/docs/art-5/export?format=html")
	if err != nil {
		t.Fatal(err)
	}
	exported, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: HTTP %d %s", res.StatusCode, exported)
	}
	src, _ := json.Marshal(string(exported))
	p.eval(`(() => {
		const f = document.createElement('iframe');
		f.id = 'export-frame'; f.style.width = '900px'; f.style.height = '400px';
		f.srcdoc = `+string(src)+`;
		document.body.appendChild(f);
		return true;
	})()`, nil)
	p.waitJS("the export is rendered", `(() => { const f = document.getElementById('export-frame'); return !!(f && f.contentDocument && f.contentDocument.querySelector('.draft')); })()`, 5*time.Second)
	p.eval(`(() => {
		const doc = document.getElementById('export-frame').contentDocument;
		const div = doc.querySelector('.draft');
		const text = div.textContent;
		const rect = (i) => { const w = doc.createTreeWalker(div, NodeFilter.SHOW_TEXT); let n, at = 0;
			while ((n = w.nextNode())) { if (i < at + n.length) { const r = doc.createRange(); r.setStart(n, i - at); r.setEnd(n, i - at + 1); return r.getBoundingClientRect(); } at += n.length; } };
		const line2 = text.indexOf('\n') + 1, end2 = text.indexOf('\n', line2);
		const stop = rect(end2 - 1), start = rect(line2);
		return { stopLeft: stop.left, startLeft: start.left, lineLeft: div.getBoundingClientRect().left, lineRight: div.getBoundingClientRect().right, text };
	})()`, &pos)
	if !(pos.StopLeft < pos.StartLeft) {
		t.Errorf("export: the Arabic full stop is at x=%v, the first letter at x=%v: want the stop left of it (text %q)", pos.StopLeft, pos.StartLeft, pos.Text)
	}

	// The screen view.
	p.eval(`(() => { location.hash = '#/d/art-5/screen'; return true; })()`, nil)
	p.waitJS("screen view loaded", `(() => { const v = window.__draftroom.view; return !!(v && v.client && v.client.online) && !!document.querySelector('.draft-page.screen'); })()`, 10*time.Second)
	p.eval(`getComputedStyle(document.querySelectorAll('.cm-line')[1]).direction`, &dirs[1])
	if dirs[1] != "rtl" {
		t.Errorf("screen view: the Arabic line is %s", dirs[1])
	}
}
