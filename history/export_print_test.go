package history

import (
	"strings"
	"testing"
)

func TestExportHTMLWithHead(t *testing.T) {
	out := ExportHTMLWithHead(`Draft "A" <b>`, `Draft "A" <b> — Revision 3 — 4 December 2026`, "text", nil)
	for _, want := range []string{
		`@top-center { content: "Draft \"A\" \3c b\3e  — Revision 3 — 4 December 2026";`,
		`counter(page)`,
		`<p class="head">Draft &#34;A&#34; &lt;b&gt; — Revision 3 — 4 December 2026</p>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %s:\n%s", want, out)
		}
	}
	if plain := ExportHTML("T", "text", nil); strings.Contains(plain, `class="head"`) || !strings.Contains(plain, `@top-center { content: "T";`) {
		t.Errorf("ExportHTML without a head:\n%s", plain)
	}
}
