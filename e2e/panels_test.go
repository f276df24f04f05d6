package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/draftroom/draftroom/server"
)

// shotIf writes a screenshot of p to name.png in the -shots directory, if
// one was given: a way to look at the page as a user would.
func shotIf(t *testing.T, p *page, name string) {
	t.Helper()
	if *shotsDir == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(*shotsDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// visibleError is a script returning the text of a panel's visible error
// line ("" when there is none).
func visibleError(panel string) string {
	return `(() => { const e = document.querySelector('#panel-` + panel + ` .panel-error'); return e && !e.hidden ? e.textContent : ''; })()`
}

// TestPanelFailureIsShownAndAskedAgain: a feature endpoint that answers
// 404 is an error line in its panel (not a blank, not a feature switched
// off for good), and the panel asks again when it is next opened.
func TestPanelFailureIsShownAndAskedAgain(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	e := newEnvWith(t, server.Config{Open: true}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() && strings.HasSuffix(r.URL.Path, "/brackets/stats") {
				http.NotFound(w, r) // as a server without the endpoint would
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	e.createDraft("art-9", "Article 9", "1. States Parties [shall/should] act.\n")
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	chair.open("art-9")
	chair.waitJS("the brackets panel's error line", `(`+visibleError("brackets")+`).includes('did not answer the request for the "brackets remaining" curve (HTTP 404)')`, 10*time.Second)
	var cards int
	chair.eval(`document.querySelectorAll('#panel-brackets li.group').length`, &cards)
	if cards != 1 {
		t.Errorf("%d bracket cards beside the error, want 1: a failed curve must not hide the listing", cards)
	}
	shotIf(t, chair, "panel-error")
	// A new listing (after any edit) clears what failed to list, not the
	// curve's failure: the curve is still missing.
	chair.eval(`(() => { const s = window.__draftroom.view.session; window.__listed = 0; s.on('brackets', () => window.__listed++); s.requestBrackets(); return true; })()`, nil)
	chair.waitJS("a new listing", `window.__listed > 0`, 10*time.Second)
	var still string
	chair.eval(visibleError("brackets"), &still)
	if !strings.Contains(still, `"brackets remaining" curve`) {
		t.Errorf("after a new listing the panel's error line says %q, want the curve's failure still said", still)
	}
	refuse.Store(false)
	chair.run("open another tab and come back", chromedp.Click(chromedp.ID("tab-people")), chromedp.Click(chromedp.ID("tab-brackets")))
	chair.waitJS("the curve, asked again", `(() => { const c = document.querySelector('#panel-brackets .curve'); return !c.hidden && !!c.querySelector('svg') && (`+visibleError("brackets")+`) === ''; })()`, 10*time.Second)
}

// TestPanelsReadTheServersListings: with groups, a proposal, a resolution,
// provisions and a named version in the draft, no panel shows an error
// line: each reads what the server sends with its reader (web/src/shapes.js).
func TestPanelsReadTheServersListings(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-10", "Article 10", "Article 1 Scope\n1. States Parties [shall/should] act.\n2. Each Party [may] report.\n")
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	chair.open("art-10")
	chair.waitJS("two bracket cards", `document.querySelectorAll('#panel-brackets li.group').length === 2`, 10*time.Second)
	chair.run("resolve the first group", chromedp.Click(chromedp.CSS(`#panel-brackets li.group button[aria-label^="Choose"]`)))
	chair.waitJS("one card left", `document.querySelectorAll('#panel-brackets li.group').length === 1`, 10*time.Second)
	if code := e.api("POST", "/api/docs/art-10/labels", map[string]any{"name": "Session 1"}, nil); code != http.StatusCreated {
		t.Fatalf("name a revision: HTTP %d", code)
	}
	for _, tab := range []string{"history", "provisions", "people", "brackets"} {
		chair.run("tab "+tab, chromedp.Click(chromedp.ID("tab-"+tab)))
	}
	chair.waitJS("the timeline", `document.querySelectorAll('#panel-history .timeline li').length > 0`, 10*time.Second)
	chair.waitJS("the outline", `document.querySelectorAll('#panel-provisions li.prov').length >= 3`, 10*time.Second)
	chair.waitJS("the named version", `[...document.querySelectorAll('#labels option')].some((o) => o.textContent.includes('Session 1'))`, 10*time.Second)
	for _, panel := range []string{"brackets", "history", "provisions"} {
		var msg string
		chair.eval(visibleError(panel), &msg)
		if msg != "" {
			t.Errorf("the %s panel shows an error: %s", panel, msg)
		}
	}
}

// TestMissingDraftIsSaidSo: a draft that does not exist is said so, above
// the editor and in the panels, rather than as a feature that failed.
func TestMissingDraftIsSaidSo(t *testing.T) {
	e := newEnv(t)
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	chair.eval(`(() => { location.hash = '#/d/no-such'; return true; })()`, nil)
	chair.waitJS("the notice", `(() => { const n = document.querySelector('.editor-pane .notice'); return !!n && !n.hidden && n.textContent.includes('There is no draft "no-such"'); })()`, 10*time.Second)
	chair.waitJS("the brackets panel says so", `(`+visibleError("brackets")+`).includes('There is no such draft')`, 10*time.Second)
	var editorShown bool
	chair.eval(`(() => { const h = document.querySelector('.editor-pane .editor-host:not(.history-host)'); return !!h && !h.hidden; })()`, &editorShown)
	if editorShown {
		t.Error("the empty editor (\"The draft is empty. Start typing…\") is shown under the notice that there is no such draft")
	}
	var lines int
	chair.eval(`document.querySelectorAll('#panel-brackets .panel-error-line').length`, &lines)
	if lines != 1 {
		t.Errorf("%d error lines in the brackets panel, want one saying there is no such draft", lines)
	}
	shotIf(t, chair, "missing-draft")
}
