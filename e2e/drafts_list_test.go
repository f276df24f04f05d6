package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRenameAndArchiveFromList: a facilitator renames a draft and archives
// it from the drafts list; the server has the new title and the flag, the
// archived draft leaves the default list and shows under "Archived", and a
// drafter's list has no such buttons.
func TestRenameAndArchiveFromList(t *testing.T) {
	e := newEnv(t)
	e.as = [3]string{"CHAIR", "Maria Lopes", "facilitator"}
	e.createDraft("art-1", "Article 1", "The Parties [shall/should] act.")
	e.createDraft("art-2", "Article 2", "Text.")
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	row := `tr[data-draft="art-2"]`
	chair.run("list shown", chromedp.WaitVisible(chromedp.CSS(row+" button.rename")))

	chair.run("rename",
		chromedp.Click(chromedp.CSS(row+" button.rename")),
		chromedp.WaitVisible(chromedp.CSS(row+" input.rename-title")),
		chromedp.SetValue(chromedp.CSS(row+" input.rename-title"), "Article 2 — Use of terms"),
		chromedp.Click(chromedp.CSS(row+" .rename-form button.primary")),
	)
	chair.waitJS("renamed row", `(() => { const a = document.querySelector('tr[data-draft="art-2"] a.draft-link'); return !!a && a.textContent === 'Article 2 — Use of terms'; })()`, 10*time.Second)
	if d := e.draft("art-2"); d.Title != "Article 2 — Use of terms" {
		t.Fatalf("server title after rename: %q", d.Title)
	}

	chair.run("archive", chromedp.Click(chromedp.CSS(row+" button.archive")))
	chair.waitJS("archived draft leaves the default list", `!document.querySelector('tr[data-draft="art-2"]') && !!document.querySelector('tr[data-draft="art-1"]')`, 10*time.Second)
	var list struct {
		Docs []struct {
			ID       string `json:"id"`
			Archived bool   `json:"archived"`
		} `json:"docs"`
	}
	if code := e.api("GET", "/api/docs", nil, &list); code != http.StatusOK {
		t.Fatalf("list: HTTP %d", code)
	}
	for _, d := range list.Docs {
		if d.Archived != (d.ID == "art-2") {
			t.Errorf("server: %s archived=%v", d.ID, d.Archived)
		}
	}

	chair.eval(`(() => { const f = document.getElementById('drafts-filter'); f.value = 'archived'; f.dispatchEvent(new Event('change')); return true; })()`, nil)
	chair.waitJS("Archived filter shows it", `(() => { const rows = [...document.querySelectorAll('table.drafts tbody tr')]; return rows.length === 1 && rows[0].dataset.draft === 'art-2' && !!rows[0].querySelector('.archived-badge') && !!rows[0].querySelector('button.unarchive'); })()`, 10*time.Second)
	if *shotsDir != "" {
		png, err := chromedp.Run(chair.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*shotsDir, "drafts-archived.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	can := e.newPage("CAN", "Ana Silva", "drafter")
	can.run("drafter's list", chromedp.WaitVisible(chromedp.CSS(`tr[data-draft="art-1"]`)))
	var buttons int
	can.eval(`document.querySelectorAll('table.drafts button.rename, table.drafts button.archive').length`, &buttons)
	if buttons != 0 {
		t.Errorf("a drafter's list has %d rename/archive buttons", buttons)
	}
}

// TestTimelineSaysWhere: typing in a numbered paragraph shows in the
// history timeline as "edited paragraph 2 of article 5".
func TestTimelineSaysWhere(t *testing.T) {
	e := newEnv(t)
	text := "Article 5\n\n1. The Parties shall act.\n\n2. Each Party shall report."
	e.createDraft("art-5", "Article 5", text)
	can := e.newPage("CAN", "Ana Silva", "drafter")
	can.open("art-5")
	can.cursorAt(strings.Index(text, " report"))
	if err := typeText(can.ctx, " regularly"); err != nil {
		t.Fatal(err)
	}
	e.settleChanged("art-5", text, can)
	can.run("history tab", chromedp.Click(chromedp.ID("tab-history")))
	can.waitJS("the timeline says where", `[...document.querySelectorAll('.timeline .tl-what')].some((n) => n.textContent.includes('edited paragraph 2 of article 5: +10 −0 characters'))`, 10*time.Second)
}
