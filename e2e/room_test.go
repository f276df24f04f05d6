package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
	"github.com/draftroom/draftroom/web"
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

	// The cursor at the start of the Arabic paragraph stands at its right
	// end, where the first letter is (and where typing goes).
	p.cursorAt(len([]rune("Article 5\n")))
	var caret struct{ Caret, LineLeft, LineRight float64 }
	p.waitJS("the cursor is drawn", `(() => { const c = document.querySelector('.cm-cursor-primary'); return !!c && c.getBoundingClientRect().left > 0; })()`, 5*time.Second)
	p.eval(`(() => { const c = document.querySelector('.cm-cursor-primary').getBoundingClientRect(), l = document.querySelectorAll('.cm-line')[1].getBoundingClientRect(); return { caret: c.left, lineLeft: l.left, lineRight: l.right }; })()`, &caret)
	if caret.Caret < caret.LineLeft+(caret.LineRight-caret.LineLeft)/2 {
		t.Errorf("the cursor at the start of the Arabic paragraph is at x=%v, in the left half of the line %v..%v", caret.Caret, caret.LineLeft, caret.LineRight)
	}

	// Typing into the Arabic paragraph keeps it right to left.
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

// TestSearchFindsFarBelowTheFold: Ctrl+F finds a word 500 lines below what
// is on screen, says how many matches there are, and moves the editor
// there; a facilitator's "Replace all" is an ordinary edit the server
// commits.
func TestSearchFindsFarBelowTheFold(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	for i := 1; i <= 600; i++ {
		if i == 550 {
			b.WriteString("550. The Parties shall protect the narwhal habitat.\n")
			continue
		}
		fmt.Fprintf(&b, "%d. The Parties [shall/should] consider paragraph %d.\n", i, i)
	}
	e.createDraft("art-9", "Article 9", b.String())
	p := e.newPage("CAN", "Ana", "facilitator")
	p.open("art-9")
	var onScreen bool
	p.eval(`document.querySelector('.cm-content').textContent.includes('narwhal')`, &onScreen)
	if onScreen {
		t.Fatal("the word is already in the page before searching; the test needs it off-screen")
	}
	p.cursorAt(0)
	p.run("Ctrl+F", chromedp.KeyEvent("f", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	p.waitJS("the search field has focus", `document.activeElement && document.activeElement.classList.contains('search-field')`, 5*time.Second)
	if err := typeText(p.ctx, "Narwhal"); err != nil {
		t.Fatal(err)
	}
	p.waitJS("the editor moved to the match", `(() => {
		const v = window.__draftroom.view.view, sel = v.state.selection.main;
		if (v.state.sliceDoc(sel.from, sel.to) !== 'narwhal') return false;
		const s = v.scrollDOM.getBoundingClientRect();
		const c = v.coordsAtPos(sel.from);
		return !!c && c.top >= s.top && c.bottom <= s.bottom;
	})()`, 5*time.Second)
	var count string
	p.eval(`document.querySelector('.search-count').textContent`, &count)
	if count != "1 of 1" {
		t.Errorf("match count %q, want \"1 of 1\"", count)
	}
	var line int
	p.eval(`window.__draftroom.view.view.state.doc.lineAt(window.__draftroom.view.view.state.selection.main.from).number`, &line)
	if line != 550 {
		t.Errorf("selection on line %d, want 550", line)
	}

	// Whole words: "shall" matches 600 times in "[shall/should]" and line 550,
	// "shal" none.
	p.eval(`(() => { const f = document.querySelector('.search-field'); f.value = 'shal'; f.dispatchEvent(new Event('input')); return true; })()`, nil)
	p.eval(`(() => { const b = document.querySelector('.search-opt input[aria-label="Whole words"]'); b.click(); return true; })()`, nil)
	p.waitJS("no whole-word match for shal", `document.querySelector('.search-count').textContent === 'no matches'`, 5*time.Second)

	// Replace all, as the facilitator: one edit, committed by the server.
	before := e.draft("art-9").Text
	p.eval(`(() => { const f = document.querySelector('.search-field'); f.value = 'narwhal'; f.dispatchEvent(new Event('input'));
		const r = document.querySelector('.replace-field'); r.value = 'dugong'; r.dispatchEvent(new Event('input'));
		[...document.querySelectorAll('.search-panel button')].find((b) => b.textContent === 'Replace all').click(); return true; })()`, nil)
	d := e.settleChanged("art-9", before, p)
	if !strings.Contains(d.Text, "the dugong habitat") || strings.Contains(d.Text, "narwhal") {
		t.Errorf("after Replace all the server has %q", d.Text[strings.Index(d.Text, "550."):strings.Index(d.Text, "551.")])
	}
}

// delegationCodes returns n three-letter delegation codes, the first ones
// those the issue saw sharing a colour.
func delegationCodes(n int) []string {
	codes := []string{"CHN", "EGY", "BRA", "NOR"}
	for i := 0; len(codes) < n; i++ {
		codes = append(codes, fmt.Sprintf("%c%c%c", 'A'+i%26, 'K'+(i/26)%16, 'A'+(i*7)%26))
	}
	return codes[:n]
}

// TestFortyDelegationsFortyColours: 40 delegations who wrote parts of a
// draft get 40 distinct colours in the authorship view, each named in the
// legend and on hover.
func TestFortyDelegationsFortyColours(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-40", "Article 40", "Preamble.")
	text := "Preamble."
	codes := delegationCodes(40)
	for i, d := range codes {
		text += fmt.Sprintf("\n%d. %s proposes these words.", i+1, d)
		e.as = [3]string{d, "Delegate " + d, "facilitator"}
		if code := e.api("PUT", "/api/docs/art-40/text", map[string]any{"text": text, "rev": i}, nil); code != http.StatusOK {
			t.Fatalf("PUT text as %s: HTTP %d", d, code)
		}
	}
	e.as = [3]string{}
	p := e.newPage("CAN", "Ana", "reviewer")
	p.open("art-40")
	p.run("history tab", chromedp.Click(chromedp.ID("tab-history")), chromedp.Click(chromedp.ID("authors-toggle")))
	// 41 with whoever created the draft.
	p.waitJS("the legend names the 40 delegations", `document.querySelectorAll('.history-banner .legend .badge').length >= 40`, 10*time.Second)
	var got struct {
		Legend map[string]string `json:"legend"`
		Marks  map[string]string `json:"marks"`
	}
	p.eval(`(() => {
		const legend = {}, marks = {};
		for (const b of document.querySelectorAll('.history-banner .legend .badge')) legend[b.textContent] = getComputedStyle(b).backgroundColor;
		for (const m of document.querySelectorAll('.history-host .cm-author')) marks[m.title.split(' · ')[0]] = getComputedStyle(m).borderBottomColor;
		return { legend, marks };
	})()`, &got)
	distinct := map[string][]string{}
	for d, c := range got.Legend {
		if !slices.Contains(codes, d) {
			distinct[c] = append(distinct[c], d)
		}
	}
	for _, d := range codes {
		c, ok := got.Legend[d]
		if !ok {
			t.Errorf("%s is not in the legend", d)
		}
		distinct[c] = append(distinct[c], d)
	}
	if len(distinct) != len(got.Legend) {
		for c, ds := range distinct {
			if len(ds) > 1 {
				t.Errorf("%v share %s", ds, c)
			}
		}
		t.Fatalf("%d distinct legend colours for %d delegations", len(distinct), len(got.Legend))
	}
	// The text's marks use the legend's colours (the lines in view).
	if len(got.Marks) < 5 {
		t.Fatalf("only %d delegations' marks in view: %v", len(got.Marks), got.Marks)
	}
	for d, c := range got.Marks {
		if d == "" {
			continue
		}
		if c != got.Legend[d] {
			t.Errorf("%s's text is underlined %s, its legend badge is %s", d, c, got.Legend[d])
		}
	}
}

// TestCursorsShowOnlyAfterMoving: delegations that only opened the draft
// show no cursor (there used to be a pile of labels at position 0); one
// that moves shows its cursor where it is.
func TestCursorsShowOnlyAfterMoving(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-3", "Article 3", "1. The Parties shall cooperate.\n2. Each Party shall report.")
	chair := e.newPage("CHAIR", "Maria", "facilitator")
	chair.open("art-3")
	var idlers []*page
	for _, d := range []string{"CHN", "EGY", "BRA"} {
		p := e.newPage(d, "Delegate "+d, "drafter")
		p.open("art-3")
		idlers = append(idlers, p)
	}
	chair.waitJS("the three are in the people list", `(() => {
		const t = document.getElementById('panel-people').textContent;
		return ['CHN', 'EGY', 'BRA'].every((d) => t.includes('Delegate ' + d));
	})()`, 10*time.Second)
	var carets int
	chair.eval(`document.querySelectorAll('.cm-rcaret').length`, &carets)
	if carets != 0 {
		t.Fatalf("%d cursors shown for delegations that only opened the draft, want none", carets)
	}
	// EGY moves to the end of paragraph 2: its cursor shows there, alone.
	idlers[1].cursorAt(-1)
	chair.waitJS("EGY's cursor at the end", `(() => {
		const c = [...document.querySelectorAll('.cm-rcaret')];
		if (c.length !== 1 || c[0].textContent !== 'EGY') return false;
		const v = window.__draftroom.view.view;
		return v.posAtDOM(c[0]) === v.state.doc.length;
	})()`, 10*time.Second)
}

// TestScreenViewFillsTheWidth: the projector view uses the whole width of
// the window, shows no top bar or Sign out, only a discreet exit, and its
// type size changes with + and −.
func TestScreenViewFillsTheWidth(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-8", "Article 8", strings.Repeat("The Parties [shall/should] take the measures necessary to protect the marine environment. ", 12))
	p := e.newPage("ROOM", "Projector", "reviewer")
	p.eval(`(() => { location.hash = '#/d/art-8/screen'; return true; })()`, nil)
	p.waitJS("screen loaded", `(() => { const v = window.__draftroom.view; return !!(v && v.client && v.client.online) && !!document.querySelector('.draft-page.screen'); })()`, 10*time.Second)
	var got struct {
		Window, Line    float64
		Topbar, SignOut bool
		Exit            string
		Font            float64
	}
	measure := func() {
		p.eval(`(() => {
			const line = document.querySelector('.cm-line').getBoundingClientRect();
			const bar = document.querySelector('.topbar');
			return { window: window.innerWidth, line: line.width,
				topbar: !!bar && bar.getClientRects().length > 0,
				signOut: [...document.querySelectorAll('button')].some((b) => b.textContent === 'Sign out' && b.getClientRects().length > 0),
				exit: (document.querySelector('.screen-exit') || {}).textContent || '',
				font: parseFloat(getComputedStyle(document.querySelector('.cm-content')).fontSize) };
		})()`, &got)
	}
	measure()
	if got.Line < 0.9*got.Window {
		t.Errorf("the text is %v px wide in a %v px window, want at least 90%%", got.Line, got.Window)
	}
	if got.Topbar || got.SignOut {
		t.Errorf("the screen view shows the top bar (%v) or Sign out (%v)", got.Topbar, got.SignOut)
	}
	if !strings.Contains(got.Exit, "Exit") {
		t.Errorf("no exit link (%q)", got.Exit)
	}
	before := got.Font
	p.run("press +", chromedp.KeyEvent("+"), chromedp.KeyEvent("+"))
	measure()
	if got.Font != before+8 {
		t.Errorf("after ++ the type is %v px, want %v", got.Font, before+8)
	}
	p.run("press -", chromedp.KeyEvent("-"), chromedp.KeyEvent("-"))
}

// TestUndoAfterProposeUndoesTheProposal: Ctrl+Z right after proposing
// takes the proposal back (an ordinary edit the server commits), not the
// words typed before it.
func TestUndoAfterProposeUndoesTheProposal(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-2", "Article 2", "The Parties shall act in good faith.")
	can := e.newPage("CAN", "Ana", "drafter")
	can.open("art-2")
	can.cursorAt(-1)
	if err := typeText(can.ctx, " Typed."); err != nil {
		t.Fatal(err)
	}
	typed := e.settleChanged("art-2", "The Parties shall act in good faith.", can)
	from := strings.Index(typed.Text, "good faith")
	can.eval(fmt.Sprintf(`(() => { const v = window.__draftroom.view.view; v.dispatch({ selection: { anchor: %d, head: %d } }); return true; })()`, from, from+len("good faith")), nil)
	can.run("propose earnest", chromedp.SendKeys(chromedp.ID("propose-text"), "earnest\r"))
	proposed := e.settleChanged("art-2", typed.Text, can)
	if proposed.Text != "The Parties shall act in [good faith/earnest]. Typed." {
		t.Fatalf("after proposing: %q", proposed.Text)
	}
	can.waitJS("the editor has focus again", `document.activeElement && document.activeElement.classList.contains('cm-content')`, 5*time.Second)
	can.run("Ctrl+Z", chromedp.KeyEvent("z", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	undone := e.settleChanged("art-2", proposed.Text, can)
	if undone.Text != typed.Text {
		t.Errorf("after Ctrl+Z the server has %q, want the text before the proposal %q", undone.Text, typed.Text)
	}
}

// TestTopBarAndBracketsPanelLayout: at 1,100 px with a long name the top
// bar stays on one line; sentence-length alternatives wrap between words,
// never inside one; Alt+N moves the editor to the next open bracket;
// clicking "unbalanced brackets" moves it to the unbalanced one; on a
// tablet the panels sit under the text.
func TestTopBarAndBracketsPanelLayout(t *testing.T) {
	e := newEnv(t)
	text := "1. The Parties [shall take all appropriate measures to conserve biodiversity and ensure its sustainable use/should endeavour to protect biodiversity] in areas within national jurisdiction.\n" +
		"2. Each Party [shall/should] report.\n3. An [unclosed bracket stays."
	e.createDraft("art-1", "Article 1: Conservation and sustainable use of marine biological diversity", text)
	p := e.newPage("GBR", "Alexandra Montgomery-Fairweather", "facilitator")
	p.run("1,100 px window", chromedp.EmulateViewport(1100, 800))
	p.open("art-1")
	p.waitJS("two groups in the panel", `document.querySelectorAll('.groups li.group[data-group]').length === 2`, 10*time.Second)
	var barHeight float64
	p.eval(`document.querySelector('.topbar').getBoundingClientRect().height`, &barHeight)
	if barHeight > 60 {
		t.Errorf("the top bar is %v px high at 1,100 px: it wraps", barHeight)
	}
	var split []string
	p.eval(`(() => {
		const out = [];
		for (const el of document.querySelectorAll('.groups .alt-text')) {
			const node = el.firstChild; if (!node || node.nodeType !== 3) continue;
			const re = /\S+/g; let m;
			while ((m = re.exec(node.textContent))) {
				const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
				const tops = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
				if (tops.size > 1) out.push(m[0]);
			}
		}
		return out;
	})()`, &split)
	if len(split) > 0 {
		t.Errorf("words split across lines in the brackets panel: %q", split)
	}

	p.cursorAt(0)
	type sel struct{ From, To int }
	var s sel
	readSel := func() {
		p.eval(`(() => { const m = window.__draftroom.view.view.state.selection.main; return { from: m.from, to: m.to }; })()`, &s)
	}
	p.run("Alt+N", chromedp.KeyEvent("n", chromedp.KeyModifiers(chromedp.ModifierAlt)))
	readSel()
	if want := strings.Index(text, "[shall take"); s.From != want {
		t.Errorf("after Alt+N the cursor is at %d, want the first group at %d", s.From, want)
	}
	p.run("Alt+N", chromedp.KeyEvent("n", chromedp.KeyModifiers(chromedp.ModifierAlt)))
	readSel()
	if want := strings.Index(text, "[shall/should]"); s.From != want {
		t.Errorf("after a second Alt+N the cursor is at %d, want the second group at %d", s.From, want)
	}
	p.run("click the diagnostic", chromedp.Click(chromedp.CSS("button.diag")))
	readSel()
	if want := strings.Index(text, "[unclosed"); s.From != want {
		t.Errorf("after clicking the diagnostic the cursor is at %d, want the unclosed bracket at %d", s.From, want)
	}

	p.run("tablet", chromedp.EmulateViewport(820, 1180))
	var tablet struct{ EditorBottom, SidebarTop, Bar float64 }
	p.waitJS("the layout follows", `document.querySelector('.sidebar').getBoundingClientRect().top > 300`, 5*time.Second)
	p.eval(`({ editorBottom: document.querySelector('.editor-pane').getBoundingClientRect().bottom, sidebarTop: document.querySelector('.sidebar').getBoundingClientRect().top, bar: document.querySelector('.topbar').getBoundingClientRect().height })`, &tablet)
	if tablet.SidebarTop < tablet.EditorBottom-1 || tablet.Bar > 60 {
		t.Errorf("tablet: the panels start at %v, the text ends at %v, the top bar is %v px high", tablet.SidebarTop, tablet.EditorBottom, tablet.Bar)
	}
}

// TestHistoryPeopleCanRead: the timeline names a group by its text and
// says what a resolution chose and what a proposal proposed; "changes
// since" marks insertions and deletions in the live editor; a replay with
// the colour box ticked keeps colouring the text.
func TestHistoryPeopleCanRead(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-11", "Article 11", "The Parties [shall/should] act in good faith.")
	chair := e.newPage("CHAIR", "Maria", "facilitator")
	chair.open("art-11")
	chair.cursorAt(-1)
	if err := typeText(chair.ctx, " More words."); err != nil {
		t.Fatal(err)
	}
	typed := e.settleChanged("art-11", "The Parties [shall/should] act in good faith.", chair)
	chair.waitJS("the group in the panel", `document.querySelectorAll('.groups li.group[data-group]').length === 1`, 10*time.Second)
	chair.run("choose shall", chromedp.Click(chromedp.CSS(`.groups li.group button[data-key$=":choose:0"]`)))
	resolved := e.settleChanged("art-11", typed.Text, chair)
	from := strings.Index(resolved.Text, "good faith")
	chair.eval(fmt.Sprintf(`(() => { const v = window.__draftroom.view.view; v.dispatch({ selection: { anchor: %d, head: %d } }); return true; })()`, from, from+len("good faith")), nil)
	chair.run("propose earnest", chromedp.SendKeys(chromedp.ID("propose-text"), "earnest\r"))
	e.settleChanged("art-11", resolved.Text, chair)

	chair.run("history tab", chromedp.Click(chromedp.ID("tab-history")))
	chair.waitJS("a timeline", `document.querySelectorAll('.timeline .tl-what').length >= 3`, 10*time.Second)
	chair.waitJS("the timeline in words", `(() => {
		const t = [...document.querySelectorAll('.timeline .tl-what')].map((n) => n.textContent);
		return t.some((s) => s.includes('resolved [shall/should]: chose “shall”')) &&
			t.some((s) => s.includes('proposed “earnest” in [good faith/earnest]')) &&
			t.some((s) => s.includes('edited: +12 −0 characters')) && !t.some((s) => /\bb\d+\.\d+\b/.test(s));
	})()`, 10*time.Second)

	// Changes in the last hour: everything since the draft was created.
	chair.eval(`(() => { const s = document.getElementById('since'); s.value = 'ago:3600000'; s.dispatchEvent(new Event('change')); return true; })()`, nil)
	chair.waitJS("changes marked in the live editor", `(() => {
		const ins = [...document.querySelectorAll('.editor-host .cm-chg-ins')].map((n) => n.textContent).join('|');
		const del = [...document.querySelectorAll('.editor-host .cm-chg-del')].map((n) => n.textContent).join('|');
		return ins.includes('More words') && ins.includes('earnest') && del.includes('should') && !document.querySelector('.changes-bar').hidden;
	})()`, 10*time.Second)

	// Replay from revision 0 with the colours on: the replayed text is coloured.
	chair.run("colours on", chromedp.Click(chromedp.ID("authors-toggle")))
	chair.waitJS("the history view is coloured", `document.querySelectorAll('.history-host .cm-author').length > 0`, 10*time.Second)
	chair.eval(`(() => { const s = document.getElementById('rev-slider'); s.value = '0'; s.dispatchEvent(new Event('input')); return true; })()`, nil)
	chair.waitJS("revision 0 shown", `document.querySelector('.history-banner strong').textContent === 'Revision 0'`, 10*time.Second)
	chair.eval(`(() => { document.getElementById('replay-speed').value = '20'; [...document.querySelectorAll('.history-panel button')].find((b) => b.textContent === 'Replay').click(); return true; })()`, nil)
	chair.waitJS("the replay ends coloured", `(() => {
		const replaying = [...document.querySelectorAll('.history-panel button')].some((b) => b.textContent === 'Stop');
		const text = window.__draftroom.view.view.state.doc.toString();
		const hv = document.querySelector('.history-host .cm-content');
		if (replaying || !hv || hv.textContent !== text) return false;
		const chairs = [...document.querySelectorAll('.history-host .cm-author')].filter((m) => m.title.startsWith('CHAIR')).map((m) => m.textContent).join('');
		return document.getElementById('authors-toggle').checked && chairs.includes('More words');
	})()`, 15*time.Second)
}

// TestDraftListOneRequest: the drafts list comes in one request with each
// draft's open brackets, and can be searched and sorted by activity.
func TestDraftListOneRequest(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	e := newEnvWith(t, server.Config{Open: true}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				mu.Lock()
				paths = append(paths, r.Method+" "+r.URL.RequestURI())
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})
	for i := 1; i <= 12; i++ {
		e.createDraft(fmt.Sprintf("art-%02d", i), fmt.Sprintf("Article %d", i), strings.Repeat("[shall/should] act. ", i))
	}
	// art-03 changes last: it comes first. Its change must be stamped
	// after the creations: wait for the clock's next milliseconds.
	for created := time.Now().UnixMilli(); time.Now().UnixMilli() <= created+1; {
		runtime.Gosched()
	}
	e.as = [3]string{"CHAIR", "Maria", "facilitator"}
	if code := e.api("PUT", "/api/docs/art-03/text", map[string]any{"text": "Agreed text.", "rev": 0}, nil); code != http.StatusOK {
		t.Fatalf("PUT: HTTP %d", code)
	}
	e.as = [3]string{}
	p := e.newPage("CHAIR", "Maria", "facilitator")
	p.waitJS("the list", `document.querySelectorAll('table.drafts tbody tr').length === 12`, 10*time.Second)
	var rows []string
	p.eval(`[...document.querySelectorAll('table.drafts tbody tr')].map((r) => r.dataset.draft + ':' + r.cells[3].textContent)`, &rows)
	if rows[0] != "art-03:0" || !slices.Contains(rows, "art-12:12") {
		t.Errorf("rows %v: want art-03 (latest, 0 open) first and art-12 with 12 open", rows)
	}
	mu.Lock()
	var listCalls []string
	for _, p := range paths {
		if strings.HasPrefix(p, "GET /api/docs") && !strings.HasPrefix(p, "GET /api/docs/art") {
			listCalls = append(listCalls, p)
		}
		if strings.Contains(p, "/brackets") {
			t.Errorf("the list asked per draft: %s", p)
		}
	}
	mu.Unlock()
	if len(listCalls) != 1 {
		t.Errorf("list requests %v, want one", listCalls)
	}
	p.eval(`(() => { const s = document.getElementById('drafts-search'); s.value = 'article 1'; s.dispatchEvent(new Event('input')); return true; })()`, nil)
	p.eval(`[...document.querySelectorAll('table.drafts tbody tr')].map((r) => r.dataset.draft)`, &rows)
	if slices.Sort(rows); strings.Join(rows, ",") != "art-01,art-10,art-11,art-12" {
		t.Errorf("search 'article 1' shows %v", rows)
	}
}

// TestTokenScreen: a facilitator issues a drafter token for a delegation,
// sees its secret once with a copy button, finds it in the list and
// revokes it; the secret works until then.
func TestTokenScreen(t *testing.T) {
	browser(t)
	store := storage.NewMemory()
	chairSecret, _, err := auth.Issue(context.Background(), store, auth.Request{Delegation: "CHAIR", Name: "Maria", Role: "facilitator", IssuedBy: "cli"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Auth: server.NewTokenAuth(store, nil), Web: web.FS}, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	e := &env{t: t, url: ts.URL}
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	p := &page{e: e, name: "CHAIR", ctx: ctx}
	p.run("sign in with the token",
		chromedp.Navigate(e.url+"/#/"),
		chromedp.WaitVisible(chromedp.ID("delegation")),
		chromedp.Click(chromedp.CSS(".tabs .tab:nth-child(2)")),
		chromedp.SendKeys(chromedp.ID("token"), chairSecret),
		chromedp.Click(chromedp.CSS("form.signin button.primary")),
		chromedp.WaitVisible(chromedp.CSS(".topbar .me")),
	)
	p.run("tokens screen", chromedp.Click(chromedp.CSS(`a[href="#/tokens"]`)), chromedp.WaitVisible(chromedp.ID("tok-delegation")))
	p.run("issue",
		chromedp.SendKeys(chromedp.ID("tok-delegation"), "can"),
		chromedp.SendKeys(chromedp.ID("tok-name"), "Ana Silva"),
		chromedp.SetValue(chromedp.ID("tok-drafts"), "art-*"),
		chromedp.Click(chromedp.CSS("form.create button.primary")),
	)
	p.waitJS("the secret shown", `!!document.querySelector('.secret-box code.secret') && !document.querySelector('.secret-box').hidden`, 10*time.Second)
	var secret string
	p.eval(`document.querySelector('.secret-box code.secret').textContent`, &secret)
	if !strings.HasPrefix(secret, "drt_") {
		t.Fatalf("secret %q", secret)
	}
	var hasCopy bool
	p.eval(`[...document.querySelectorAll('.secret-box button')].some((b) => b.textContent === 'Copy')`, &hasCopy)
	if !hasCopy {
		t.Error("no Copy button beside the secret")
	}
	p.waitJS("listed", `[...document.querySelectorAll('table.tokens tbody tr')].some((r) => r.textContent.includes('Ana Silva') && r.textContent.includes('art-*') && r.textContent.includes('drafter'))`, 10*time.Second)
	if *shotsDir != "" {
		png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*shotsDir, "tokens.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	me := func() int {
		req, _ := http.NewRequest("GET", e.url+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := me(); code != http.StatusOK {
		t.Fatalf("the issued token: HTTP %d", code)
	}
	p.run("revoke", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true; [...document.querySelectorAll('table.tokens tbody tr')].find((r) => r.textContent.includes('Ana Silva')).querySelector('button.danger').click()`))
	p.waitJS("gone from the active list", `![...document.querySelectorAll('table.tokens tbody tr')].some((r) => r.textContent.includes('Ana Silva'))`, 10*time.Second)
	if code := me(); code != http.StatusUnauthorized {
		t.Errorf("the revoked token: HTTP %d, want 401", code)
	}
}

// TestNotificationsAboutMyProposal: when the chair chooses a drafter's
// proposal, the drafter is told in the app, with a link to the paragraph,
// which is also reported as having no brackets left.
func TestNotificationsAboutMyProposal(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-12", "Article 12", "Preamble.\n\nThe Parties shall act in good faith.")
	chair := e.newPage("CHAIR", "Maria", "facilitator")
	can := e.newPage("CAN", "Ana", "drafter")
	chair.open("art-12")
	can.open("art-12")
	text := e.draft("art-12").Text
	from := strings.Index(text, "good faith")
	can.eval(fmt.Sprintf(`(() => { const v = window.__draftroom.view.view; v.dispatch({ selection: { anchor: %d, head: %d } }); return true; })()`, from, from+len("good faith")), nil)
	can.run("propose earnest", chromedp.SendKeys(chromedp.ID("propose-text"), "earnest\r"))
	chair.waitJS("the group in the chair's panel", `[...document.querySelectorAll('.groups li.group .alt-text')].some((a) => a.textContent === 'earnest')`, 10*time.Second)
	chair.eval(`(() => { [...document.querySelectorAll('.groups li.group button')].find((b) => (b.getAttribute('aria-label') || '').includes('earnest')).click(); return true; })()`, nil)
	can.waitJS("the bell counts", `(() => { const c = document.querySelector('.bell-count'); return !!c && !c.hidden && +c.textContent >= 2; })()`, 10*time.Second)
	can.run("open the bell", chromedp.Click(chromedp.CSS(".bell")))
	var items []string
	can.eval(`[...document.querySelectorAll('.bell-list li a')].map((a) => a.textContent + ' -> ' + a.getAttribute('href'))`, &items)
	want := []string{
		"Your proposal “earnest” in Article 12 was chosen. -> #/d/art-12/p2",
		"Paragraph 2 of Article 12 has no brackets left. -> #/d/art-12/p2",
	}
	for _, w := range want {
		if !slices.Contains(items, w) {
			t.Errorf("notifications %q lack %q", items, w)
		}
	}
	// The link opens the draft at that paragraph.
	can.eval(`(() => { window.__draftroom.view.view.dispatch({ selection: { anchor: 0 } }); document.querySelector('.bell-list li a').click(); return true; })()`, nil)
	can.waitJS("the editor at paragraph 2", `(() => { const v = window.__draftroom.view && window.__draftroom.view.view; return !!v && v.state.doc.lineAt(v.state.selection.main.head).text.startsWith('The Parties'); })()`, 10*time.Second)
}

// TestIdleCursorsFade: a cursor whose owner does nothing for the idle time
// fades and loses its label; moving again brings it back. The page's idle
// time is shortened for the test (ctx.idleMs, read when a draft opens).
func TestIdleCursorsFade(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-13", "Article 13", "1. The Parties shall cooperate.\n2. Each Party shall report.")
	chair := e.newPage("CHAIR", "Maria", "facilitator")
	chair.eval(`(() => { window.__draftroom.idleMs = 1500; return true; })()`, nil)
	chair.open("art-13")
	can := e.newPage("CAN", "Ana", "drafter")
	can.open("art-13")
	can.cursorAt(-1)
	chair.waitJS("CAN's cursor, labelled", `(() => { const c = document.querySelector('.cm-rcaret'); return !!c && !c.classList.contains('cm-rcaret-idle') && c.textContent === 'CAN'; })()`, 10*time.Second)
	chair.waitJS("CAN's cursor fades", `(() => { const c = document.querySelector('.cm-rcaret'); return !!c && c.classList.contains('cm-rcaret-idle') && c.textContent === ''; })()`, 10*time.Second)
	can.cursorAt(3)
	chair.waitJS("CAN's cursor back", `(() => { const c = document.querySelector('.cm-rcaret'); return !!c && !c.classList.contains('cm-rcaret-idle') && c.textContent === 'CAN'; })()`, 10*time.Second)
}

// TestPeopleTabForARoom: 190 delegations in one draft (Go clients, some
// with two people): the People tab groups them by delegation, finds them
// by code or name, and puts who is typing first.
func TestPeopleTabForARoom(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-14", "Article 14", "The Parties shall cooperate.")
	ctx, cancel := context.WithTimeout(context.Background(), patience*60*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(e.url, "http") + "/ws"
	var typer *client.Doc
	for i := 0; i < 190; i++ {
		d := fmt.Sprintf("D%03d", i)
		people := 1
		if i%19 == 0 {
			people = 2
		}
		for k := 0; k < people; k++ {
			c, err := client.Dial(ctx, wsURL, client.Options{Delegation: d, Name: fmt.Sprintf("Delegate %d-%d", i, k), Role: "drafter", NoReconnect: true})
			if err != nil {
				t.Fatalf("dial %s: %v", d, err)
			}
			t.Cleanup(func() { c.Close() })
			doc, err := c.Open(ctx, "art-14")
			if err != nil {
				t.Fatalf("open as %s: %v", d, err)
			}
			doc.SetPresence([][2]int{})
			if i == 150 && k == 0 {
				typer = doc
			}
		}
	}
	p := e.newPage("CAN", "Ana", "reviewer")
	p.open("art-14")
	p.run("people tab", chromedp.Click(chromedp.ID("tab-people")))
	p.waitJS("190 delegations and me", `document.querySelectorAll('.people-groups > li.people-group').length === 191`, 20*time.Second)
	var count string
	p.eval(`document.querySelector('.people-panel .count').textContent`, &count)
	if count != "201 people · 191 delegations" {
		t.Errorf("count %q", count)
	}
	if err := typer.Edit(ot.Op{ot.Insert("Now ")}); err != nil {
		t.Fatal(err)
	}
	p.waitJS("D150 typing, first", `(() => { const g = document.querySelectorAll('.people-groups > li.people-group')[1]; return !!g && g.dataset.delegation === 'D150' && !!g.querySelector('.typing-dot') && document.querySelector('.typing-now').textContent.includes('D150 · Delegate 150-0'); })()`, 10*time.Second)
	p.eval(`(() => { const s = document.getElementById('people-search'); s.value = 'd01'; s.dispatchEvent(new Event('input')); return true; })()`, nil)
	p.waitJS("search by code", `document.querySelectorAll('.people-groups > li.people-group[data-delegation]').length === 10`, 5*time.Second)
	p.eval(`(() => { const s = document.getElementById('people-search'); s.value = 'delegate 19-1'; s.dispatchEvent(new Event('input')); return true; })()`, nil)
	p.waitJS("search by name", `(() => { const g = [...document.querySelectorAll('.people-groups > li.people-group[data-delegation]')]; return g.length === 1 && g[0].dataset.delegation === 'D019'; })()`, 5*time.Second)
}
