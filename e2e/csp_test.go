package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestAppUnderCSP: the app page is served with a Content-Security-Policy
// (server/web.go); signing in, opening a draft, seeing another delegation's
// cursor and typing must not trip it. A script the policy forbids (an
// inline one) is refused and reported, which shows the check sees
// violations.
func TestAppUnderCSP(t *testing.T) {
	e := newEnv(t)
	e.createDraft("art-1", "Article 1", "The Parties [shall/should] act.")

	var mu sync.Mutex
	var reports []string
	reported := make(chan struct{}, 1) // a token after each report
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithListener(func(ev any) {
		var text string
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			text = ev.Entry.Text
		case *runtime.EventConsoleAPICalled:
			for _, a := range ev.Args {
				text += " " + string(a.Value) + a.Description
			}
		default:
			return
		}
		if strings.Contains(text, "Content Security Policy") {
			mu.Lock()
			reports = append(reports, text)
			mu.Unlock()
			select {
			case reported <- struct{}{}:
			default:
			}
		}
	}))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	p := &page{e: e, name: "CAN", ctx: ctx}
	p.run("sign in",
		chromedp.Navigate(e.url+"/#/"),
		chromedp.WaitVisible(chromedp.ID("delegation")),
		chromedp.SendKeys(chromedp.ID("delegation"), "CAN"),
		chromedp.SendKeys(chromedp.ID("name"), "Ana"),
		chromedp.SetValue(chromedp.ID("role"), "drafter"),
		chromedp.Click(chromedp.CSS("form.signin button.primary")),
		chromedp.WaitVisible(chromedp.CSS(".topbar .me")),
	)
	other := e.newPage("EGY", "Omar", "drafter")
	other.open("art-1")
	p.open("art-1")
	other.cursorAt(4)
	p.cursorAt(-1)
	if err := typeText(p.ctx, " Now."); err != nil {
		t.Fatal(err)
	}
	if d := e.settle("art-1", p, other); !strings.HasSuffix(d.Text, " Now.") {
		t.Fatalf("text %q", d.Text)
	}
	p.waitJS("the other delegation's cursor", `[...document.querySelectorAll('.cm-rtag')].some((e) => e.textContent === 'EGY')`, 10*time.Second)
	mu.Lock()
	seen := append([]string(nil), reports...)
	mu.Unlock()
	if len(seen) > 0 {
		t.Fatalf("the app trips its Content-Security-Policy:\n%s", strings.Join(seen, "\n"))
	}

	// The control: an inline script is refused, and the refusal is seen.
	p.eval(`(() => { const s = document.createElement('script'); s.textContent = 'window.__inlineRan = true'; document.head.append(s); return true; })()`, nil)
	var ran bool
	p.eval(`!!window.__inlineRan`, &ran)
	if ran {
		t.Fatal("an inline script ran: the page has no Content-Security-Policy")
	}
	select { // the report arrives as an event from the browser
	case <-reported:
	case <-time.After(patience * 5 * time.Second):
		t.Fatal("the refused inline script was not reported: the check would miss violations")
	}
}
