package provisions

import (
	"strings"
	"testing"
)

func TestExport(t *testing.T) {
	const text = "The Parties,\nArticle 1 Scope\n1. One <b>.\n2. Two.\nArticle 2\n1. Three.\n"
	r, _ := agreeIn(t, text, "paragraph 2")
	list := r.List()
	got, err := Export(FormatText, "T", text, list, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "The Parties,  {open}\nArticle 1 Scope  {open}\n1. One <b>.  {open}\n2. Two.  {agreed}\nArticle 2  {open}\n1. Three.  {open}\n"
	if got != want {
		t.Errorf("txt:\n%q\nwant\n%q", got, want)
	}
	got, _ = Export(FormatText, "T", text, list, true)
	if want := "Article 1 Scope\n2. Two.\n"; got != want {
		t.Errorf("agreed only: %q, want %q", got, want)
	}
	got, _ = Export(FormatMarkdown, "T", text, list, false)
	if !strings.Contains(got, "2\\. Two\\. *(agreed)*\n") || !strings.Contains(got, "1\\. One \\<b\\>\\. *(open)*") {
		t.Errorf("md:\n%s", got)
	}
	got, _ = Export(FormatHTML, "T<", text, list, false)
	if !strings.Contains(got, `<p class="s-agreed" style="margin-left:2em">2. Two.<span class="status">agreed</span></p>`) ||
		strings.Contains(got, "<b>") || !strings.Contains(got, "<title>T&lt;</title>") {
		t.Errorf("html:\n%s", got)
	}
	if _, err := Export("doc", "", text, list, false); err == nil {
		t.Error("unknown format exported")
	}
}
