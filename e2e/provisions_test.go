package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAgreedTextLockedInTheEditor: the chair agrees paragraph 2 from the
// provisions panel; the drafter's editor tints it, refuses typing inside
// it and says why, while typing right before it on a new line works.
func TestAgreedTextLockedInTheEditor(t *testing.T) {
	e := newEnv(t)
	const text = "Article 5 Jurisdiction\n1. Each State Party shall establish jurisdiction.\n2. Each State Party may also establish jurisdiction.\n3. Nothing in this article excludes any other jurisdiction.\n"
	e.as = [3]string{"CHAIR", "Maria Lopes", "facilitator"}
	e.createDraft("art-5", "Article 5", text)
	var list struct {
		Provisions []struct {
			ID, Kind, Num string
		} `json:"provisions"`
	}
	if code := e.api("GET", "/api/docs/art-5/provisions", nil, &list); code != http.StatusOK {
		t.Fatalf("GET provisions: HTTP %d", code)
	}
	p2 := ""
	for _, p := range list.Provisions {
		if p.Kind == "paragraph" && p.Num == "2" {
			p2 = p.ID
		}
	}
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	can := e.newPage("CAN", "Ana Silva", "drafter")
	chair.open("art-5")
	can.open("art-5")
	chair.run("provisions tab", chromedp.Click(chromedp.ID("tab-provisions")))
	chair.waitJS("outline", `document.querySelectorAll('.outline li.prov').length === 4`, 10*time.Second)
	chair.eval(fmt.Sprintf(`(() => { const li = document.querySelector('li.prov[data-prov="%s"]'); li.querySelector('details').open = true;
		li.querySelector('select').value = 'agreed'; li.querySelector('input').value = 'ad referendum'; li.querySelector('button[data-key$=":set"]').click(); return true; })()`, p2), nil)
	chair.waitJS("agreed badge", fmt.Sprintf(`document.querySelector('li.prov[data-prov="%s"] .status-agreed') !== null`, p2), 10*time.Second)
	can.waitJS("tinted", `[...document.querySelectorAll('.cm-agreed')].map(e => e.textContent).join('').includes('may also establish')`, 10*time.Second)
	can.waitJS("status in the margin", `[...document.querySelectorAll('.cm-prov-mark.s-agreed')].some(m => m.title.startsWith('paragraph 2 of article 5: agreed'))`, 10*time.Second)

	// Typing inside is stopped in the page, with the reason.
	before := can.state().Text
	can.cursorAt(strings.Index(before, "may also") + 4)
	if err := typeText(can.ctx, "x"); err != nil {
		t.Fatalf("type inside: %v", err)
	}
	can.waitJS("told why", `[...document.querySelectorAll('.toast')].some(t => t.textContent.includes('paragraph 2 of article 5 is agreed'))`, 10*time.Second)
	if got := can.state().Text; got != before {
		t.Fatalf("typing in agreed text changed it: %q", got)
	}
	// A new paragraph before it, on its own line, is fine.
	can.cursorAt(strings.Index(before, "2. Each"))
	if err := typeText(can.ctx, "\r"); err != nil {
		t.Fatalf("new line: %v", err)
	}
	can.cursorAt(strings.Index(before, "2. Each"))
	if err := typeText(can.ctx, "1 bis. New."); err != nil {
		t.Fatalf("type 1 bis: %v", err)
	}
	d := e.settleWhen("art-5", "1 bis typed", func(d draftJSON) bool { return strings.Contains(d.Text, "1 bis. New.\n") }, chair, can)
	if !strings.Contains(d.Text, "2. Each State Party may also establish jurisdiction.\n") {
		t.Fatalf("agreed paragraph changed: %q", d.Text)
	}
	chair.waitJS("1 bis listed", `[...document.querySelectorAll('.outline li.prov')].some(li => li.textContent.startsWith('1 bis.'))`, 10*time.Second)
	chair.run("settle", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); document.getElementById('toasts')?.remove()`), chromedp.Sleep(300*time.Millisecond))
	png, err := chromedp.Run(chair.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("PROVISIONS_SCREENSHOT")
	if out == "" {
		out = t.TempDir() + "/provisions.png"
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}
