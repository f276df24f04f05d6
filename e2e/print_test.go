package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pdfPages counts the page objects of a PDF Chromium wrote (its object
// dictionaries are not compressed: "/Type /Page", not "/Pages").
var pdfPage = regexp.MustCompile(`/Type\s*/Page\b[^s]`)

func pdfPages(pdf []byte) int { return len(pdfPage.FindAll(pdf, -1)) }

// printPDF prints the tab to PDF as the browser's print dialog does: the
// page is switched to print media first (which is when the web UI lays out
// the whole text for print), then printed with its own CSS page size.
func (p *page) printPDF(ready string) []byte {
	p.e.t.Helper()
	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		p.e.t.Fatal(err)
	}
	p.waitJS("ready to print", ready, 10*time.Second)
	ctx, cancel := context.WithTimeout(p.ctx, patience*30*time.Second)
	defer cancel()
	t := true
	res, err := chromedp.Call(ctx, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PreferCSSPageSize: &t})
	if err != nil {
		p.e.t.Fatalf("%s: print to PDF: %v", p.name, err)
	}
	if !bytes.HasPrefix(res.Data, []byte("%PDF-")) {
		p.e.t.Fatalf("%s: print to PDF gave no PDF (%d bytes)", p.name, len(res.Data))
	}
	return res.Data
}

// longDraft is a draft of n articles, about three lines each, ending with
// a line that says so.
func longDraft(n int) string {
	var b strings.Builder
	b.WriteString("Draft convention on cooperation\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "Article %d\n1. The Parties [shall/should] cooperate on matter %d [in good faith].\n2. تتعاون الأطراف في المسألة %d.\n", i, i, i)
	}
	b.WriteString("END OF DRAFT")
	return b.String()
}

// TestPrintEditorGivesEveryPage: printing the editor page gives the whole
// text over as many pages as it needs (not the one screenful CodeMirror
// has on screen), without the toolbar and panels, with the running head.
func TestPrintEditorGivesEveryPage(t *testing.T) {
	e := newEnv(t)
	const articles = 120 // 361 lines: at most ~50 lines fit an A4 page
	e.createDraft("long", "Draft convention", longDraft(articles))
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	chair.open("long")

	// The print holds every line (the editor itself lays out only those
	// on screen), and the PDF has the pages they need.
	pdf := chair.printPDF(`document.querySelector('.print-text').textContent.includes('END OF DRAFT')`)
	minPages := (3*articles + 2) / 50
	if n := pdfPages(pdf); n < minPages {
		t.Errorf("the printed editor has %d pages, want at least %d for %d lines", n, minPages, 3*articles+2)
	}
	var shown struct {
		Topbar  string `json:"topbar"`
		Sidebar string `json:"sidebar"`
		Editor  string `json:"editor"`
		Text    string `json:"text"`
		Head    string `json:"head"`
	}
	chair.eval(`({ topbar: getComputedStyle(document.querySelector('.topbar')).display,
		sidebar: getComputedStyle(document.querySelector('.sidebar')).display,
		editor: getComputedStyle(document.querySelector('.editor-host')).display,
		text: document.querySelector('.print-text').textContent,
		head: document.querySelector('style[data-print-head]').textContent })`, &shown)
	if shown.Topbar != "none" || shown.Sidebar != "none" || shown.Editor != "none" {
		t.Errorf("in print the toolbar is %q, the panels %q, the editor %q; want none", shown.Topbar, shown.Sidebar, shown.Editor)
	}
	if shown.Text != longDraft(articles) {
		t.Errorf("the print text differs from the draft (%d characters, want %d)", len(shown.Text), len(longDraft(articles)))
	}
	if !strings.Contains(shown.Head, "Draft convention — Revision 0") {
		t.Errorf("running head %q lacks the title and revision", shown.Head)
	}
	if os.Getenv("DRAFTROOM_PRINT_PNG") != "" {
		png, err := chromedp.Run(chair.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			os.WriteFile(os.Getenv("DRAFTROOM_PRINT_PNG"), png, 0o644)
		}
	}
}

// TestPrintHTMLExportGivesEveryPage: the HTML export prints to as many
// pages as its text needs.
func TestPrintHTMLExportGivesEveryPage(t *testing.T) {
	e := newEnv(t)
	const articles = 120
	e.createDraft("long", "Draft convention", longDraft(articles))
	p := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	code, body, err := e.get("/api/docs/long/export?format=html")
	if err != nil || code != 200 {
		t.Fatalf("export: HTTP %d, %v", code, err)
	}
	p.run("open the HTML export", chromedp.Navigate("data:text/html;base64,"+base64.StdEncoding.EncodeToString(body)), chromedp.WaitVisible(chromedp.CSS(".draft")))
	pdf := p.printPDF(`document.querySelector('.draft').textContent.includes('END OF DRAFT')`)
	if n, min := pdfPages(pdf), (3*articles+2)/50; n < min {
		t.Errorf("the printed export has %d pages, want at least %d", n, min)
	}
}

// get fetches a path of the server (open mode, the facilitator).
func (e *env) get(path string) (int, []byte, error) {
	resp, err := http.Get(e.url + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
